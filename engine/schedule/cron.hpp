// Cron expressions: the 5-field Vixie syntax, evaluated in an IANA time zone with cronie's
// handling of daylight saving.
//
//   minute hour day-of-month month day-of-week
//
// Fields take lists (1,15), ranges (1-5), steps (*/15, 10-40/15), month and day names
// (jan, mon), and 0 or 7 for Sunday. As in Vixie cron, when both day fields are
// restricted (neither starts with '*') a day matching either fires; otherwise both must.
//
// Daylight saving, as cronie does it: a fixed-time job (minute and hour both specific)
// whose local time falls in the spring-forward gap runs once, at the first instant after
// the gap; in the repeated autumn hour it runs once, at the first occurrence. A job with a
// wildcard minute or hour follows the clock: nothing in the gap, both occurrences of the
// repeated hour.
#pragma once

#include <bitset>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/time.hpp"

namespace date {
class time_zone;
}

namespace casekit {

class CronExpression {
 public:
  // Throws bad_argument naming the field at fault.
  static CronExpression parse(std::string_view text);

  // The next `count` firing instants strictly after `after`, in order. None if the
  // expression never fires (0 0 30 2 *); fewer than `count` only when the search reaches
  // the end of the year 9999.
  std::vector<Instant> next(Instant after, const date::time_zone& zone, int count) const;

  const std::string& text() const { return text_; }

 private:
  bool matches_day(int day_of_month, unsigned month, unsigned weekday) const;
  bool fixed_time() const { return !minute_star_ && !hour_star_; }

  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1-31
  std::bitset<13> months_;   // 1-12
  std::bitset<8> weekdays_;  // 0-6, Sunday is 0 (7 is folded into 0)
  bool minute_star_ = false;
  bool hour_star_ = false;
  bool day_star_ = false;
  bool weekday_star_ = false;
};

// The IANA zone with this name (Europe/London); bad_argument if there is none.
const date::time_zone& time_zone_named(std::string_view name);

}  // namespace casekit
