// The daily exceptions report: casegroups that could not be transitioned, with the reason.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/domain/casegroups.hpp"

namespace casekit {

struct TransitionException {
  Id id = 0;
  std::string report_date;
  std::optional<std::string> csa_ref;
  std::string reason;
};

class Exceptions {
 public:
  Exceptions(Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  // Recorded against today's report.
  Id record(const std::optional<std::string>& csa_ref, std::string_view reason);
  std::vector<TransitionException> report(std::string_view date);

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace casekit
