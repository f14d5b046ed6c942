// The daily exceptions report: casegroups that could not be transitioned, with the reason.
// Source 002: the report "will be investigated by the team leader on the financial
// transition team, who will then allocate the cases for caseworkers to establish what
// information is required for the case to transition correctly". An allocation is a work
// item in the caseworker inbox, in the leader's team, given to the caseworker.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/domain/casegroups.hpp"
#include "engine/domain/work_items.hpp"

namespace casekit {

struct TransitionException {
  Id id = 0;
  std::string report_date;
  std::optional<std::string> csa_ref;
  std::string reason;
  // Once allocated: the caseworker's work item, who has it and whether it is done.
  std::optional<Id> work_item;
  std::optional<std::string> allocated_to;
  std::optional<std::string> item_status;
};

class Exceptions {
 public:
  Exceptions(Database& db, const Clock& clock, WorkItems& work_items)
      : db_(db), clock_(clock), work_items_(work_items) {}
  // Recorded against today's report.
  Id record(const std::optional<std::string>& csa_ref, std::string_view reason);
  // A day's report (YYYY-MM-DD), in id order.
  std::vector<TransitionException> report(std::string_view date);
  // The same, for a team leader only (forbidden otherwise): the report is theirs to
  // investigate and allocate.
  std::vector<TransitionException> report_for(const User& user, std::string_view date);
  // Gives the exception to `to` as a work item (inbox caseworker, kind resolve_exception,
  // the leader's team, due in 5 days), with the rules of WorkItems::assign: a team leader,
  // to someone in their team who may work the caseworker inbox. Not found for an unknown
  // exception; conflict if it is already allocated (move its work item instead). All or
  // nothing.
  TransitionException allocate(Id id, const std::string& to, const User& leader);
  TransitionException get(Id id);

 private:
  Database& db_;
  const Clock& clock_;
  WorkItems& work_items_;
};

// {id, report_date, csa_ref, reason, work_item, allocated_to, item_status}: the CLI's --json
// and the HTTP API's.
nlohmann::json to_json(const TransitionException& x);

}  // namespace casekit
