// The globals a procedure is written with: `procedure{}` declares it, `wait{}` sleeps on the
// engine clock. They sit beside the standard ones in every sandbox environment
// (engine/runtime/sandbox_globals.cpp puts them there); wait{} is a wait as task.await is
// (call_wait, bindings/dispatch.cpp).
#include "bindings/history.hpp"
#include "bindings/modules.hpp"

namespace casekit::lua {
namespace {

// procedure{name=, run=, ...}: checks the declaration and returns it.
int w_procedure(Args& a) {
  a.table(1, "declaration");
  const std::string name = a.field_string(1, "name");
  if (name.empty()) a.fail_field(1, "name", "must not be empty");
  lua_getfield(a.L, 1, "run");
  const bool is_function = lua_isfunction(a.L, -1);
  lua_pop(a.L, 1);
  if (!is_function) a.fail_field(1, "run", "function(ctx) expected");
  lua_settop(a.L, 1);
  return 1;
}

PendingWait w_wait(Args& a) {
  // `until` is a Lua keyword, so wait{until = d} does not parse; wait{["until"] = d} does,
  // and wait{at = d} says the same more readably.
  a.table(1, "spec");
  const auto days = a.opt_field_integer(1, "days");
  auto until = a.opt_field_string(1, "until");
  const auto at = a.opt_field_string(1, "at");
  if (int(days.has_value()) + int(until.has_value()) + int(at.has_value()) != 1) {
    a.fail(1, "spec", "give exactly one of days, at");
  }
  if (at) until = at;
  PendingWait w;
  w.kind = "timer";
  if (days) {
    w.wake_at = days_from_now(a, 1, "days", *days);
  } else if (is_date(*until)) {
    w.wake_at = Instant(parse_date(*until));
  } else {
    try {
      w.wake_at = parse_instant(*until);
    } catch (const Error&) {
      a.fail_field(1, at ? "at" : "until",
                   "date YYYY-MM-DD or instant YYYY-MM-DDTHH:MM:SSZ expected");
    }
  }
  return w;
}

constexpr Key kDeclarationKeys[] = {{"name", "string"},
                                    {"run", "function(ctx)"},
                                    {"description", "string"},
                                    {"sr", "string"},
                                    {"params", "table"}};
constexpr Key kWaitKeys[] = {
    {"days", "integer"}, {"until", "date or instant"}, {"at", "date or instant"}};

// Declared as the modules' functions are, so Args checks their tables the same way; the
// sandbox's table of globals documents them (engine/runtime/sandbox_globals.cpp).
const Function kProcedureGlobal{
    "procedure",  entry<w_procedure>, "procedure{} -> declaration", "Declares a procedure.",
    Replay::pure, kDeclarationKeys};
const Function kWaitGlobal{
    "wait",         wait_entry<w_wait>, "wait{} -> {fired_at=}", "Waits on the engine clock.",
    Replay::record, kWaitKeys};

}  // namespace

void open_procedure_globals(lua_State* L, int env) {
  env = lua_absindex(L, env);
  for (const Function* f : {&kProcedureGlobal, &kWaitGlobal}) {
    push_function(L, f->name, *f);
    lua_setfield(L, env, f->name);
  }
}

}  // namespace casekit::lua
