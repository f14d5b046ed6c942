#include "engine/domain/exceptions.hpp"

#include "engine/core/error.hpp"
#include "engine/core/json.hpp"
#include "engine/store/row_format.hpp"

namespace casekit {

Id Exceptions::record(const std::optional<std::string>& csa_ref, std::string_view reason) {
  if (reason.empty()) throw Error(ErrorCode::bad_argument, "an exception needs a reason");
  db_.prepare(
         "INSERT INTO exceptions(report_date, csa_ref, reason, created_at) VALUES (?1, ?2, ?3, ?4)")
      .bind_all(format_date(clock_.today()), csa_ref, reason, format_instant(clock_.now()))
      .run();
  return db_.last_insert_id();
}

namespace {

// An exception, with its allocation read from the work item it became.
const RowFormat kExceptionRow{column<&TransitionException::id>("x.id"),
                              column<&TransitionException::report_date>("x.report_date"),
                              column<&TransitionException::csa_ref>("x.csa_ref"),
                              column<&TransitionException::reason>("x.reason"),
                              column<&TransitionException::work_item>("x.work_item_id"),
                              column<&TransitionException::allocated_to>("w.assignee"),
                              column<&TransitionException::item_status>("w.status")};
constexpr const char* kFromExceptions =
    "FROM exceptions x LEFT JOIN work_items w ON w.id = x.work_item_id ";

}  // namespace

std::vector<TransitionException> Exceptions::report(std::string_view date) {
  parse_date(date);
  auto st = db_.prepare(kExceptionRow.select(std::string(kFromExceptions) +
                                             "WHERE x.report_date = ?1 ORDER BY x.id"));
  st.bind(1, date);
  std::vector<TransitionException> out;
  while (st.step()) out.push_back(kExceptionRow.read(st));
  return out;
}

std::vector<TransitionException> Exceptions::report_for(const User& user, std::string_view date) {
  require_team_leader(user, "read the transition exceptions");
  return report(date);
}

TransitionException Exceptions::get(Id id) {
  auto st = db_.prepare(kExceptionRow.select(std::string(kFromExceptions) + "WHERE x.id = ?1"));
  st.bind(1, id);
  if (!st.step())
    throw Error(ErrorCode::not_found, "no transition exception " + std::to_string(id));
  return kExceptionRow.read(st);
}

TransitionException Exceptions::allocate(Id id, const std::string& to, const User& leader) {
  require_team_leader(leader, "allocate transition exceptions");
  Savepoint all_or_nothing(db_);
  const TransitionException x = get(id);
  if (x.work_item) {
    throw Error(ErrorCode::conflict,
                "transition exception " + std::to_string(id) + " is already allocated to " +
                    x.allocated_to.value_or("nobody") + " (work item " +
                    std::to_string(*x.work_item) + "); reassign that item instead");
  }
  WorkItemSpec spec;
  spec.inbox = "caseworker";
  spec.kind = "resolve_exception";
  spec.title = "Resolve transition exception " + x.csa_ref.value_or("row " + std::to_string(id)) +
               " of " + x.report_date + ": " + x.reason;
  // Source 002: the caseworker captures the missing data, or what was wrong, from the CSA
  // systems and enters it so the arrears can be added; or says why that cannot be done.
  spec.outcomes = {"resolved", "cannot_resolve"};
  spec.fields = {"note"};
  spec.required = {{"*", {"note"}}};
  spec.due_date = format_date(clock_.today() + std::chrono::days(5));
  spec.team = leader.team;
  spec.details = {{"exception", id},
                  {"report_date", x.report_date},
                  {"csa_ref", x.csa_ref ? nlohmann::json(*x.csa_ref) : nlohmann::json()},
                  {"reason", x.reason}};
  const Id item = work_items_.create(spec);
  work_items_.assign(item, to, std::nullopt, leader.name);
  db_.prepare("UPDATE exceptions SET work_item_id = ?1 WHERE id = ?2").bind_all(item, id).run();
  all_or_nothing.release();
  return get(id);
}

nlohmann::json to_json(const TransitionException& x) {
  return {{"id", x.id},
          {"report_date", x.report_date},
          {"csa_ref", or_null(x.csa_ref)},
          {"reason", x.reason},
          {"work_item", or_null(x.work_item)},
          {"allocated_to", or_null(x.allocated_to)},
          {"item_status", or_null(x.item_status)}};
}

}  // namespace casekit
