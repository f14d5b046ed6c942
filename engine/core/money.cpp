#include "engine/core/money.hpp"

#include <charconv>

#include "engine/core/error.hpp"

namespace casekit::money {
namespace {

[[noreturn]] void overflow(const char* op) {
  throw Error(ErrorCode::invalid, std::string("money overflow in ") + op);
}

}  // namespace

Pence add(Pence a, Pence b) {
  Pence r;
  if (__builtin_add_overflow(a, b, &r)) overflow("add");
  return r;
}

Pence sub(Pence a, Pence b) {
  Pence r;
  if (__builtin_sub_overflow(a, b, &r)) overflow("sub");
  return r;
}

Pence mul(Pence a, std::int64_t factor) {
  Pence r;
  if (__builtin_mul_overflow(a, factor, &r)) overflow("mul");
  return r;
}

Pence sum(std::span<const Pence> amounts) {
  Pence total = 0;
  for (Pence p : amounts) total = add(total, p);
  return total;
}

std::int64_t div_ceil(Pence a, std::int64_t divisor) {
  if (divisor <= 0) throw Error(ErrorCode::bad_argument, "div_ceil: divisor must be positive");
  std::int64_t q = a / divisor;
  if (a % divisor != 0 && a > 0) ++q;
  return q;
}

std::string format(Pence amount) {
  // Work in unsigned so that INT64_MIN formats rather than overflowing on negation.
  const bool negative = amount < 0;
  const std::uint64_t magnitude =
      negative ? ~static_cast<std::uint64_t>(amount) + 1 : static_cast<std::uint64_t>(amount);
  std::string pounds = std::to_string(magnitude / 100);
  for (int i = static_cast<int>(pounds.size()) - 3; i > 0; i -= 3) pounds.insert(i, ",");
  const unsigned pennies = magnitude % 100;
  std::string out = negative ? "-£" : "£";
  out += pounds;
  out += '.';
  out += static_cast<char>('0' + pennies / 10);
  out += static_cast<char>('0' + pennies % 10);
  return out;
}

Pence parse_pence(std::string_view text) {
  Pence value = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  auto [end, ec] = std::from_chars(first, last, value);
  if (text.empty() || ec != std::errc() || end != last) {
    throw Error(ErrorCode::bad_argument,
                "not a whole number of pence: '" + std::string(text) + "'");
  }
  return value;
}

}  // namespace casekit::money
