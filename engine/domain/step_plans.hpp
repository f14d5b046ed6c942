// How an SR's activity plan is stored (schema 35): its steps' names, in order, as a JSON list
// in a row of step_plans that every SR with the same plan names (service_requests.plan_id).
// ServiceRequests keeps and reads plans; the casegroup trail names the steps a plan number
// stands for. Both read a plan's text with this.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/core/error.hpp"

namespace casekit {

// The names a plan's stored text lists; `whose` names the plan in the error ("SR 7's
// activity plan") when the text is not a list of names.
inline std::vector<std::string> step_plan_names(const std::string& text, const std::string& whose) {
  try {
    return nlohmann::json::parse(text).get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception&) {
    throw Error(ErrorCode::storage, whose + " is not a list of step names: " + text);
  }
}

}  // namespace casekit
