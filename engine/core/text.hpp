// Text as people search for it: names compared without regard to case or accents.
#pragma once

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

}  // namespace casekit
