// Lua module `exceptions`: the daily report of casegroups the phase-2 transition could not
// take in, for the scheduled job that hands them to the team leader.
#include "bindings/modules.hpp"

namespace casekit::lua {
namespace {

int w_report(Args& a) {
  Engine& engine = host(a.L).engine;
  const std::string date = a.none(1) ? format_date(engine.clock.today()) : a.date(1, "date");
  const auto entries = engine.exceptions.report(date);
  push_list(a.L, entries, [&](const TransitionException& x) {
    lua_createtable(a.L, 0, 3);
    set_field(a.L, "id", x.id);
    set_field(a.L, "csa_ref", x.csa_ref);
    set_field(a.L, "reason", x.reason);
  });
  return 1;
}

const Function kFunctions[] = {
    {"report", entry<w_report>, "exceptions.report(date=today) -> {{id=, csa_ref=, reason=}}",
     "The exceptions report for a day: each extract row the transition could not take in, "
     "with its CSA reference (nil when the row had none) and the reason."},
};

}  // namespace

const Module kExceptionsModule{
    "exceptions", "The daily transition exceptions report.", kFunctions, {}};

}  // namespace casekit::lua
