#include "engine/domain/casegroups.hpp"
#include "engine/core/json.hpp"

#include <nlohmann/json.hpp>

#include "engine/core/error.hpp"
#include "engine/core/text.hpp"
#include "engine/domain/allocation.hpp"
#include "engine/store/row_format.hpp"

namespace casekit {

void require_one_of(std::string_view what, std::string_view value,
                    std::span<const char* const> allowed) {
  std::string list;
  for (const char* a : allowed) {
    if (value == a) return;
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  throw Error(ErrorCode::bad_argument, "unknown " + std::string(what) + " '" + std::string(value) +
                                           "' (one of: " + list + ")");
}

namespace {

const RowFormat kClientRow{column<&Client::id>("id"),
                           column<&Client::nino>("nino"),
                           column<&Client::name>("name"),
                           column<&Client::dob>("dob"),
                           column<&Client::employment_status>("employment_status"),
                           column<&Client::benefit_status>("benefit_status"),
                           column<&Client::contact_suppressed>("contact_suppressed"),
                           column<&Client::deceased>("deceased")};

const RowFormat kCasegroupRow{column<&Casegroup::id>("id"),
                              column<&Casegroup::csa_ref>("csa_ref"),
                              column<&Casegroup::paying_parent_id>("paying_parent_id"),
                              column<&Casegroup::segment>("segment"),
                              column<&Casegroup::service_type>("service_type"),
                              column<&Casegroup::arrears_only>("arrears_only"),
                              column<&Casegroup::region>("region"),
                              column<&Casegroup::review_date>("review_date"),
                              column<&Casegroup::annual_review_date>("annual_review_date"),
                              column<&Casegroup::created_at>("created_at")};

const RowFormat kCaseRow{column<&Case::id>("id"),
                         column<&Case::casegroup_id>("casegroup_id"),
                         column<&Case::receiving_parent_id>("receiving_parent_id"),
                         column<&Case::status>("status"),
                         column<&Case::csa_scheme>("csa_scheme"),
                         column<&Case::csa_case_ref>("csa_case_ref"),
                         column<&Case::compliance_opportunity>("compliance_opportunity")};

void require_date(std::string_view what, const std::optional<std::string>& value) {
  if (value && !is_date(*value)) {
    throw Error(ErrorCode::bad_argument,
                std::string(what) + " is not a date (YYYY-MM-DD): '" + *value + "'");
  }
}

}  // namespace

Id Casegroups::create_client(const NewClient& c) {
  if (c.name.empty()) throw Error(ErrorCode::bad_argument, "client name is empty");
  require_date("date of birth", c.dob);
  if (c.nino && find_client_by_nino(*c.nino)) {
    throw Error(ErrorCode::conflict, "a client with NINO " + *c.nino + " already exists");
  }
  db_.prepare(
         "INSERT INTO clients(nino, name, dob, employment_status, benefit_status, created_at) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
      .bind_all(c.nino, c.name, c.dob, c.employment_status, c.benefit_status, now())
      .run();
  const Id id = db_.last_insert_id();
  for (const auto& key : name_keys(c.name)) {
    db_.prepare("INSERT OR IGNORE INTO client_name_keys(key, client_id) VALUES (?1, ?2)")
        .bind_all(key, id)
        .run();
  }
  if (c.address) set_address(id, *c.address);
  return id;
}

Client Casegroups::client_row(Id id) {
  auto st = db_.prepare(kClientRow.select("FROM clients WHERE id = ?1"));
  st.bind(1, id);
  if (!st.step()) throw Error(ErrorCode::not_found, "no client with id " + std::to_string(id));
  return kClientRow.read(st);
}

Client Casegroups::client(Id id) {
  Client c = client_row(id);
  auto a = db_.prepare(
      "SELECT line1, line2, town, postcode, status FROM addresses "
      "WHERE client_id = ?1 AND is_correspondence = 1 ORDER BY id DESC LIMIT 1");
  a.bind(1, id);
  if (a.step()) {
    c.address =
        Address{a.text(0), a.optional_text(1), a.optional_text(2), a.optional_text(3), a.text(4)};
  }
  return c;
}

std::optional<Id> Casegroups::find_client_by_nino(std::string_view nino) {
  auto st = db_.prepare("SELECT id FROM clients WHERE nino = ?1");
  st.bind(1, nino);
  if (st.step()) return st.integer(0);
  return std::nullopt;
}

void Casegroups::require_client(Id id) {
  auto st = db_.prepare("SELECT 1 FROM clients WHERE id = ?1");
  st.bind(1, id);
  if (!st.step()) throw Error(ErrorCode::not_found, "no client with id " + std::to_string(id));
}

void Casegroups::set_address(Id client_id, const Address& address) {
  require_client(client_id);
  require_one_of("address status", address.status, kAddressStatuses);
  if (address.line1.empty()) throw Error(ErrorCode::bad_argument, "address line1 is empty");
  db_.prepare(
         "UPDATE addresses SET is_correspondence = 0 WHERE client_id = ?1 "
         "AND is_correspondence = 1")
      .bind(1, client_id)
      .run();
  db_.prepare(
         "INSERT INTO addresses(client_id, line1, line2, town, postcode, status, created_at) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
      .bind_all(client_id, address.line1, address.line2, address.town, address.postcode,
                address.status, now())
      .run();
}

void Casegroups::set_client_attribute(Id client_id, std::string_view name,
                                      const std::optional<std::string>& value) {
  require_client(client_id);
  static constexpr const char* kText[] = {"employment_status", "benefit_status"};
  static constexpr const char* kBool[] = {"contact_suppressed", "deceased"};
  for (const char* column : kText) {
    if (name == column) {
      db_.prepare(std::string("UPDATE clients SET ") + column + " = ?1 WHERE id = ?2")
          .bind_all(value, client_id)
          .run();
      return;
    }
  }
  for (const char* column : kBool) {
    if (name == column) {
      if (!value || (*value != "0" && *value != "1")) {
        throw Error(ErrorCode::bad_argument, std::string(column) + " must be true or false");
      }
      db_.prepare(std::string("UPDATE clients SET ") + column + " = ?1 WHERE id = ?2")
          .bind_all(std::stoll(*value), client_id)
          .run();
      return;
    }
  }
  throw Error(ErrorCode::bad_argument,
              "unknown client attribute '" + std::string(name) +
                  "' (one of: employment_status, benefit_status, contact_suppressed, deceased)");
}

Id Casegroups::create(const NewCasegroup& g) {
  require_client(g.paying_parent_id);
  require_one_of("segment", g.segment, kSegments);
  require_one_of("service type", g.service_type, kServiceTypes);
  require_one_of("region", g.region, kRegions);
  require_date("review date", g.review_date);
  require_date("annual review date", g.annual_review_date);
  if (g.csa_ref && find_by_csa_ref(*g.csa_ref)) {
    throw Error(ErrorCode::conflict,
                "a casegroup with CSA reference " + *g.csa_ref + " already exists");
  }
  db_.prepare(
         "INSERT INTO casegroups(csa_ref, paying_parent_id, segment, service_type, arrears_only, "
         "region, review_date, annual_review_date, created_at) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
      .bind_all(g.csa_ref, g.paying_parent_id, g.segment, g.service_type, g.arrears_only, g.region,
                g.review_date, g.annual_review_date, now())
      .run();
  return db_.last_insert_id();
}

Casegroup Casegroups::row(Id id) {
  auto st = db_.prepare(kCasegroupRow.select("FROM casegroups WHERE id = ?1"));
  st.bind(1, id);
  if (!st.step()) throw Error(ErrorCode::not_found, "no casegroup with id " + std::to_string(id));
  return kCasegroupRow.read(st);
}

Casegroup Casegroups::get(Id id) {
  Casegroup g = row(id);
  g.flags = flags(id);
  return g;
}

void Casegroups::require(Id id) {
  auto st = db_.prepare("SELECT 1 FROM casegroups WHERE id = ?1");
  st.bind(1, id);
  if (!st.step()) throw Error(ErrorCode::not_found, "no casegroup with id " + std::to_string(id));
}

std::optional<Id> Casegroups::find_by_csa_ref(std::string_view csa_ref) {
  auto st = db_.prepare("SELECT id FROM casegroups WHERE csa_ref = ?1");
  st.bind(1, csa_ref);
  if (st.step()) return st.integer(0);
  return std::nullopt;
}

std::optional<Id> Casegroups::find_by_paying_parent(Id client_id) {
  auto st =
      db_.prepare("SELECT id FROM casegroups WHERE paying_parent_id = ?1 ORDER BY id LIMIT 1");
  st.bind(1, client_id);
  if (st.step()) return st.integer(0);
  return std::nullopt;
}

namespace {

// Casegroups with a parent among `clients` (SQL selecting client ids): as paying parent, or
// as the receiving parent of one of its cases.
std::string with_parent_in(const std::string& clients) {
  return "g.id IN (SELECT id FROM casegroups WHERE paying_parent_id IN (" + clients +
         ") UNION SELECT casegroup_id FROM cases WHERE receiving_parent_id IN (" + clients + "))";
}

}  // namespace

// A name on many casegroups (the first letters of a common surname) is searched for the
// other way round: the casegroups are walked in id order, asking of each whether a parent's
// name starts so, and a page fills after a few hundred. Looked up first, such a name would
// read a hundred thousand keys to return twenty casegroups. Up to kCommonName casegroups
// (casegroups.hpp) the lookup costs less; beyond it, the walk (docs/performance.md, the
// search benchmark). The count stops there, so it costs no more than the lookup would.
bool Casegroups::common_name(const std::string& from, const std::string& to) {
  auto st = db_.prepare(
      "SELECT count(*) FROM (SELECT 1 FROM casegroup_name_keys WHERE key >= ?1 AND key < ?2 "
      "LIMIT ?3)");
  st.bind_all(from, to, common_name_ + 1);
  st.step();
  return st.integer(0) > common_name_;
}

std::vector<Casegroup> Casegroups::list(const CasegroupFilter& filter) {
  if (filter.segment) require_one_of("segment", *filter.segment, kSegments);
  if (filter.flag) require_one_of("flag", *filter.flag, kFlags);
  require_date("review_due_by", filter.review_due_by);
  std::optional<std::string> name_from, name_to;
  if (filter.name) {
    name_from = fold_name(*filter.name);
    if (name_from->empty()) throw Error(ErrorCode::bad_argument, "name is empty");
    name_to = prefix_end(*name_from);
  }
  // A parent's NINO or name is looked up first, through its index, so that a search among a
  // million casegroups reads only those it finds (but see common_name); each condition
  // absent is "?N IS NULL".
  const std::string by_nino =
      filter.nino ? with_parent_in("SELECT id FROM clients WHERE nino = ?7") : "?7 IS NULL";
  const std::string by_name =
      !filter.name ? "?8 IS NULL AND ?9 IS NULL"
      : common_name(*name_from, *name_to)
          ? "EXISTS (SELECT 1 FROM casegroup_name_keys n WHERE n.casegroup_id = g.id AND n.key "
            ">= ?8 AND n.key < ?9)"
          : "g.id IN (SELECT casegroup_id FROM casegroup_name_keys WHERE key >= ?8 AND key < ?9)";
  // Likewise a condition given is written bare: "?6 IS NULL OR csa_ref = ?6" would have
  // SQLite walk the casegroups in id order rather than look the reference up.
  const auto given = [](bool present, const std::string& condition, const char* absent) {
    return present ? condition : std::string(absent);
  };
  auto st = db_.prepare(kCasegroupRow.select(
      "FROM casegroups g WHERE id > ?1 AND " +
      given(filter.segment.has_value(), "segment = ?2", "?2 IS NULL") + " AND " +
      given(filter.flag.has_value(),
            "EXISTS (SELECT 1 FROM casegroup_flags f WHERE f.casegroup_id = g.id AND f.flag = ?3)",
            "?3 IS NULL") +
      " AND " + given(filter.review_due_by.has_value(), "review_date <= ?5", "?5 IS NULL") +
      " AND " + given(filter.csa_ref.has_value(), "csa_ref = ?6", "?6 IS NULL") + " AND " +
      by_nino + " AND " + by_name + " ORDER BY id LIMIT ?4"));
  st.bind_all(filter.after_id, filter.segment, filter.flag, static_cast<std::int64_t>(filter.limit),
              filter.review_due_by, filter.csa_ref, filter.nino, name_from, name_to);
  std::vector<Casegroup> out;
  while (st.step()) out.push_back(kCasegroupRow.read(st));
  for (auto& g : out) g.flags = flags(g.id);
  return out;
}

void Casegroups::set_segment(Id id, std::string_view segment) {
  require_one_of("segment", segment, kSegments);
  get(id);
  db_.prepare("UPDATE casegroups SET segment = ?1 WHERE id = ?2").bind_all(segment, id).run();
}

void Casegroups::set_service_type(Id id, std::string_view service_type) {
  require_one_of("service type", service_type, kServiceTypes);
  get(id);
  db_.prepare("UPDATE casegroups SET service_type = ?1 WHERE id = ?2")
      .bind_all(service_type, id)
      .run();
}

void Casegroups::set_review_date(Id id, const std::optional<std::string>& date) {
  require_date("review date", date);
  get(id);
  db_.prepare("UPDATE casegroups SET review_date = ?1 WHERE id = ?2").bind_all(date, id).run();
}

void Casegroups::set_flag(Id id, std::string_view flag, bool on) {
  require_one_of("flag", flag, kFlags);
  get(id);
  if (on) {
    // Only a flag set already is let be: OR IGNORE would also pass over a CHECK the schema
    // makes, should its list of flags and kFlags ever differ.
    db_.prepare(
           "INSERT INTO casegroup_flags(casegroup_id, flag) VALUES (?1, ?2) "
           "ON CONFLICT (casegroup_id, flag) DO NOTHING")
        .bind_all(id, flag)
        .run();
  } else {
    db_.prepare("DELETE FROM casegroup_flags WHERE casegroup_id = ?1 AND flag = ?2")
        .bind_all(id, flag)
        .run();
    // Payments held for allocation by hand are allocated in the usual order once nobody
    // allocates by hand any more (allocation.hpp).
    if (flag == "manual_allocation") release_held_payments(id);
  }
}

void Casegroups::release_held_payments(Id id) {
  auto st = db_.prepare(
      "SELECT a.id FROM ledger_accounts a JOIN casegroups g ON g.paying_parent_id = a.client_id "
      "WHERE g.id = ?1");
  st.bind(1, id);
  if (st.step()) allocate_credit(db_, now(), st.integer(0));
}

bool Casegroups::has_flag(Id id, std::string_view flag) {
  require_one_of("flag", flag, kFlags);
  auto st = db_.prepare("SELECT 1 FROM casegroup_flags WHERE casegroup_id = ?1 AND flag = ?2");
  st.bind_all(id, flag);
  return st.step();
}

std::vector<std::string> Casegroups::flags(Id id) {
  auto st = db_.prepare("SELECT flag FROM casegroup_flags WHERE casegroup_id = ?1 ORDER BY flag");
  st.bind(1, id);
  std::vector<std::string> out;
  while (st.step()) out.push_back(st.text(0));
  return out;
}

Id Casegroups::add_case(Id casegroup_id, Id receiving_parent_id,
                        const std::optional<std::string>& csa_scheme,
                        const std::optional<std::string>& csa_case_ref) {
  const Casegroup g = row(casegroup_id);
  require_client(receiving_parent_id);
  if (receiving_parent_id == g.paying_parent_id) {
    throw Error(ErrorCode::invalid, "the receiving parent cannot be the casegroup's paying parent");
  }
  db_.prepare(
         "INSERT INTO cases(casegroup_id, receiving_parent_id, csa_scheme, csa_case_ref, "
         "created_at) VALUES (?1, ?2, ?3, ?4, ?5)")
      .bind_all(casegroup_id, receiving_parent_id, csa_scheme, csa_case_ref, now())
      .run();
  return db_.last_insert_id();
}

std::optional<Id> Casegroups::find_case(Id casegroup_id, Id receiving_parent_id) {
  auto st =
      db_.prepare("SELECT id FROM cases WHERE casegroup_id = ?1 AND receiving_parent_id = ?2");
  st.bind_all(casegroup_id, receiving_parent_id);
  if (st.step()) return st.integer(0);
  return std::nullopt;
}

void Casegroups::set_csa_details(Id case_id, const std::optional<std::string>& csa_scheme,
                                 const std::optional<std::string>& csa_case_ref) {
  get_case(case_id);
  db_.prepare("UPDATE cases SET csa_scheme = ?2, csa_case_ref = ?3 WHERE id = ?1")
      .bind_all(case_id, csa_scheme, csa_case_ref)
      .run();
}

void Casegroups::set_compliance_opportunity(Id case_id, bool on) {
  get_case(case_id);
  db_.prepare("UPDATE cases SET compliance_opportunity = ?2 WHERE id = ?1")
      .bind_all(case_id, on)
      .run();
}

Case Casegroups::get_case(Id id) {
  auto st = db_.prepare(kCaseRow.select("FROM cases WHERE id = ?1"));
  st.bind(1, id);
  if (!st.step()) throw Error(ErrorCode::not_found, "no case with id " + std::to_string(id));
  return kCaseRow.read(st);
}

std::vector<Case> Casegroups::cases(Id casegroup_id) {
  auto st = db_.prepare(kCaseRow.select("FROM cases WHERE casegroup_id = ?1 ORDER BY id"));
  st.bind(1, casegroup_id);
  std::vector<Case> out;
  while (st.step()) out.push_back(kCaseRow.read(st));
  return out;
}

nlohmann::json to_json(const Address& a) {
  return {{"line1", a.line1},
          {"line2", or_null(a.line2)},
          {"town", or_null(a.town)},
          {"postcode", or_null(a.postcode)},
          {"status", a.status}};
}

nlohmann::json to_json(const Client& c) {
  return {{"id", c.id},
          {"nino", or_null(c.nino)},
          {"name", c.name},
          {"dob", or_null(c.dob)},
          {"employment_status", or_null(c.employment_status)},
          {"benefit_status", or_null(c.benefit_status)},
          {"contact_suppressed", c.contact_suppressed},
          {"deceased", c.deceased},
          {"address", c.address ? to_json(*c.address) : nlohmann::json(nullptr)}};
}

nlohmann::json to_json(const Case& c) {
  return {{"id", c.id},
          {"casegroup_id", c.casegroup_id},
          {"receiving_parent_id", c.receiving_parent_id},
          {"status", c.status},
          {"csa_scheme", c.csa_scheme ? nlohmann::json(*c.csa_scheme) : nullptr},
          {"csa_case_ref", c.csa_case_ref ? nlohmann::json(*c.csa_case_ref) : nullptr}};
}

}  // namespace casekit
