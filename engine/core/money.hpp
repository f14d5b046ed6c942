// Money is a count of pence in a signed 64-bit integer. Every arithmetic step is checked:
// a wrapped total in a ledger is worse than a refused one.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace casekit {

using Pence = std::int64_t;

namespace money {

Pence add(Pence a, Pence b);
Pence sub(Pence a, Pence b);
Pence mul(Pence a, std::int64_t factor);
Pence sum(std::span<const Pence> amounts);
// Rounds towards positive infinity; divisor must be positive.
std::int64_t div_ceil(Pence a, std::int64_t divisor);
// -123456 -> "-£1,234.56"
std::string format(Pence amount);
// Parses a decimal count of pence ("125000"); refuses signs other than '-', fractions,
// exponents and anything out of range. Used for CLI and extract input.
Pence parse_pence(std::string_view text);

}  // namespace money
}  // namespace casekit
