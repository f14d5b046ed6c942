// Lua module `cra`: the credit reference agency as arrears negotiation (source 000) searches
// it. A refusal is an answer ({ok = false, message = ...}) for the procedure to branch on
// (engine/domain/cra.hpp).
#include "bindings/modules.hpp"

namespace casekit::lua {
namespace {

int w_search(Args& a) {
  const CraAnswer answer = host(a.L).engine.cra.search(a.object_or_id(1, kClientType, "client"));
  lua_createtable(a.L, 0, 2);
  set_field(a.L, "ok", answer.ok);
  set_field(a.L, "message", answer.message);
  return 1;
}

const Function kFunctions[] = {
    {"search", entry<w_search>, "cra.search(client) -> {ok=, message=}",
     "Searches the credit reference agency for the client's credit information (Search CRA). "
     "Refused (`ok` false, `message` why, no financial data) when the client has no "
     "confirmed address: the source asks for a Confirmed Permanent Residential address first.",
     Replay::record},
};

}  // namespace

const Module kCraModule{
    "cra", "The credit reference agency: credit information for negotiation.", kFunctions, {}};

}  // namespace casekit::lua
