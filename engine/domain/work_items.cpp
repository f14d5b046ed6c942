#include "engine/domain/work_items.hpp"
#include "engine/core/json.hpp"

#include <algorithm>

#include "engine/core/error.hpp"
#include "engine/store/row_format.hpp"

namespace casekit {

// ---- users ----------------------------------------------------------------------------------

namespace {

const RowFormat kUserRow{column<&User::id>("id"), column<&User::name>("name"),
                         column<&User::role>("role"), column<&User::team>("team"),
                         column<&User::disabled_at>("disabled_at")};

}  // namespace

User Users::add(const std::string& name, const std::string& role,
                const std::optional<std::string>& team) {
  if (name.empty() || name.size() > 64 || name.find_first_of(" \t\n\r") != std::string::npos) {
    throw Error(ErrorCode::bad_argument, "user name must be 1-64 characters without spaces");
  }
  if (std::find(std::begin(kRoles), std::end(kRoles), role) == std::end(kRoles)) {
    std::string roles;
    for (const char* r : kRoles) roles += (roles.empty() ? "" : ", ") + std::string(r);
    throw Error(ErrorCode::bad_argument, "unknown role '" + role + "' (roles: " + roles + ")");
  }
  if (team && (team->empty() || team->size() > 64)) {
    throw Error(ErrorCode::bad_argument, "a team name must be 1-64 characters");
  }
  auto exists = db_.prepare("SELECT 1 FROM users WHERE name = ?1");
  exists.bind(1, name);
  if (exists.step()) throw Error(ErrorCode::conflict, "user '" + name + "' already exists");
  db_.prepare("INSERT INTO users(name, role, team, created_at) VALUES (?1, ?2, ?3, ?4)")
      .bind_all(name, role, team, format_instant(clock_.now()))
      .run();
  return {db_.last_insert_id(), name, role, team, std::nullopt};
}

User Users::get(const std::string& name) {
  auto st = db_.prepare(kUserRow.select("FROM users WHERE name = ?1"));
  st.bind(1, name);
  if (!st.step()) {
    throw Error(ErrorCode::not_found,
                "no user '" + name + "' (add one with: casekit user add NAME --role ROLE)");
  }
  return kUserRow.read(st);
}

User Users::require(const std::string& name) {
  User u = get(name);
  if (u.disabled_at) {
    throw Error(ErrorCode::invalid, "user '" + name + "' was disabled on " + *u.disabled_at);
  }
  return u;
}

std::vector<User> Users::list() {
  auto st = db_.prepare(kUserRow.select("FROM users ORDER BY name"));
  std::vector<User> out;
  while (st.step()) out.push_back(kUserRow.read(st));
  return out;
}

// ---- work items -----------------------------------------------------------------------------

namespace {

// The spec's lists and maps, and the values a person filled in, are JSON in text columns.
template <auto Member>
void read_json(const Statement& st, int i, WorkItem& w) {
  if (!st.is_null(i)) nlohmann::json::parse(st.text(i)).get_to(w.spec.*Member);
}

void read_field_values(const Statement& st, int i, WorkItem& w) {
  w.field_values = st.is_null(i) ? nlohmann::json::object() : nlohmann::json::parse(st.text(i));
}

const RowFormat kWorkItemRow{
    column<&WorkItem::id>("id"),
    column<&WorkItem::spec, &WorkItemSpec::inbox>("inbox"),
    column<&WorkItem::spec, &WorkItemSpec::kind>("kind"),
    column<&WorkItem::spec, &WorkItemSpec::sr_id>("sr_id"),
    column<&WorkItem::spec, &WorkItemSpec::title>("title"),
    column<WorkItem>("outcomes", read_json<&WorkItemSpec::outcomes>),
    column<WorkItem>("fields", read_json<&WorkItemSpec::fields>),
    column<WorkItem>("required_fields", read_json<&WorkItemSpec::required>),
    column<&WorkItem::spec, &WorkItemSpec::due_date>("due_date"),
    column<&WorkItem::spec, &WorkItemSpec::submitted_by>("submitted_by"),
    column<WorkItem>("not_by", read_json<&WorkItemSpec::not_by>),
    column<&WorkItem::spec, &WorkItemSpec::instance_id>("instance_id"),
    column<&WorkItem::status>("status"),
    column<&WorkItem::outcome>("outcome"),
    column<WorkItem>("field_values", read_field_values),
    column<&WorkItem::completed_by>("completed_by"),
    column<&WorkItem::completed_at>("completed_at"),
    column<&WorkItem::created_at>("created_at"),
    column<&WorkItem::spec, &WorkItemSpec::key>("dedupe_key")};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Segregation of duties: nobody approves what they submitted (an approval's submitter), or
// approves or signs off what they entered or amended (anyone an item names in not_by).
void refuse_preparer(const WorkItemSpec& spec, const std::string& user) {
  const bool submitted = spec.kind == "approval" && spec.submitted_by == user;
  if (!submitted && !contains(spec.not_by, user)) return;
  throw Error(ErrorCode::invalid,
              user +
                  (submitted ? " submitted this request"
                             : " entered or amended what this request approves") +
                  " and cannot approve it (segregation of duties); another team leader must");
}

}  // namespace

Id WorkItems::create(const WorkItemSpec& spec) {
  inboxes_.require(spec.inbox);
  if (spec.title.empty()) throw Error(ErrorCode::bad_argument, "a work item needs a title");
  if (spec.outcomes.empty()) {
    throw Error(ErrorCode::bad_argument, "a work item needs at least one outcome");
  }
  for (const auto& [outcome, names] : spec.required) {
    if (outcome != "*" && !contains(spec.outcomes, outcome)) {
      throw Error(ErrorCode::bad_argument,
                  "required fields name outcome '" + outcome + "', which is not an outcome");
    }
    for (const auto& n : names) {
      if (!contains(spec.fields, n)) {
        throw Error(ErrorCode::bad_argument,
                    "required field '" + n + "' is not in the work item's fields");
      }
    }
  }
  if (spec.key) {
    auto st = db_.prepare("SELECT id FROM work_items WHERE dedupe_key = ?1");
    st.bind(1, *spec.key);
    if (st.step()) return st.integer(0);
  }
  db_.prepare(
         "INSERT INTO work_items(inbox, kind, sr_id, title, outcomes, fields, required_fields, "
         "due_date, submitted_by, not_by, instance_id, dedupe_key, created_at) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)")
      .bind_all(
          spec.inbox, spec.kind, spec.sr_id, spec.title, nlohmann::json(spec.outcomes).dump(),
          nlohmann::json(spec.fields).dump(), nlohmann::json(spec.required).dump(), spec.due_date,
          spec.submitted_by,
          spec.not_by.empty() ? std::nullopt : std::optional(nlohmann::json(spec.not_by).dump()),
          spec.instance_id, spec.key, format_instant(clock_.now()))
      .run();
  return db_.last_insert_id();
}

WorkItem WorkItems::get(Id id) {
  auto st = db_.prepare(kWorkItemRow.select("FROM work_items WHERE id = ?1"));
  st.bind(1, id);
  if (!st.step()) throw Error(ErrorCode::not_found, "no work item " + std::to_string(id));
  return kWorkItemRow.read(st);
}

std::vector<WorkItem> WorkItems::list(const std::optional<std::string>& inbox,
                                      bool include_closed) {
  if (inbox) inboxes_.require(*inbox);
  auto st =
      db_.prepare(kWorkItemRow.select("FROM work_items WHERE (?1 IS NULL OR inbox = ?1) "
                                      "AND (?2 OR status = 'open') ORDER BY id"));
  st.bind_all(inbox, static_cast<std::int64_t>(include_closed));
  std::vector<WorkItem> out;
  while (st.step()) out.push_back(kWorkItemRow.read(st));
  return out;
}

WorkItem WorkItems::complete(Id id, const std::string& outcome,
                             const std::map<std::string, std::string>& fields,
                             const std::string& user_name) {
  const WorkItem item = get(id);
  const std::string what = "work item " + std::to_string(id);
  if (item.status != "open") throw Error(ErrorCode::invalid, what + " is already " + item.status);
  const User user = users_.require(user_name);
  const Inbox& inbox = inboxes_.require(item.spec.inbox);
  if (!contains(inbox.roles, user.role)) {
    throw Error(ErrorCode::invalid, user.name + " is a " + user.role + "; inbox '" + inbox.name +
                                        "' needs: " + joined(inbox.roles));
  }
  if (!contains(item.spec.outcomes, outcome)) {
    throw Error(ErrorCode::bad_argument, "unknown outcome '" + outcome + "' for " + what +
                                             " (outcomes: " + joined(item.spec.outcomes) + ")");
  }
  for (const auto& [name, value] : fields) {
    if (!contains(item.spec.fields, name)) {
      throw Error(ErrorCode::bad_argument,
                  "unknown field '" + name + "' for " + what + " (fields: " +
                      (item.spec.fields.empty() ? "none" : joined(item.spec.fields)) + ")");
    }
  }
  for (const char* key : {"*", outcome.c_str()}) {
    auto it = item.spec.required.find(key);
    if (it == item.spec.required.end()) continue;
    for (const auto& name : it->second) {
      auto f = fields.find(name);
      if (f == fields.end() || f->second.empty()) {
        throw Error(ErrorCode::bad_argument, "outcome '" + outcome + "' needs field '" + name +
                                                 "' (--field " + name + "=...)");
      }
    }
  }
  refuse_preparer(item.spec, user.name);
  db_.prepare(
         "UPDATE work_items SET status = 'completed', outcome = ?1, field_values = ?2, "
         "completed_by = ?3, completed_at = ?4 WHERE id = ?5 AND status = 'open'")
      .bind_all(outcome, nlohmann::json(fields).dump(), user.name, format_instant(clock_.now()), id)
      .run();
  return get(id);
}

void WorkItems::cancel_for_instance(Id instance_id) {
  db_.prepare(
         "UPDATE work_items SET status = 'cancelled' WHERE instance_id = ?1 AND status = 'open'")
      .bind(1, instance_id)
      .run();
}

std::optional<std::string> WorkItems::last_completed_by(Id instance_id) {
  auto st = db_.prepare(
      "SELECT completed_by FROM work_items WHERE instance_id = ?1 AND status = 'completed' "
      "ORDER BY completed_at DESC, id DESC LIMIT 1");
  st.bind(1, instance_id);
  if (!st.step()) return std::nullopt;
  return st.optional_text(0);
}

nlohmann::json to_json(const WorkItem& w) {
  return {{"id", w.id},
          {"inbox", w.spec.inbox},
          {"kind", w.spec.kind},
          {"title", w.spec.title},
          {"sr", or_null(w.spec.sr_id)},
          {"instance", or_null(w.spec.instance_id)},
          {"outcomes", w.spec.outcomes},
          {"fields", w.spec.fields},
          {"required", w.spec.required},
          {"due_date", or_null(w.spec.due_date)},
          {"submitted_by", or_null(w.spec.submitted_by)},
          {"not_by", w.spec.not_by},
          {"status", w.status},
          {"outcome", or_null(w.outcome)},
          {"field_values", w.field_values},
          {"completed_by", or_null(w.completed_by)},
          {"completed_at", or_null(w.completed_at)},
          {"created_at", w.created_at},
          {"key", or_null(w.spec.key)}};
}

}  // namespace casekit
