#include "engine/core/time.hpp"

#include <cstdio>

#include <date/date.h>

#include <sstream>

#include "engine/core/error.hpp"

namespace casekit {

Instant SystemClock::now() const {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

namespace {

// Writes `value` as exactly `width` digits ending just before `end`.
void put_digits(char* end, unsigned value, int width) {
  for (int i = 0; i < width; ++i) {
    *--end = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

}  // namespace

// Formatted by hand rather than with date::format (a stream per call) or snprintf: the
// engine stamps every row it writes, so this is on the hot path of every activation. Years
// outside 0-9999 never occur in practice; they take the slow path.
std::string format_instant(Instant t) {
  const Date day = std::chrono::floor<std::chrono::days>(t);
  const date::year_month_day ymd(day);
  const date::hh_mm_ss hms(t - day);
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) {
    char out[48];
    std::snprintf(out, sizeof out, "%04d-%02u-%02uT%02d:%02d:%02dZ", year,
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return out;
  }
  std::string out = "0000-00-00T00:00:00Z";
  char* p = out.data();
  put_digits(p + 4, static_cast<unsigned>(year), 4);
  put_digits(p + 7, static_cast<unsigned>(ymd.month()), 2);
  put_digits(p + 10, static_cast<unsigned>(ymd.day()), 2);
  put_digits(p + 13, static_cast<unsigned>(hms.hours().count()), 2);
  put_digits(p + 16, static_cast<unsigned>(hms.minutes().count()), 2);
  put_digits(p + 19, static_cast<unsigned>(hms.seconds().count()), 2);
  return out;
}

std::string format_date(Date d) {
  const date::year_month_day ymd(d);
  char out[16];
  std::snprintf(out, sizeof out, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return out;
}

namespace {

bool digits_at(std::string_view s, size_t pos, size_t count) {
  if (s.size() < pos + count) return false;
  for (size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

// The shape check matters: date::parse accepts "2026-1-2" and trailing junk.
bool date_shaped(std::string_view s) {
  return s.size() >= 10 && digits_at(s, 0, 4) && s[4] == '-' && digits_at(s, 5, 2) && s[7] == '-' &&
         digits_at(s, 8, 2);
}

}  // namespace

bool is_date(std::string_view text) {
  if (text.size() != 10 || !date_shaped(text)) return false;
  const int y = std::stoi(std::string(text.substr(0, 4)));
  const unsigned m = std::stoi(std::string(text.substr(5, 2)));
  const unsigned d = std::stoi(std::string(text.substr(8, 2)));
  return date::year_month_day{date::year{y}, date::month{m}, date::day{d}}.ok();
}

Date parse_date(std::string_view text) {
  if (!is_date(text)) {
    throw Error(ErrorCode::bad_argument, "not a date (YYYY-MM-DD): '" + std::string(text) + "'");
  }
  const int y = std::stoi(std::string(text.substr(0, 4)));
  const unsigned m = std::stoi(std::string(text.substr(5, 2)));
  const unsigned d = std::stoi(std::string(text.substr(8, 2)));
  return date::sys_days{date::year_month_day{date::year{y}, date::month{m}, date::day{d}}};
}

Instant parse_instant(std::string_view text) {
  if (text.size() == 10) return parse_date(text);
  const bool shaped = text.size() == 20 && date_shaped(text) && text[10] == 'T' &&
                      digits_at(text, 11, 2) && text[13] == ':' && digits_at(text, 14, 2) &&
                      text[16] == ':' && digits_at(text, 17, 2) && text[19] == 'Z';
  if (!shaped || !is_date(text.substr(0, 10))) {
    throw Error(ErrorCode::bad_argument,
                "not a UTC instant (YYYY-MM-DDTHH:MM:SSZ): '" + std::string(text) + "'");
  }
  const int h = std::stoi(std::string(text.substr(11, 2)));
  const int mi = std::stoi(std::string(text.substr(14, 2)));
  const int s = std::stoi(std::string(text.substr(17, 2)));
  if (h > 23 || mi > 59 || s > 59) {
    throw Error(ErrorCode::bad_argument, "time of day out of range: '" + std::string(text) + "'");
  }
  return parse_date(text.substr(0, 10)) + std::chrono::hours{h} + std::chrono::minutes{mi} +
         std::chrono::seconds{s};
}

Date add_days(Date d, long days) {
  return d + date::days{days};
}

Date add_months(Date d, long months) {
  date::year_month_day ymd{d};
  date::year_month_day moved = ymd + date::months{months};
  if (!moved.ok()) moved = moved.year() / moved.month() / date::last;
  return date::sys_days{moved};
}

}  // namespace casekit
