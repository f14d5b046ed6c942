// One row of the Data Warehouse extract (source 002): a CSA casegroup with its parents and
// the arrears balances to carry across, one JSON object a line, amounts in integer pence.
//
// parse_dw_row() either returns a row that every later step can trust or one reason the
// row cannot be transitioned; the reason goes to the daily exceptions report word for word,
// so it names the field and what is wrong with it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/core/money.hpp"

namespace casekit {

inline constexpr const char* kDwRegions[] = {"E&W", "Scotland", "NI"};
inline constexpr const char* kDwAddressStatuses[] = {"confirmed", "DLO", "NFA", "JPAC"};
inline constexpr const char* kDwMethodsOfPayment[] = {"DD", "SO", "DEO", "DFB"};
inline constexpr const char* kDwSosJurisdictions[] = {"GB", "NI"};

// Larger than any real arrears balance (ten million pounds); a bigger figure is a bad extract,
// and refusing it keeps every sum far from overflow.
inline constexpr Pence kDwMaxAmount = 1'000'000'000;

struct DwArrears {
  Pence active = 0;
  Pence suspended = 0;
  Pence deferred = 0;
  Pence total() const { return active + suspended + deferred; }
};

struct DwRowError {
  std::optional<std::string> csa_ref;  // when the row got far enough to name its casegroup
  std::string reason;
};

// A row that passed every check. `json` is the row as read, keys in the line's order,
// which is what the transition procedure receives as ctx.input.
struct DwRow {
  std::string csa_ref;
  std::string extract_date;
  nlohmann::ordered_json json;
  std::vector<DwArrears> receiving_parents;  // in the order of the extract
  DwArrears sos;
  Pence total() const;
};

using DwParsed = std::variant<DwRow, DwRowError>;

DwParsed parse_dw_row(std::string_view line);

}  // namespace casekit
