#include "engine/transition/dw_extract.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <span>

#include "engine/core/time.hpp"

namespace casekit {
namespace {

// Keys kept in the line's order: the import hands this tree to the row's instance, which
// must see the same tables it would build from the line (engine/durable/runtime.hpp).
using json = nlohmann::ordered_json;

// Thrown inside the checks below and turned into a DwRowError at the one place that parses.
struct Problem {
  std::string reason;
};

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw Problem{path + ": " + what};
}

std::string shown(const json& value) {
  std::string text = value.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return text;
}

const json& member(const json& object, const std::string& path, const char* key) {
  const auto it = object.find(key);
  if (it == object.end()) fail(path + key, "missing");
  return *it;
}

const json& object_at(const json& object, const std::string& path, const char* key) {
  const json& value = member(object, path, key);
  if (!value.is_object()) fail(path + key, "expected an object, got " + shown(value));
  return value;
}

std::string text_at(const json& object, const std::string& path, const char* key) {
  const json& value = member(object, path, key);
  if (value.is_null()) fail(path + key, "missing");
  if (!value.is_string()) fail(path + key, "expected text, got " + shown(value));
  std::string text = value.get<std::string>();
  const bool blank =
      std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c) != 0; });
  if (blank) fail(path + key, "missing (empty)");
  return text;
}

// Text or null; absent counts as null.
std::optional<std::string> optional_text_at(const json& object, const std::string& path,
                                            const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) fail(path + key, "expected text or null, got " + shown(*it));
  return it->get<std::string>();
}

bool flag_at(const json& object, const std::string& path, const char* key) {
  const json& value = member(object, path, key);
  if (!value.is_boolean()) fail(path + key, "expected true or false, got " + shown(value));
  return value.get<bool>();
}

std::string one_of_at(const json& object, const std::string& path, const char* key,
                      std::span<const char* const> allowed) {
  const std::string value = text_at(object, path, key);
  for (const char* a : allowed) {
    if (value == a) return value;
  }
  std::string list;
  for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  fail(path + key, "'" + value + "' is not one of " + list);
}

Pence pence_at(const json& object, const std::string& path, const char* key) {
  const json& value = member(object, path, key);
  const std::string where = path + key;
  if (value.is_number_float()) fail(where, shown(value) + " is not a whole number of pence");
  if (value.is_number_unsigned()) {
    if (value.get<std::uint64_t>() > static_cast<std::uint64_t>(kDwMaxAmount)) {
      fail(where, shown(value) + " is larger than any real balance");
    }
    return static_cast<Pence>(value.get<std::uint64_t>());
  }
  if (!value.is_number_integer()) fail(where, shown(value) + " is not an amount in pence");
  const Pence amount = value.get<std::int64_t>();
  if (amount < 0) fail(where, shown(value) + " is negative");
  if (amount > kDwMaxAmount) fail(where, shown(value) + " is larger than any real balance");
  return amount;
}

DwArrears arrears_at(const json& object, const std::string& path, const char* key) {
  const json& a = object_at(object, path, key);
  const std::string inner = path + key + ".";
  return {pence_at(a, inner, "active"), pence_at(a, inner, "suspended"),
          pence_at(a, inner, "deferred")};
}

// A National Insurance number as HMRC issues them: two prefix letters (D, F, I, Q, U and V
// never; O never second), six digits, a suffix A to D.
bool valid_nino(const std::string& nino) {
  if (nino.size() != 9) return false;
  const auto allowed_prefix = [](char c, bool second) {
    if (c < 'A' || c > 'Z') return false;
    if (std::string_view("DFIQUV").find(c) != std::string_view::npos) return false;
    return !(second && c == 'O');
  };
  if (!allowed_prefix(nino[0], false) || !allowed_prefix(nino[1], true)) return false;
  static const std::set<std::string, std::less<>> kNeverIssued = {"BG", "GB", "KN", "NK",
                                                                  "NT", "TN", "ZZ"};
  if (kNeverIssued.contains(nino.substr(0, 2))) return false;
  for (int i = 2; i < 8; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(nino[i]))) return false;
  }
  return nino[8] >= 'A' && nino[8] <= 'D';
}

std::string nino_at(const json& object, const std::string& path) {
  const std::string nino = text_at(object, path, "nino");
  if (!valid_nino(nino)) fail(path + "nino", "'" + nino + "' is not a National Insurance number");
  return nino;
}

