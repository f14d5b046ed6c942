// Lua module `cis`: the Customer Information System as the phase-2 transition (source 002)
// uses it. A refusal from CIS is an answer ({ok = false, message = ...}) for the procedure to
// branch on (engine/domain/cis.hpp).
#include "bindings/modules.hpp"

namespace casekit::lua {
namespace {

void push_answer(lua_State* L, const CisAnswer& a) {
  lua_createtable(L, 0, 3);
  set_field(L, "ok", a.ok);
  set_field(L, "message", a.message);
  set_field(L, "benefit_status", a.benefit_status);
}

CisInterface& cis(Args& a) {
  return host(a.L).engine.cis;
}

constexpr Key kVerifyKeys[] = {
    {"client", "Client or id"}, {"casegroup", "Casegroup or id"}, {"role", "string"}};

int w_verify(Args& a) {
  a.table(1, "request");
  const Id client = a.field_object(1, "client", kClientType);
  const Id casegroup = a.field_object(1, "casegroup", kCasegroupType);
  push_answer(a.L, cis(a).verify(client, casegroup, a.field_string(1, "role")));
  return 1;
}

int w_benefit_details(Args& a) {
  push_answer(a.L, cis(a).benefit_details(a.object_or_id(1, kClientType, "client")));
  return 1;
}

const Function kFunctions[] = {
    {"verify", entry<w_verify>, "cis.verify{} -> {ok=, message=}",
     "Verifies the client on CIS and inputs CMS's interest flag on their record for the "
     "casegroup, as `role` \"applicant\" (a receiving parent) or \"other_party\" (the paying "
     "parent). Refused (`ok` false, `message` why) when CIS cannot verify them, for one when "
     "they have no NINO.",
     Replay::record, kVerifyKeys},
    {"benefit_details", entry<w_benefit_details>,
     "cis.benefit_details(client) -> {ok=, message=, benefit_status=}",
     "The client's benefit details from CIS: `benefit_status` is the benefit in payment, nil "
     "for none. Refused (`ok` false) when CIS cannot find them.",
     Replay::record},
};

}  // namespace

const Module kCisModule{
    "cis",
    "CIS, the Customer Information System: verification, interest flags and benefits.",
    kFunctions,
    {}};

}  // namespace casekit::lua
