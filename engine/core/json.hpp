// JSON helpers shared by the domain's to_json functions and the CLI's --json output.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

namespace casekit {

// An optional field as its value, or null when absent.
template <typename T>
nlohmann::json or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace casekit
