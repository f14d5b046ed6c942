// Lua module `procedures`: starting procedure instances from a procedure (the phase-2
// transition hands a casegroup to arrears negotiation) or from a scheduled job (monitors).
// The instance is created in the caller's transaction and runs at the engine's next drain,
// so a caller that rolls back starts nothing.
#include "bindings/modules.hpp"

namespace casekit::lua {
namespace {

ProcedureStarter& starter(Args& a) {
  ProcedureStarter* s = host(a.L).procedures;
  if (!s) throw Error(ErrorCode::invalid, "procedures cannot be started from here");
  return *s;
}

int w_exists(Args& a) {
  lua_pushboolean(a.L, starter(a).procedure_exists(a.string(1, "name")));
  return 1;
}

constexpr Key kStartKeys[] = {
    {"name", "string"}, {"casegroup", "Casegroup or id"}, {"params", "table"}};

int w_start(Args& a) {
  a.table(1, "spec");
  const std::string name = a.field_string(1, "name");
  const auto casegroup = a.opt_field_object(1, "casegroup", kCasegroupType);
  const auto params = a.opt_field_string_map(1, "params");
  lua_pushinteger(a.L, starter(a).create_instance(name, casegroup, params, host(a.L).actor));
  return 1;
}

const Function kFunctions[] = {
    {"exists", entry<w_exists>, "procedures.exists(name) -> boolean",
     "Whether procedures/NAME.lua exists, so a procedure can hand work to another that may "
     "not have been written yet."},
    {"start", entry<w_start>, "procedures.start{} -> integer",
     "Starts an instance of procedure `name` on `casegroup` (optional) with string `params` "
     "(its ctx.params) and returns the instance id. The instance is stored with the caller's "
     "other changes and runs once they commit; an error if the procedure does not exist or "
     "does not load.",
     Replay::record, kStartKeys},
};

}  // namespace

const Module kProceduresModule{
    "procedures", "Starting other procedures' instances.", kFunctions, {}};

}  // namespace casekit::lua
