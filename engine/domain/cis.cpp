#include "engine/domain/cis.hpp"

#include <algorithm>
#include <iterator>

#include "engine/core/error.hpp"

namespace casekit {
namespace {

CisAnswer answer(bool ok, std::string message) {
  CisAnswer a;
  a.ok = ok;
  a.message = std::move(message);
  return a;
}

}  // namespace

// ---- LocalCis -------------------------------------------------------------------------------

CisAnswer LocalCis::verify(Id client, Id casegroup, const std::string& role) {
  const Client c = casegroups_.client(client);
  // CIS finds a person by their NINO: without one there is nothing to verify against.
  if (!c.nino) return answer(false, c.name + " has no NINO to verify on CIS");
  db_.prepare(
         "INSERT INTO cis_interests(client_id, casegroup_id, role, created_at) "
         "VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING")
      .bind_all(client, casegroup, role, format_instant(clock_.now()))
      .run();
  return answer(true, c.name + " (" + *c.nino + ") verified; interest flag input as " + role);
}

CisAnswer LocalCis::benefit_details(Id client) {
  const Client c = casegroups_.client(client);
  if (!c.nino) return answer(false, c.name + " has no NINO to look up on CIS");
  CisAnswer a = answer(true, c.benefit_status ? "benefit in payment: " + *c.benefit_status
                                              : "no benefit in payment");
  a.benefit_status = c.benefit_status;
  return a;
}

// ---- FailingCis -----------------------------------------------------------------------------

std::optional<CisAnswer> FailingCis::failure(const std::string& operation) const {
  const auto it = failures_.find(operation);
  if (it == failures_.end()) return std::nullopt;
  return answer(false, it->second);
}

CisAnswer FailingCis::verify(Id client, Id casegroup, const std::string& role) {
  if (auto f = failure("verify")) return *f;
  return real_.verify(client, casegroup, role);
}

CisAnswer FailingCis::benefit_details(Id client) {
  if (auto f = failure("benefit_details")) return *f;
  return real_.benefit_details(client);
}

// ---- CisInterface ---------------------------------------------------------------------------

CisAnswer CisInterface::verify(Id client, Id casegroup, const std::string& role) {
  if (std::find(std::begin(kCisRoles), std::end(kCisRoles), role) == std::end(kCisRoles)) {
    throw Error(ErrorCode::bad_argument, "CIS role '" + role + "' is not applicant or other_party");
  }
  casegroups_.client(client);  // a wrong id is an error, whatever the adapter
  casegroups_.get(casegroup);  // a wrong id is an error, whatever the adapter
  return adapter_->verify(client, casegroup, role);
}

CisAnswer CisInterface::benefit_details(Id client) {
  casegroups_.client(client);  // a wrong id is an error, whatever the adapter
  return adapter_->benefit_details(client);
}

}  // namespace casekit
