// Cron against hand-checked tables. Europe/London in 2026: clocks go forward at 01:00 UTC
// on 29 March (01:00 GMT becomes 02:00 BST) and back at 01:00 UTC on 25 October (02:00 BST
// becomes 01:00 GMT); in 2027 on 28 March and 31 October.
#include "engine/schedule/cron.hpp"
#include "engine/core/error.hpp"
#include "test_support.hpp"

using namespace casekit;

namespace {

std::vector<std::string> next(const std::string& expr, const std::string& after, int count,
                              const std::string& zone = "Europe/London") {
  std::vector<std::string> out;
  for (Instant t :
       CronExpression::parse(expr).next(parse_instant(after), time_zone_named(zone), count)) {
    out.push_back(format_instant(t));
  }
  return out;
}

using List = std::vector<std::string>;

}  // namespace

TEST_CASE("cron: fields, lists, ranges, steps and names") {
  CHECK(next("*/15 * * * *", "2026-11-20T09:07:00Z", 3, "UTC") ==
        List{"2026-11-20T09:15:00Z", "2026-11-20T09:30:00Z", "2026-11-20T09:45:00Z"});
  CHECK(next("10-40/15 9 * * *", "2026-11-20T00:00:00Z", 4, "UTC") ==
        List{"2026-11-20T09:10:00Z", "2026-11-20T09:25:00Z", "2026-11-20T09:40:00Z",
             "2026-11-21T09:10:00Z"});
  // 5/20 runs from 5 to the end of the range
  CHECK(next("5/20 0 * * *", "2026-11-20T00:00:00Z", 3, "UTC") ==
        List{"2026-11-20T00:05:00Z", "2026-11-20T00:25:00Z", "2026-11-20T00:45:00Z"});
  CHECK(next("0 9 1,15 * *", "2026-11-20T00:00:00Z", 3, "UTC") ==
        List{"2026-12-01T09:00:00Z", "2026-12-15T09:00:00Z", "2027-01-01T09:00:00Z"});
  // 1 January 2027 is a Friday, 4 January the next weekday
  CHECK(next("0 6 * JAN,jul mon-fri", "2026-11-20T00:00:00Z", 2, "UTC") ==
        List{"2027-01-01T06:00:00Z", "2027-01-04T06:00:00Z"});
  // Sunday is 0, 7 or sun
  const List sundays{"2026-11-22T00:00:00Z", "2026-11-29T00:00:00Z"};
  CHECK(next("0 0 * * 0", "2026-11-20T00:00:00Z", 2, "UTC") == sundays);
  CHECK(next("0 0 * * 7", "2026-11-20T00:00:00Z", 2, "UTC") == sundays);
  CHECK(next("0 0 * * Sun", "2026-11-20T00:00:00Z", 2, "UTC") == sundays);
  // strictly after
  CHECK(next("0 9 * * *", "2026-11-20T09:00:00Z", 1, "UTC") == List{"2026-11-21T09:00:00Z"});
}

