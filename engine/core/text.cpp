#include "engine/core/text.hpp"

#include <charconv>
#include <cstdint>

#include "engine/core/error.hpp"

namespace casekit {
namespace {

// U+00C0 to U+00FF, and U+0100 to U+017F: the letter each folds to ('*' for the few that
// fold to two letters or are not letters at all, handled in fold_latin).
constexpr std::string_view kLatin1 =
    "aaaaaa*ceeeeiiiidnooooo*ouuuuy**aaaaaa*ceeeeiiiidnooooo*ouuuuy*y";
constexpr std::string_view kExtendedA =
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii**jjkkkllllllllllnnnnnnnnnoooooo**rrrrrr"
    "ssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";
static_assert(kLatin1.size() == 64 && kExtendedA.size() == 128);

// The folded text of one code point from U+00C0 to U+017F, or empty when it is kept.
std::string_view fold_latin(std::uint32_t cp) {
  switch (cp) {
    case 0xC6:
    case 0xE6:
      return "ae";
    case 0xDE:
    case 0xFE:
      return "th";
    case 0xDF:
      return "ss";
    case 0x132:
    case 0x133:
      return "ij";
    case 0x152:
    case 0x153:
      return "oe";
    case 0xD7:
    case 0xF7:
      return {};
    default:
      break;
  }
  if (cp >= 0xC0 && cp <= 0xFF) return kLatin1.substr(cp - 0xC0, 1);
  if (cp >= 0x100 && cp <= 0x17F) return kExtendedA.substr(cp - 0x100, 1);
  return {};
}

// Decodes the two-byte UTF-8 sequence at `at`, or returns 0 when it is not one.
std::uint32_t two_byte(std::string_view s, std::size_t at) {
  if (at + 1 >= s.size()) return 0;
  const auto a = static_cast<unsigned char>(s[at]);
  const auto b = static_cast<unsigned char>(s[at + 1]);
  if ((a & 0xE0) != 0xC0 || (b & 0xC0) != 0x80) return 0;
  return ((a & 0x1Fu) << 6) | (b & 0x3Fu);
}

}  // namespace

std::string fold_name(std::string_view name) {
  std::string out;
  bool space = false;
  for (std::size_t i = 0; i < name.size();) {
    const char c = name[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
      ++i;
      continue;
    }
    if (space) out += ' ';
    space = false;
    if (const std::uint32_t cp = two_byte(name, i); cp >= 0xC0 && cp <= 0x17F) {
      const std::string_view folded = fold_latin(cp);
      if (folded.empty()) {
        out.append(name.substr(i, 2));
      } else {
        out.append(folded);
      }
      i += 2;
      continue;
    }
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    ++i;
  }
  return out;
}

std::vector<std::string> name_keys(std::string_view name) {
  const std::string folded = fold_name(name);
  std::vector<std::string> keys;
  if (folded.empty()) return keys;
  keys.push_back(folded);
  for (std::size_t at = folded.find(' '); at != std::string::npos; at = folded.find(' ', at + 1)) {
    keys.push_back(folded.substr(at + 1));
  }
  return keys;
}

std::string prefix_end(std::string prefix) {
  while (!prefix.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(prefix.back());
    if (last < 0xFF) {
      ++last;
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;
}

std::optional<std::int64_t> positive_number(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

std::string with_article(std::string_view word) {
  const bool vowel =
      !word.empty() && std::string_view("aeiouAEIOU").find(word[0]) != std::string_view::npos;
  return (vowel ? "an " : "a ") + std::string(word);
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> out;
  for (std::size_t at = 0;;) {
    const auto end = text.find(separator, at);
    out.emplace_back(
        text.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at));
    if (end == std::string_view::npos) return out;
    at = end + 1;
  }
}

std::int64_t whole_number(const std::string& name, std::string_view text) {
  const auto value = positive_number(text);
  if (!value) throw Error(ErrorCode::bad_argument, name + " must be a whole number above 0");
  return *value;
}

}  // namespace casekit
