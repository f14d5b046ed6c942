#include "engine/schedule/cron.hpp"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <set>
#include <span>

#include "engine/core/error.hpp"

namespace casekit {
namespace {

struct FieldSpec {
  const char* name;
  int min;
  int max;
  std::span<const char* const> names;  // names[i] stands for min + i
};

constexpr const char* kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr const char* kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

constexpr FieldSpec kFields[] = {
    {"minute", 0, 59, {}},
    {"hour", 0, 23, {}},
    {"day-of-month", 1, 31, {}},
    {"month", 1, 12, kMonthNames},
    {"day-of-week", 0, 7, kDayNames},
};

[[noreturn]] void field_error(const FieldSpec& f, std::string_view text, const std::string& why) {
  throw Error(ErrorCode::bad_argument,
              std::string(f.name) + " field '" + std::string(text) + "': " + why);
}

int parse_value(const FieldSpec& f, std::string_view field, std::string_view token) {
  if (token.empty()) field_error(f, field, "empty value");
  if (std::isalpha(static_cast<unsigned char>(token.front()))) {
    std::string lower(token);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (size_t i = 0; i < f.names.size(); ++i) {
      if (lower == f.names[i]) return f.min + static_cast<int>(i);
    }
    field_error(f, field, "unknown name '" + std::string(token) + "'");
  }
  int value = 0;
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (ec != std::errc() || end != token.data() + token.size()) {
    field_error(f, field, "'" + std::string(token) + "' is not a number");
  }
  if (value < f.min || value > f.max) {
    field_error(f, field,
                std::to_string(value) + " is out of range (" + std::to_string(f.min) + "-" +
                    std::to_string(f.max) + ")");
  }
  return value;
}

// Sets bits[v] for every value the field text selects.
template <size_t N>
void parse_field(const FieldSpec& f, std::string_view text, std::bitset<N>& bits) {
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    std::string_view item = text.substr(start, comma - start);
    if (item.empty()) field_error(f, text, "empty list item");
    int step = 1;
    if (const size_t slash = item.find('/'); slash != std::string_view::npos) {
      const std::string_view step_text = item.substr(slash + 1);
      auto [end, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
      if (ec != std::errc() || end != step_text.data() + step_text.size() || step <= 0) {
        field_error(f, text, "step '" + std::string(step_text) + "' must be a positive number");
      }
      item = item.substr(0, slash);
    }
    int low = f.min;
    int high = f.max;
    if (item != "*") {
      const size_t dash = item.find('-');
      low = parse_value(f, text, item.substr(0, dash));
      high = dash == std::string_view::npos ? low : parse_value(f, text, item.substr(dash + 1));
      // "5/10" means 5, 15, 25, ... to the end of the range, as in Vixie cron.
      if (dash == std::string_view::npos && step != 1) high = f.max;
      if (high < low) field_error(f, text, "range " + std::string(item) + " runs backwards");
    }
    for (int v = low; v <= high; v += step) bits.set(static_cast<size_t>(v));
    start = comma + 1;
  }
}

std::vector<std::string_view> split_fields(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    const size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

// How long after the start, or after the last instant found, next() searches before
// concluding that the expression never fires. An expression that fires at all fires again
// within 8 years: its days are a day of the month, a weekday, or either (never both at
// once, matches_day), and the rarest of those, 29 February, is at most 8 years apart (2096
// to 2104). So 30 years is ample, and is measured from each find, so counting many rare
// instants is not cut short.
constexpr int kHorizonDays = 366 * 30;

// The search stops at the end of 9999: instants are written with four-digit years.
constexpr date::local_days kLastDay{date::year{9999} / date::December / 31};

}  // namespace

CronExpression CronExpression::parse(std::string_view text) {
  const auto fields = split_fields(text);
  if (fields.size() != 5) {
    throw Error(ErrorCode::bad_argument,
                "cron expression '" + std::string(text) +
                    "' needs 5 fields (minute hour day-of-month month day-of-week), got " +
                    std::to_string(fields.size()));
  }
  CronExpression e;
  e.text_ = std::string(text);
  parse_field(kFields[0], fields[0], e.minutes_);
  parse_field(kFields[1], fields[1], e.hours_);
  parse_field(kFields[2], fields[2], e.days_);
  parse_field(kFields[3], fields[3], e.months_);
  std::bitset<8> weekdays;
  parse_field(kFields[4], fields[4], weekdays);
  if (weekdays.test(7)) weekdays.set(0);
  weekdays.reset(7);
  e.weekdays_ = weekdays;
  // Vixie cron decides "restricted" by the first character, so */2 counts as a star.
  e.minute_star_ = fields[0].front() == '*';
  e.hour_star_ = fields[1].front() == '*';
  e.day_star_ = fields[2].front() == '*';
  e.weekday_star_ = fields[4].front() == '*';
  return e;
}

bool CronExpression::matches_day(int day_of_month, unsigned month, unsigned weekday) const {
  if (!months_.test(month)) return false;
  const bool dom = days_.test(static_cast<size_t>(day_of_month));
  const bool dow = weekdays_.test(weekday);
  return (day_star_ || weekday_star_) ? (dom && dow) : (dom || dow);
}

std::vector<Instant> CronExpression::next(Instant after, const date::time_zone& zone,
                                          int count) const {
  using namespace std::chrono;
  std::set<Instant> found;  // ordered and de-duplicated (two gap times map to one instant)
  // Start a day early: the local date of `after` may be behind or ahead of its UTC date.
  const auto local_after = zone.to_local(after);
  date::local_days day = floor<days>(local_after) - days{1};
  int idle = 0;  // days searched since the start or the last find
  for (; idle < kHorizonDays && day <= kLastDay && static_cast<int>(found.size()) < count;
       ++idle, day += days{1}) {
    const date::year_month_day ymd{day};
    const unsigned weekday = date::weekday{day}.c_encoding();
    if (!matches_day(static_cast<int>(static_cast<unsigned>(ymd.day())),
                     static_cast<unsigned>(ymd.month()), weekday)) {
      continue;
    }
    for (int h = 0; h < 24; ++h) {
      if (!hours_.test(static_cast<size_t>(h))) continue;
      for (int m = 0; m < 60; ++m) {
        if (!minutes_.test(static_cast<size_t>(m))) continue;
        const date::local_seconds local = day + hours{h} + minutes{m};
        const date::local_info info = zone.get_info(local);
        std::array<Instant, 2> instants{};
        int n = 0;
        switch (info.result) {
          case date::local_info::unique:
            instants[n++] = Instant{local.time_since_epoch() - info.first.offset};
            break;
          case date::local_info::nonexistent:
            // In the spring-forward gap: a fixed-time job runs when the gap ends.
            if (fixed_time()) instants[n++] = floor<seconds>(info.second.begin);
            break;
          case date::local_info::ambiguous:
            instants[n++] = Instant{local.time_since_epoch() - info.first.offset};
            if (!fixed_time())
              instants[n++] = Instant{local.time_since_epoch() - info.second.offset};
            break;
        }
        for (int k = 0; k < n; ++k) {
          if (instants[k] > after && found.insert(instants[k]).second) idle = 0;
        }
      }
    }
  }
  std::vector<Instant> out(found.begin(), found.end());
  if (static_cast<int>(out.size()) > count) out.resize(static_cast<size_t>(count));
  return out;
}

const date::time_zone& time_zone_named(std::string_view name) {
  try {
    return *date::locate_zone(name);
  } catch (const std::runtime_error&) {
    throw Error(ErrorCode::bad_argument, "unknown time zone '" + std::string(name) +
                                             "' (use an IANA name such as Europe/London)");
  }
}

}  // namespace casekit
