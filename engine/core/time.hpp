// Instants, calendar dates and the injected clock. Nothing in the engine reads the system
// clock except SystemClock: tests, demos and what-if runs substitute a simulated one.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace casekit {

using Instant = std::chrono::sys_seconds;
using Date = std::chrono::sys_days;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Instant now() const = 0;
  Date today() const { return std::chrono::floor<std::chrono::days>(now()); }
};

class SystemClock final : public Clock {
 public:
  Instant now() const override;
};

// A clock that moves only when told to.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(Instant start) : now_(start) {}
  Instant now() const override { return now_; }
  void set(Instant t) { now_ = t; }

 private:
  Instant now_;
};

// "2026-11-22T09:30:00Z"
std::string format_instant(Instant t);
// "2026-11-22"
std::string format_date(Date d);
// Accepts "2026-11-22T09:30:00Z" or a bare date "2026-11-22" (midnight UTC).
Instant parse_instant(std::string_view text);
// Strict "YYYY-MM-DD"; refuses 2026-02-30.
Date parse_date(std::string_view text);
bool is_date(std::string_view text);
Date add_days(Date d, long days);
// Calendar months; the day is clamped to the month's last day (31 Jan + 1 month = 28/29 Feb).
Date add_months(Date d, long months);

}  // namespace casekit
