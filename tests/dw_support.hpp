// Extract rows for tests: one valid row to start from, changed field by field.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace casekit::test {

inline nlohmann::json dw_address(const std::string& line1 = "1 High Street",
                                 const std::string& status = "confirmed") {
  return {{"line1", line1}, {"town", "Leeds"}, {"postcode", "LS1 1AA"}, {"status", status}};
}

// A receiving parent with arrears owed to them (pence).
inline nlohmann::json dw_rp(const std::string& nino, std::int64_t active, std::int64_t suspended,
                            std::int64_t deferred, bool writeoff_requested = false) {
  return {{"nino", nino},
          {"name", "Rita Receiver " + nino.substr(6, 2)},
          {"dob", "1982-05-01"},
          {"address", dw_address("2 Mill Lane")},
          {"writeoff_requested", writeoff_requested},
          {"arrears", {{"active", active}, {"suspended", suspended}, {"deferred", deferred}}}};
}

// Paying parent AB000000A, one receiving parent AB000001A owed 1,250.00 active and 25.00
// deferred, no Secretary of State arrears, CSA case active, no enforcement.
inline nlohmann::json dw_row(const std::string& csa_ref, const std::string& pp_nino = "AB000000A",
                             const std::string& rp_nino = "AB000001A") {
  return {{"csa_ref", csa_ref},
          {"extract_date", "2026-11-20"},
          {"region", "E&W"},
          {"paying_parent",
           {{"nino", pp_nino},
            {"name", "Paul Payer"},
            {"dob", "1980-02-03"},
            {"address", dw_address()},
            {"employment_status", "employed"},
            {"benefit", nullptr}}},
          {"method_of_payment", "SO"},
          {"enforcement_ongoing", false},
          {"csa_case_active", true},
          {"receiving_parents", nlohmann::json::array({dw_rp(rp_nino, 125000, 0, 2500)})},
          {"sos", {{"jurisdiction", "GB"}, {"active", 0}, {"suspended", 0}, {"deferred", 0}}}};
}

}  // namespace casekit::test
