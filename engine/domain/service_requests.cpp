#include "engine/domain/service_requests.hpp"
#include "engine/core/json.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "engine/core/error.hpp"
#include "engine/domain/step_plans.hpp"
#include "engine/store/row_format.hpp"

namespace casekit {
namespace {

const RowFormat kSrRow{column<&ServiceRequest::id>("id"),
                       column<&ServiceRequest::process>("process"),
                       column<&ServiceRequest::area>("area"),
                       column<&ServiceRequest::sub_area>("sub_area"),
                       column<&ServiceRequest::status>("status"),
                       column<&ServiceRequest::sub_status>("sub_status"),
                       column<&ServiceRequest::resolution_code>("resolution_code"),
                       column<&ServiceRequest::reason>("reason"),
                       column<&ServiceRequest::casegroup_id>("casegroup_id"),
                       column<&ServiceRequest::case_id>("case_id"),
                       column<&ServiceRequest::parent_id>("parent_id"),
                       column<&ServiceRequest::owner_team>("owner_team"),
                       column<&ServiceRequest::created_at>("created_at"),
                       column<&ServiceRequest::updated_at>("updated_at"),
                       column<&ServiceRequest::closed_at>("closed_at")};

}  // namespace

Id ServiceRequests::create(const NewServiceRequest& r) {
  const SrType type = catalogue_.require(r.process, r.area, r.sub_area);
  const auto status = catalogue_.status(r.status);
  if (!status || *status == "Closed") {
    throw Error(ErrorCode::bad_argument, "an SR cannot be created with status '" + r.status + "'");
  }
  std::optional<Id> casegroup = r.casegroup_id;
  if (r.case_id) {
    const Case c = casegroups_.get_case(*r.case_id);
    if (casegroup && *casegroup != c.casegroup_id) {
      throw Error(
          ErrorCode::bad_argument,
          "case " + std::to_string(c.id) + " is not in casegroup " + std::to_string(*casegroup));
    }
    casegroup = c.casegroup_id;
  }
  if (casegroup) casegroups_.require(*casegroup);
  if (r.parent_id) get(*r.parent_id);
  const std::string t = now();
  db_.prepare(
         "INSERT INTO service_requests(process, area, sub_area, status, sub_status, reason, "
         "casegroup_id, case_id, parent_id, owner_team, created_at, updated_at) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)")
      .bind_all(type.process, type.area, type.sub_area, *status, r.sub_status, r.reason, casegroup,
                r.case_id, r.parent_id,
                type.owner_team.empty() ? std::nullopt : std::optional(type.owner_team), t)
      .run();
  return db_.last_insert_id();
}

ServiceRequest ServiceRequests::get(Id id) {
  auto st = db_.prepare(kSrRow.select("FROM service_requests WHERE id = ?1"));
  st.bind(1, id);
  if (!st.step()) throw Error(ErrorCode::not_found, "no SR with id " + std::to_string(id));
  return kSrRow.read(st);
}

std::vector<ServiceRequest> ServiceRequests::list(const SrFilter& f) {
  std::optional<std::string> status;
  if (f.status) {
    status = catalogue_.status(*f.status);
    if (!status) throw Error(ErrorCode::bad_argument, "unknown SR status '" + *f.status + "'");
  }
  // A casegroup's SRs are read through its index: "?1 IS NULL OR casegroup_id = ?1" would
  // have SQLite walk every SR in id order.
  auto st = db_.prepare(
      kSrRow.select(std::string("FROM service_requests WHERE ") +
                    (f.casegroup_id ? "casegroup_id = ?1 " : "?1 IS NULL ") +
                    "AND (?2 IS NULL OR sub_area = ?2 COLLATE NOCASE) "
                    "AND (?3 IS NULL OR status = ?3) AND (?4 = 0 OR status <> 'Closed') "
                    "AND id > ?6 ORDER BY id LIMIT ?5"));
  st.bind_all(f.casegroup_id, f.sub_area, status, f.open_only, static_cast<std::int64_t>(f.limit),
              f.after);
  std::vector<ServiceRequest> out;
  while (st.step()) out.push_back(kSrRow.read(st));
  return out;
}

std::vector<ServiceRequest> ServiceRequests::children(Id id) {
  get(id);
  auto st = db_.prepare(kSrRow.select("FROM service_requests WHERE parent_id = ?1 ORDER BY id"));
  st.bind(1, id);
  std::vector<ServiceRequest> out;
  while (st.step()) out.push_back(kSrRow.read(st));
  return out;
}

void ServiceRequests::require_open(Id id) {
  // Only the status: every change to an SR checks this first, and reading the whole row
  // for it was most of what adding a step cost.
  auto st = db_.prepare("SELECT status = 'Closed' FROM service_requests WHERE id = ?1");
  st.bind(1, id);
  if (!st.step()) throw Error(ErrorCode::not_found, "no SR with id " + std::to_string(id));
  if (st.integer(0) != 0)
    throw Error(ErrorCode::invalid, "SR " + std::to_string(id) + " is closed");
}

void ServiceRequests::touch(Id id) {
  // An SR worked several times in the same instant (a procedure adding its steps and notes)
  // is written, and audited, once.
  db_.prepare("UPDATE service_requests SET updated_at = ?1 WHERE id = ?2 AND updated_at IS NOT ?1")
      .bind_all(now(), id)
      .run();
}

void ServiceRequests::set_status(Id id, std::string_view status,
                                 const std::optional<std::string>& sub_status) {
  const auto canonical = catalogue_.status(status);
  if (!canonical) {
    std::string known;
    for (const auto& s : catalogue_.statuses()) known += (known.empty() ? "" : ", ") + s;
    throw Error(ErrorCode::bad_argument,
                "unknown SR status '" + std::string(status) + "' (one of: " + known + ")");
  }
  if (*canonical == "Closed") {
    close(id, sub_status.value_or("Complete"), std::nullopt);
    return;
  }
  require_open(id);
  db_.prepare(
         "UPDATE service_requests SET status = ?1, sub_status = ?2, updated_at = ?3 "
         "WHERE id = ?4")
      .bind_all(*canonical, sub_status, now(), id)
      .run();
}

void ServiceRequests::set_reason(Id id, const std::optional<std::string>& reason) {
  require_open(id);
  db_.prepare("UPDATE service_requests SET reason = ?1, updated_at = ?2 WHERE id = ?3")
      .bind_all(reason, now(), id)
      .run();
}

void ServiceRequests::set_resolution_code(Id id, const std::optional<std::string>& code) {
  require_open(id);
  db_.prepare("UPDATE service_requests SET resolution_code = ?1, updated_at = ?2 WHERE id = ?3")
      .bind_all(code, now(), id)
      .run();
}

void ServiceRequests::close(Id id, std::string_view sub_status,
                            const std::optional<std::string>& resolution) {
  require_open(id);
  const std::string t = now();
  db_.prepare(
         "UPDATE service_requests SET status = 'Closed', sub_status = ?1, "
         "resolution_code = coalesce(?2, resolution_code), updated_at = ?3, closed_at = ?3 "
         "WHERE id = ?4")
      .bind_all(sub_status, resolution, t, id)
      .run();
}

void ServiceRequests::add_note(Id id, std::string_view author, std::string_view body) {
  get(id);
  if (body.empty()) throw Error(ErrorCode::bad_argument, "an SR note cannot be empty");
  db_.prepare("INSERT INTO sr_notes(sr_id, author, body, created_at) VALUES (?1, ?2, ?3, ?4)")
      .bind_all(id, author, body, now())
      .run();
  touch(id);
}

std::vector<SrNote> ServiceRequests::notes(Id id) {
  auto st =
      db_.prepare("SELECT author, body, created_at FROM sr_notes WHERE sr_id = ?1 ORDER BY id");
  st.bind(1, id);
  std::vector<SrNote> out;
  while (st.step()) out.push_back(SrNote{st.text(0), st.text(1), st.text(2)});
  return out;
}

void ServiceRequests::set_field(Id id, std::string_view name,
                                const std::optional<std::string>& value) {
  require_open(id);
  if (name.empty()) throw Error(ErrorCode::bad_argument, "an SR field needs a name");
  if (value) {
    db_.prepare(
           "INSERT INTO sr_fields(sr_id, name, value) VALUES (?1, ?2, ?3) "
           "ON CONFLICT(sr_id, name) DO UPDATE SET value = excluded.value")
        .bind_all(id, name, *value)
        .run();
  } else {
    db_.prepare("DELETE FROM sr_fields WHERE sr_id = ?1 AND name = ?2").bind_all(id, name).run();
  }
  touch(id);
}

std::optional<std::string> ServiceRequests::field(Id id, std::string_view name) {
  auto st = db_.prepare("SELECT value FROM sr_fields WHERE sr_id = ?1 AND name = ?2");
  st.bind_all(id, name);
  if (st.step()) return st.text(0);
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> ServiceRequests::fields(Id id) {
  auto st = db_.prepare("SELECT name, value FROM sr_fields WHERE sr_id = ?1 ORDER BY name");
  st.bind(1, id);
  std::vector<std::pair<std::string, std::string>> out;
  while (st.step()) out.emplace_back(st.text(0), st.text(1));
  return out;
}

namespace {

constexpr const char* kStepStatuses[] = {"pending", "done", "skipped"};

// An SR's activity plan as it is stored (schema 35): the names of its steps in order, kept
// once in step_plans; `in_rows` for an SR whose steps were first given before that, a row
// each in sr_steps, which it keeps.
struct StoredPlan {
  bool in_rows = false;
  std::vector<std::string> names;
};

StoredPlan stored_plan(Database& db, Id sr) {
  auto st = db.prepare(
      "SELECT p.names, s.plan_id IS NULL AND EXISTS (SELECT 1 FROM sr_steps WHERE sr_id = s.id) "
      "FROM service_requests s LEFT JOIN step_plans p ON p.id = s.plan_id WHERE s.id = ?1");
  st.bind(1, sr);
  if (!st.step()) throw Error(ErrorCode::not_found, "no SR with id " + std::to_string(sr));
  StoredPlan plan;
  plan.in_rows = st.integer(1) != 0;
  if (const auto names = st.optional_text(0)) {
    plan.names = step_plan_names(*names, "SR " + std::to_string(sr) + "'s activity plan");
  }
  return plan;
}

// The id of the plan with these names, kept now if no SR had it yet.
Id keep_plan(Database& db, const std::vector<std::string>& names) {
  const std::string text = nlohmann::json(names).dump();
  auto st = db.prepare("SELECT id FROM step_plans WHERE names = ?1");
  st.bind(1, text);
  if (st.step()) return st.integer(0);
  db.prepare("INSERT INTO step_plans(names) VALUES (?1)").bind_all(text).run();
  return db.last_insert_id();
}

void mark_step(Database& db, Id sr, std::int64_t seq, std::string_view status,
               const std::string& at) {
  if (status == "pending") {
    db.prepare("DELETE FROM sr_step_marks WHERE sr_id = ?1 AND seq = ?2").bind_all(sr, seq).run();
    return;
  }
  db.prepare(
        "INSERT INTO sr_step_marks(sr_id, seq, status, at) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (sr_id, seq) DO UPDATE SET status = excluded.status, at = excluded.at")
      .bind_all(sr, seq, status, at)
      .run();
}

// An SR whose steps were first given before schema 35 keeps a row for each step in sr_steps.

void add_step_rows(Database& db, Id sr, const std::vector<std::string>& names,
                   std::string_view status, const std::string& at) {
  auto last = db.prepare("SELECT coalesce(max(seq), 0) FROM sr_steps WHERE sr_id = ?1");
  last.bind(1, sr);
  last.step();
  std::int64_t seq = last.integer(0);
  for (const auto& name : names) {
    if (name.empty()) throw Error(ErrorCode::bad_argument, "an activity step needs a name");
    db.prepare(
          "INSERT INTO sr_steps(sr_id, seq, name, status, completed_at) VALUES "
          "(?1, ?2, ?3, ?4, CASE WHEN ?4 = 'pending' THEN NULL ELSE ?5 END)")
        .bind_all(sr, ++seq, name, status, at)
        .run();
  }
}

void set_step_row(Database& db, Id sr, std::string_view name, std::string_view status,
                  const std::string& at) {
  db.prepare(
        "UPDATE sr_steps SET status = ?1, completed_at = CASE WHEN ?1 = 'pending' THEN "
        "NULL ELSE ?2 END WHERE sr_id = ?3 AND name = ?4")
      .bind_all(status, at, sr, name)
      .run();
  if (db.changes() == 0) {
    throw Error(ErrorCode::not_found,
                "SR " + std::to_string(sr) + " has no activity step '" + std::string(name) + "'");
  }
}

std::vector<SrStep> step_rows(Database& db, Id sr) {
  auto st = db.prepare(
      "SELECT seq, name, status, completed_at FROM sr_steps WHERE sr_id = ?1 ORDER BY seq");
  st.bind(1, sr);
  std::vector<SrStep> out;
  while (st.step())
    out.push_back(SrStep{st.integer(0), st.text(1), st.text(2), st.optional_text(3)});
  return out;
}

}  // namespace

void ServiceRequests::add_step(Id id, std::string_view name) {
  add_steps(id, std::vector<std::string>{std::string(name)}, "pending");
}

void ServiceRequests::add_steps(Id id, const std::vector<std::string>& names,
                                std::string_view status) {
  require_one_of("activity step status", status, kStepStatuses);
  require_open(id);
  const std::string at = now();
  StoredPlan plan = stored_plan(db_, id);
  if (plan.in_rows) {
    add_step_rows(db_, id, names, status, at);
    return touch(id);
  }
  const auto first = static_cast<std::int64_t>(plan.names.size()) + 1;
  for (const auto& name : names) {
    if (name.empty()) throw Error(ErrorCode::bad_argument, "an activity step needs a name");
    if (std::find(plan.names.begin(), plan.names.end(), name) != plan.names.end()) {
      throw Error(ErrorCode::conflict,
                  "SR " + std::to_string(id) + " already has the activity step '" + name + "'");
    }
    plan.names.push_back(name);
  }
  if (names.empty()) return touch(id);
  db_.prepare("UPDATE service_requests SET plan_id = ?1, updated_at = ?2 WHERE id = ?3")
      .bind_all(keep_plan(db_, plan.names), at, id)
      .run();
  if (status == "pending") return;
  for (auto seq = first; seq <= static_cast<std::int64_t>(plan.names.size()); ++seq) {
    mark_step(db_, id, seq, status, at);
  }
}

void ServiceRequests::set_step(Id id, std::string_view name, std::string_view status) {
  require_one_of("activity step status", status, kStepStatuses);
  require_open(id);
  // The step's place found by SQLite in the plan's list: taking a step is on every
  // procedure's path, and parsing the plan for it was a twentieth of an import.
  auto st = db_.prepare(
      "SELECT s.plan_id, (SELECT k.key FROM json_each(p.names) k WHERE k.value = ?2) "
      "FROM service_requests s LEFT JOIN step_plans p ON p.id = s.plan_id WHERE s.id = ?1");
  st.bind_all(id, name);
  st.step();
  if (st.is_null(0)) {  // no plan yet, or steps kept a row each
    set_step_row(db_, id, name, status, now());
    return touch(id);
  }
  if (st.is_null(1)) {
    throw Error(ErrorCode::not_found,
                "SR " + std::to_string(id) + " has no activity step '" + std::string(name) + "'");
  }
  mark_step(db_, id, st.integer(1) + 1, status, now());
  touch(id);
}

std::vector<SrStep> ServiceRequests::steps(Id id) {
  const StoredPlan plan = stored_plan(db_, id);
  if (plan.in_rows) return step_rows(db_, id);
  std::vector<SrStep> out;
  out.reserve(plan.names.size());
  for (std::size_t i = 0; i < plan.names.size(); ++i) {
    out.push_back(SrStep{static_cast<std::int64_t>(i) + 1, plan.names[i], "pending", {}});
  }
  auto st = db_.prepare("SELECT seq, status, at FROM sr_step_marks WHERE sr_id = ?1");
  st.bind(1, id);
  while (st.step()) {
    const auto seq = st.integer(0);
    if (seq < 1 || seq > static_cast<std::int64_t>(out.size())) {
      throw Error(ErrorCode::storage, "SR " + std::to_string(id) + " has a mark on step " +
                                          std::to_string(seq) + ", which its plan does not have");
    }
    out[static_cast<std::size_t>(seq - 1)].status = st.text(1);
    out[static_cast<std::size_t>(seq - 1)].completed_at = st.text(2);
  }
  return out;
}

void ServiceRequests::relate(Id id, Id other) {
  get(id);
  get(other);
  if (id == other) throw Error(ErrorCode::bad_argument, "an SR cannot be related to itself");
  // Stored both ways so that either SR lists the other.
  db_.prepare("INSERT OR IGNORE INTO sr_relations(sr_id, related_sr_id) VALUES (?1, ?2), (?2, ?1)")
      .bind_all(id, other)
      .run();
}

std::vector<Id> ServiceRequests::related(Id id) {
  auto st =
      db_.prepare("SELECT related_sr_id FROM sr_relations WHERE sr_id = ?1 ORDER BY related_sr_id");
  st.bind(1, id);
  std::vector<Id> out;
  while (st.step()) out.push_back(st.integer(0));
  return out;
}

nlohmann::json to_json(const ServiceRequest& r) {
  return {{"id", r.id},
          {"process", r.process},
          {"area", r.area},
          {"sub_area", r.sub_area},
          {"status", r.status},
          {"sub_status", or_null(r.sub_status)},
          {"resolution_code", or_null(r.resolution_code)},
          {"reason", or_null(r.reason)},
          {"casegroup_id", or_null(r.casegroup_id)},
          {"case_id", or_null(r.case_id)},
          {"parent_id", or_null(r.parent_id)},
          {"owner_team", or_null(r.owner_team)},
          {"created_at", r.created_at},
          {"updated_at", r.updated_at},
          {"closed_at", or_null(r.closed_at)}};
}

}  // namespace casekit
