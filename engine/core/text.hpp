// Text as people type it: names compared without regard to case or accents, and whole
// numbers read from a query or a form.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace casekit {

// Lower case, the accents of Latin letters taken off (é → e, Ł → l, ß → ss, Æ → ae), runs of
// spaces made one, and the ends trimmed. Letters outside Latin-1 and Latin Extended-A are
// kept as they are; malformed UTF-8 is kept byte for byte.
std::string fold_name(std::string_view name);

// The keys a name is found under by prefix: the folded name, and the folded name from each
// later word on ("daniel hughes", "hughes"), so that a surname finds it too.
std::vector<std::string> name_keys(std::string_view name);

// The first string after every string that starts with `prefix`, for a range scan
// (key >= prefix AND key < prefix_end(prefix)). Empty when there is none.
std::string prefix_end(std::string prefix);

// Text that is all digits and above 0, as a number; none otherwise (a sign, a space, a
// fraction, an overflow).
std::optional<std::int64_t> positive_number(std::string_view text);
// The same, for a value named `name` (a query parameter, a filter): bad_argument otherwise.
std::int64_t whole_number(const std::string& name, std::string_view text);

// The pieces of `text` between each `separator`: "a,b," is {"a", "b", ""}, "" is {""}.
std::vector<std::string> split(std::string_view text, char separator);

// "a caseworker", "an operator": a word (a role, say) with its indefinite article.
std::string with_article(std::string_view word);

}  // namespace casekit