TEST_CASE("cron: both day fields restricted means either, a star in one means both") {
  // The 15th, or any Friday: Fri 6, Fri 13, Sun 15, Fri 20 November 2026.
  CHECK(next("0 12 15 * fri", "2026-11-01T00:00:00Z", 4, "UTC") ==
        List{"2026-11-06T12:00:00Z", "2026-11-13T12:00:00Z", "2026-11-15T12:00:00Z",
             "2026-11-20T12:00:00Z"});
  // */2 starts with '*', so Vixie treats the day of month as unrestricted: odd days AND Monday.
  CHECK(next("0 0 */2 * mon", "2026-11-01T00:00:00Z", 3, "UTC") ==
        List{"2026-11-09T00:00:00Z", "2026-11-23T00:00:00Z", "2026-12-07T00:00:00Z"});
  // 29 February, or any Monday: either suffices.
  CHECK(next("0 0 29 2 mon", "2026-11-20T00:00:00Z", 1, "UTC") == List{"2027-02-01T00:00:00Z"});
  CHECK(next("0 0 29 2 *", "2026-11-20T00:00:00Z", 2, "UTC") ==
        List{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"});
  CHECK(next("0 0 30 2 *", "2026-11-20T00:00:00Z", 1, "UTC").empty());
}

TEST_CASE("cron: rare instants are all found, however far apart the count spreads them") {
  // Ten leap days run 36 years: more than the 30 searched past each one.
  const auto leap_days = next("0 0 29 2 *", "2026-11-20T00:00:00Z", 10, "UTC");
  REQUIRE(leap_days.size() == 10);
  CHECK(leap_days.front() == "2028-02-29T00:00:00Z");
  CHECK(leap_days.back() == "2064-02-29T00:00:00Z");
  // 2100 is not a leap year: the longest gap there is, eight years.
  CHECK(next("0 0 29 2 *", "2095-01-01T00:00:00Z", 2, "UTC") ==
        List{"2096-02-29T00:00:00Z", "2104-02-29T00:00:00Z"});
  // The search ends with the year 9999: fewer than asked for, and no more.
  CHECK(next("0 0 29 2 *", "9990-01-01T00:00:00Z", 8, "UTC") ==
        List{"9992-02-29T00:00:00Z", "9996-02-29T00:00:00Z"});
}

TEST_CASE("cron: spring forward in Europe/London, 2026 and 2027") {
  // 01:30 does not exist on 29 March 2026: a fixed-time job runs once when the gap ends.
  CHECK(next("30 1 * * *", "2026-03-28T12:00:00Z", 3) ==
        List{"2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z"});
  // Two fixed times in the gap still run once.
  CHECK(next("0,30 1 * * *", "2026-03-28T12:00:00Z", 3) ==
        List{"2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z", "2026-03-30T00:30:00Z"});
  // 02:00 is after the gap: it exists.
  CHECK(next("0 2 * * *", "2027-03-27T12:00:00Z", 2) ==
        List{"2027-03-28T01:00:00Z", "2027-03-29T01:00:00Z"});
  // A wildcard job follows the clock: nothing in the missing hour.
  CHECK(next("*/30 * * * *", "2027-03-28T00:00:00Z", 3) ==
        List{"2027-03-28T00:30:00Z", "2027-03-28T01:00:00Z", "2027-03-28T01:30:00Z"});
  // Before and after the change, 09:00 local is 09:00 then 08:00 UTC.
  CHECK(next("0 9 * * *", "2026-03-28T00:00:00Z", 2) ==
        List{"2026-03-28T09:00:00Z", "2026-03-29T08:00:00Z"});
}

TEST_CASE("cron: fall back in Europe/London, 2026 and 2027") {
  // 01:30 happens twice on 25 October 2026: a fixed-time job runs at the first only.
  CHECK(next("30 1 * * *", "2026-10-24T12:00:00Z", 3) ==
        List{"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z", "2026-10-27T01:30:00Z"});
  CHECK(next("15 1 * * 0", "2027-10-30T00:00:00Z", 2) ==
        List{"2027-10-31T00:15:00Z", "2027-11-07T01:15:00Z"});
  // A wildcard job runs in both occurrences of the repeated hour.
  CHECK(next("*/30 1 * * *", "2026-10-24T12:00:00Z", 4) ==
        List{"2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z",
             "2026-10-25T01:30:00Z"});
  CHECK(next("0 * * * *", "2027-10-30T23:30:00Z", 4) ==
        List{"2027-10-31T00:00:00Z", "2027-10-31T01:00:00Z", "2027-10-31T02:00:00Z",
             "2027-10-31T03:00:00Z"});
}

TEST_CASE("cron: a bad expression names the bad field") {
  auto error_of = [](const std::string& expr) {
    try {
      CronExpression::parse(expr);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of("61 * * * *") == "minute field '61': 61 is out of range (0-59)");
  CHECK(error_of("0 24 * * *") == "hour field '24': 24 is out of range (0-23)");
  CHECK(error_of("0 0 0 * *") == "day-of-month field '0': 0 is out of range (1-31)");
  CHECK(error_of("0 0 * foo *") == "month field 'foo': unknown name 'foo'");
  CHECK(error_of("0 0 * * 8") == "day-of-week field '8': 8 is out of range (0-7)");
  CHECK(error_of("*/0 * * * *") == "minute field '*/0': step '0' must be a positive number");
  CHECK(error_of("5-1 * * * *") == "minute field '5-1': range 5-1 runs backwards");
  CHECK(error_of("1,,2 * * * *") == "minute field '1,,2': empty list item");
  CHECK(error_of("x * * * *") == "minute field 'x': unknown name 'x'");
  CHECK_THAT(error_of("* * * *"), Catch::Contains("needs 5 fields"));
  CHECK_THAT(error_of("* * * * * *"), Catch::Contains("got 6"));
  CHECK_THROWS_WITH(time_zone_named("Mars/Olympus"),
                    Catch::Contains("unknown time zone 'Mars/Olympus'"));
}
