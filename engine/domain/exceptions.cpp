#include "engine/domain/exceptions.hpp"

#include "engine/core/error.hpp"

namespace casekit {

Id Exceptions::record(const std::optional<std::string>& csa_ref, std::string_view reason) {
  if (reason.empty()) throw Error(ErrorCode::bad_argument, "an exception needs a reason");
  db_.prepare(
         "INSERT INTO exceptions(report_date, csa_ref, reason, created_at) VALUES (?1, ?2, ?3, ?4)")
      .bind_all(format_date(clock_.today()), csa_ref, reason, format_instant(clock_.now()))
      .run();
  return db_.last_insert_id();
}

std::vector<TransitionException> Exceptions::report(std::string_view date) {
  parse_date(date);
  auto st = db_.prepare(
      "SELECT id, report_date, csa_ref, reason FROM exceptions WHERE report_date = ?1 ORDER BY id");
  st.bind(1, date);
  std::vector<TransitionException> out;
  while (st.step()) {
    out.push_back(TransitionException{st.integer(0), st.text(1), st.optional_text(2), st.text(3)});
  }
  return out;
}

}  // namespace casekit
