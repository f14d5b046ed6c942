// Lua module `clock`: the engine's clock, real or simulated. Scripts never see the system
// clock, so a simulated run is reproducible.
#include "bindings/modules.hpp"

namespace casekit::lua {
namespace {

const Clock& engine_clock(Args& a) {
  return host(a.L).engine.clock;
}

int w_now(Args& a) {
  push_string(a.L, format_instant(engine_clock(a).now()));
  return 1;
}

int w_today(Args& a) {
  push_string(a.L, format_date(engine_clock(a).today()));
  return 1;
}

// Not a string is not a date either: a work item's empty field is nil.
int w_is_date(Args& a) {
  lua_pushboolean(a.L, lua_type(a.L, 1) == LUA_TSTRING && is_date(lua_tostring(a.L, 1)));
  return 1;
}

int w_add_days(Args& a) {
  const Date d = parse_date(a.date(1, "date"));
  const std::int64_t n = a.integer(2, "days");
  if (n < -100000 || n > 100000) a.fail(2, "days", "out of range");
  push_string(a.L, format_date(add_days(d, static_cast<long>(n))));
  return 1;
}

int w_add_months(Args& a) {
  const Date d = parse_date(a.date(1, "date"));
  const std::int64_t n = a.integer(2, "months");
  if (n < -12000 || n > 12000) a.fail(2, "months", "out of range");
  push_string(a.L, format_date(add_months(d, static_cast<long>(n))));
  return 1;
}

int w_days_between(Args& a) {
  const Date from = parse_date(a.date(1, "from"));
  const Date to = parse_date(a.date(2, "to"));
  lua_pushinteger(a.L, (to - from).count());
  return 1;
}

const Function kFunctions[] = {
    {"now", entry<w_now>, "clock.now() -> string", "Current instant, '2026-11-22T09:30:00Z'."},
    {"today", entry<w_today>, "clock.today() -> string", "Today's date (UTC), '2026-11-22'."},
    {"is_date", entry<w_is_date>, "clock.is_date(text) -> boolean",
     "Whether `text` is a real date written 'YYYY-MM-DD' (so '2026-02-30' is not); false for "
     "anything that is not a string.",
     Replay::pure},
    {"add_days", entry<w_add_days>, "clock.add_days(date, n) -> string", "Calendar days later.",
     Replay::pure},
    {"add_months", entry<w_add_months>, "clock.add_months(date, n) -> string",
     "Calendar months later; the 31st becomes the month's last day.", Replay::pure},
    {"days_between", entry<w_days_between>, "clock.days_between(from, to) -> integer",
     "Days from `from` to `to` (negative if `to` is earlier).", Replay::pure},
};

}  // namespace

const Module kClockModule{"clock", "The engine clock and calendar arithmetic.", kFunctions, {}};

}  // namespace casekit::lua