void check_address(const json& parent, const std::string& path) {
  const json& address = object_at(parent, path, "address");
  const std::string inner = path + "address.";
  text_at(address, inner, "line1");
  const std::string status = one_of_at(address, inner, "status", kDwAddressStatuses);
  // A confirmed address is one we can write to, so it needs its postcode; DLO, NFA and
  // JPAC addresses often have none.
  if (status == "confirmed") text_at(address, inner, "postcode");
}

void check_date_at(const json& object, const std::string& path, const char* key, bool required) {
  const auto value =
      required ? std::optional(text_at(object, path, key)) : optional_text_at(object, path, key);
  if (value && !is_date(*value)) {
    fail(path + key, "'" + *value + "' is not a date (YYYY-MM-DD)");
  }
}

std::string check_csa_ref(const json& row) {
  const std::string ref = text_at(row, "", "csa_ref");
  const bool digits =
      ref.size() > 4 && ref.size() <= 20 &&
      std::all_of(ref.begin() + 4, ref.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
  if (ref.rfind("CSA-", 0) != 0 || !digits) {
    fail("csa_ref", "'" + ref + "' is not a CSA reference (CSA- and digits)");
  }
  return ref;
}

DwRow check_row(json row) {
  DwRow out;
  out.csa_ref = check_csa_ref(row);
  check_date_at(row, "", "extract_date", true);
  out.extract_date = row["extract_date"].get<std::string>();
  one_of_at(row, "", "region", kDwRegions);

  const json& pp = object_at(row, "", "paying_parent");
  const std::string pp_nino = nino_at(pp, "paying_parent.");
  text_at(pp, "paying_parent.", "name");
  check_date_at(pp, "paying_parent.", "dob", false);
  check_address(pp, "paying_parent.");
  optional_text_at(pp, "paying_parent.", "employment_status");
  optional_text_at(pp, "paying_parent.", "benefit");

  if (!member(row, "", "method_of_payment").is_null()) {
    one_of_at(row, "", "method_of_payment", kDwMethodsOfPayment);
  }
  flag_at(row, "", "enforcement_ongoing");
  flag_at(row, "", "csa_case_active");

  const json& rps = member(row, "", "receiving_parents");
  if (!rps.is_array()) fail("receiving_parents", "expected a list, got " + shown(rps));
  if (rps.empty()) fail("receiving_parents", "none (a casegroup needs a receiving parent)");
  std::set<std::string> ninos = {pp_nino};
  for (std::size_t i = 0; i < rps.size(); ++i) {
    const std::string path = "receiving_parents[" + std::to_string(i + 1) + "].";
    const json& rp = rps[i];
    if (!rp.is_object()) fail(path.substr(0, path.size() - 1), "expected an object");
    const std::string nino = nino_at(rp, path);
    if (!ninos.insert(nino).second) {
      fail(path + "nino", nino + " appears twice in the casegroup");
    }
    text_at(rp, path, "name");
    check_date_at(rp, path, "dob", false);
    check_address(rp, path);
    flag_at(rp, path, "writeoff_requested");
    out.receiving_parents.push_back(arrears_at(rp, path, "arrears"));
  }

  const json& sos = object_at(row, "", "sos");
  one_of_at(sos, "sos.", "jurisdiction", kDwSosJurisdictions);
  out.sos = {pence_at(sos, "sos.", "active"), pence_at(sos, "sos.", "suspended"),
             pence_at(sos, "sos.", "deferred")};
  out.json = std::move(row);
  return out;
}

}  // namespace

Pence DwRow::total() const {
  Pence sum = sos.total();
  for (const auto& rp : receiving_parents) sum += rp.total();
  return sum;
}

DwParsed parse_dw_row(std::string_view line) {
  json row;
  try {
    row = json::parse(line);
  } catch (const json::parse_error& e) {
    return DwRowError{std::nullopt, "not valid JSON (at byte " + std::to_string(e.byte) + ")"};
  }
  if (!row.is_object()) return DwRowError{std::nullopt, "expected a JSON object"};
  std::optional<std::string> csa_ref;
  if (const auto it = row.find("csa_ref"); it != row.end() && it->is_string()) {
    csa_ref = it->get<std::string>();
  }
  try {
    return check_row(std::move(row));
  } catch (const Problem& p) {
    return DwRowError{csa_ref, p.reason};
  }
}

}  // namespace casekit
