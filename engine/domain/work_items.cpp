#include "engine/domain/work_items.hpp"
#include "engine/core/json.hpp"

#include <algorithm>

#include "engine/core/error.hpp"
#include "engine/core/text.hpp"
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
  check_role_and_team(role, team);
  auto exists = db_.prepare("SELECT 1 FROM users WHERE name = ?1");
  exists.bind(1, name);
  if (exists.step()) throw Error(ErrorCode::conflict, "user '" + name + "' already exists");
  db_.prepare("INSERT INTO users(name, role, team, created_at) VALUES (?1, ?2, ?3, ?4)")
      .bind_all(name, role, team, format_instant(clock_.now()))
      .run();
  return {db_.last_insert_id(), name, role, team, std::nullopt};
}

void Users::check_role_and_team(const std::string& role,
                                const std::optional<std::string>& team) const {
  if (std::find(std::begin(kRoles), std::end(kRoles), role) == std::end(kRoles)) {
    std::string roles;
    for (const char* r : kRoles) roles += (roles.empty() ? "" : ", ") + std::string(r);
    throw Error(ErrorCode::bad_argument, "unknown role '" + role + "' (roles: " + roles + ")");
  }
  if (team && std::find(teams_.begin(), teams_.end(), *team) == teams_.end()) {
    throw Error(ErrorCode::bad_argument, "unknown team '" + *team + "' (teams: " + joined(teams_) +
                                             "; the owner teams of procedures/sr_catalogue.toml)");
  }
}

User Users::update(const std::string& name, const UserChange& change) {
  const User u = get(name);
  if (!change.role && !change.team) {
    throw Error(ErrorCode::bad_argument, "give a role, a team, or both");
  }
  const std::string role = change.role.value_or(u.role);
  const std::optional<std::string> team = change.team.value_or(u.team);
  check_role_and_team(role, team);
  db_.prepare("UPDATE users SET role = ?1, team = ?2 WHERE id = ?3")
      .bind_all(role, team, u.id)
      .run();
  return get(name);
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

void read_details(const Statement& st, int i, WorkItem& w) {
  w.spec.details = st.is_null(i) ? nlohmann::json() : nlohmann::json::parse(st.text(i));
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
    column<&WorkItem::spec, &WorkItemSpec::key>("dedupe_key"),
    column<&WorkItem::team>("team"),
    column<&WorkItem::casegroup>("casegroup_id"),
    column<&WorkItem::assignee>("assignee"),
    column<WorkItem>("details", read_details),
    column<&WorkItem::spec, &WorkItemSpec::ends_with_sr>("ends_with_sr")};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Segregation of duties: nobody completes an item they submitted, or one that approves or
// signs off what they entered or amended (anyone it names in not_by), whatever its kind.
// Names are compared without regard to case: "Tina" is tina.
std::string preparer_refusal(const WorkItemSpec& spec, const std::string& user) {
  const bool submitted = spec.submitted_by && iequals(*spec.submitted_by, user);
  const bool prepared = std::any_of(spec.not_by.begin(), spec.not_by.end(),
                                    [&](const std::string& n) { return iequals(n, user); });
  if (!submitted && !prepared) return {};
  return user +
         (submitted ? " submitted this request"
                    : " entered or amended what this request approves") +
         " and cannot approve it (segregation of duties); another team leader must";
}

void refuse_preparer(const WorkItemSpec& spec, const std::string& user) {
  if (auto why = preparer_refusal(spec, user); !why.empty()) {
    throw Error(ErrorCode::forbidden, why);
  }
}

std::string item_name(Id id) {
  return "work item " + std::to_string(id);
}

std::string claim_refusal(const WorkItem& item, const std::string& user) {
  if (!item.assignee || iequals(*item.assignee, user)) return {};
  return item_name(item.id) + " is claimed by " + *item.assignee +
         "; they or a team leader must release it first";
}

std::string open_refusal(const WorkItem& item) {
  if (item.status == "open") return {};
  return item_name(item.id) + " is already " + item.status;
}

void require_open(const WorkItem& item) {
  if (auto why = open_refusal(item); !why.empty()) throw Error(ErrorCode::conflict, why);
}

// One cursor field: digits, or a date; anything else is not a cursor we gave out.
bool plain_cursor_part(const std::string& s) {
  return !s.empty() && s.size() <= 20 && s.find_first_not_of("0123456789-") == std::string::npos;
}

}  // namespace

Id WorkItems::create(const WorkItemSpec& spec) {
  inboxes_.require(spec.inbox);
  if (spec.title.empty()) throw Error(ErrorCode::bad_argument, "a work item needs a title");
  if (!spec.details.is_null() && !spec.details.is_object()) {
    throw Error(ErrorCode::bad_argument, "a work item's details are a table of names");
  }
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
  if (spec.ends_with_sr && !spec.sr_id) {
    throw Error(ErrorCode::bad_argument, "a work item that ends with its SR needs an SR");
  }
  if (spec.team && spec.sr_id) {
    throw Error(ErrorCode::bad_argument, "a work item on an SR takes the SR's owner team");
  }
  if (spec.team && !contains(users_.teams(), *spec.team)) {
    throw Error(ErrorCode::bad_argument, "unknown team '" + *spec.team + "'");
  }
  if (spec.key) {
    auto st = db_.prepare("SELECT id FROM work_items WHERE dedupe_key = ?1");
    st.bind(1, *spec.key);
    if (st.step()) return st.integer(0);
  }
  db_.prepare(
         "INSERT INTO work_items(inbox, kind, sr_id, title, outcomes, fields, required_fields, "
         "due_date, submitted_by, not_by, instance_id, dedupe_key, created_at, team, "
         "casegroup_id, details, ends_with_sr) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
         "COALESCE(?15, (SELECT NULLIF(owner_team, '') FROM service_requests WHERE id = ?3)), "
         "(SELECT casegroup_id FROM service_requests WHERE id = ?3), ?14, ?16)")
      .bind_all(
          spec.inbox, spec.kind, spec.sr_id, spec.title, nlohmann::json(spec.outcomes).dump(),
          nlohmann::json(spec.fields).dump(), nlohmann::json(spec.required).dump(), spec.due_date,
          spec.submitted_by,
          spec.not_by.empty() ? std::nullopt : std::optional(nlohmann::json(spec.not_by).dump()),
          spec.instance_id, spec.key, format_instant(clock_.now()),
          spec.details.is_null() ? std::nullopt : std::optional(spec.details.dump()), spec.team,
          spec.ends_with_sr)
      .run();
  return db_.last_insert_id();
}

WorkItem WorkItems::get(Id id) {
  auto st = db_.prepare(kWorkItemRow.select("FROM work_items WHERE id = ?1"));
  st.bind(1, id);
  if (!st.step()) throw Error(ErrorCode::not_found, "no work item " + std::to_string(id));
  return kWorkItemRow.read(st);
}

std::vector<WorkItem> WorkItems::list(const std::optional<std::string>& inbox, bool include_closed,
                                      Id after, std::int64_t limit) {
  if (inbox) inboxes_.require(*inbox);
  auto st = db_.prepare(
      kWorkItemRow.select("FROM work_items WHERE id > ?3 AND (?1 IS NULL OR inbox = ?1) "
                          "AND (?2 OR status = 'open') ORDER BY id LIMIT ?4"));
  st.bind_all(inbox, static_cast<std::int64_t>(include_closed), after, limit);
  std::vector<WorkItem> out;
  while (st.step()) out.push_back(kWorkItemRow.read(st));
  return out;
}

WorkItem WorkItems::complete(Id id, const std::string& outcome,
                             const std::map<std::string, std::string>& fields,
                             const std::string& user_name) {
  const WorkItem item = get(id);
  const std::string what = item_name(id);
  require_open(item);
  const User user = users_.require(user_name);
  require_may_work(item, user);
  if (auto why = claim_refusal(item, user.name); !why.empty()) {
    throw Error(ErrorCode::conflict, why);
  }
  if (!contains(item.spec.outcomes, outcome)) {
    throw Error(ErrorCode::bad_argument, "unknown outcome '" + outcome + "' for " + what +
                                             " (outcomes: " + joined(item.spec.outcomes) + ")");
  }
  for (const auto& [name, value] : fields) {
    if (!contains(item.spec.fields, name)) {
      throw Error(ErrorCode::bad_argument,
                  "unknown field '" + name + "' for " + what + " (fields: " +
                      (item.spec.fields.empty() ? "none" : joined(item.spec.fields)) + ")",
                  name);
    }
  }
  for (const char* key : {"*", outcome.c_str()}) {
    auto it = item.spec.required.find(key);
    if (it == item.spec.required.end()) continue;
    for (const auto& name : it->second) {
      auto f = fields.find(name);
      if (f == fields.end() || f->second.empty()) {
        throw Error(ErrorCode::bad_argument, "outcome '" + outcome + "' needs field '" + name + "'",
                    name);
      }
    }
  }
  refuse_preparer(item.spec, user.name);
  // Only an open item is completed, and only once: of two completions that both read it
  // open, the second changes no row and is refused, so its instance resumes once.
  db_.prepare(
         "UPDATE work_items SET status = 'completed', outcome = ?1, field_values = ?2, "
         "completed_by = ?3, completed_at = ?4 WHERE id = ?5 AND status = 'open'")
      .bind_all(outcome, nlohmann::json(fields).dump(), user.name, format_instant(clock_.now()), id)
      .run();
  if (db_.changes() != 1) throw Error(ErrorCode::conflict, what + " was completed meanwhile");
  return get(id);
}

std::string WorkItems::refusal_to_see(const WorkItem& item, const User& user) const {
  if (user.role == "operator") return {};
  return refusal_to_work(item, user);
}

std::string WorkItems::refusal_to_work(const WorkItem& item, const User& user) const {
  const Inbox& inbox = inboxes_.require(item.spec.inbox);
  if (!contains(inbox.roles, user.role)) {
    return user.name + " is " + with_article(user.role) + "; inbox '" + inbox.name +
           "' needs: " + joined(inbox.roles);
  }
  if (item.team && !user.team) {
    return item_name(item.id) + " belongs to team " + *item.team + ", and " + user.name +
           " is in no team";
  }
  if (item.team && *item.team != *user.team) {
    return item_name(item.id) + " belongs to team " + *item.team + ", not to " + user.name +
           "'s team " + *user.team;
  }
  return {};
}

std::string WorkItems::refusal_to_complete(const WorkItem& item, const User& user) const {
  if (auto why = open_refusal(item); !why.empty()) return why;
  if (auto why = refusal_to_work(item, user); !why.empty()) return why;
  if (auto why = claim_refusal(item, user.name); !why.empty()) return why;
  return preparer_refusal(item.spec, user.name);
}

void WorkItems::require_may_work(const WorkItem& item, const User& user) const {
  if (auto why = refusal_to_work(item, user); !why.empty()) throw Error(ErrorCode::forbidden, why);
}

WorkItem WorkItems::get_for(Id id, const User& user) {
  WorkItem item = get(id);
  if (!refusal_to_see(item, user).empty()) throw Error(ErrorCode::not_found, "no " + item_name(id));
  return item;
}

void require_team_leader(const User& user, std::string_view what) {
  if (user.role != "team_leader") {
    throw Error(ErrorCode::forbidden, "only a team leader may " + std::string(what) + "; " +
                                          user.name + " is " + with_article(user.role));
  }
}

void require_operator(const User& user, std::string_view what) {
  if (user.role != "operator") {
    throw Error(ErrorCode::forbidden, "only operators " + std::string(what) + "; " + user.name +
                                          " is " + with_article(user.role));
  }
}

WorkItemQuery work_item_query(const std::map<std::string, std::string>& params, const User& user) {
  WorkItemQuery q;
  for (const auto& [key, value] : params) {
    if (value.empty()) continue;
    if (key == "inbox") {
      q.inbox = value;
    } else if (key == "kind") {
      q.kind = value;
    } else if (key == "procedure") {
      q.procedure = value;
    } else if (key == "status") {
      q.status = value;
    } else if (key == "assignee") {
      q.assignee = value == "me" ? user.name : value == "none" ? "" : value;
    } else if (key == "casegroup") {
      q.casegroup = whole_number(key, value);
    } else if (key == "sr") {
      q.sr = whole_number(key, value);
    } else if (key == "overdue") {
      if (value != "true" && value != "false") {
        throw Error(ErrorCode::bad_argument, "overdue must be true or false");
      }
      q.overdue = value == "true";
    } else if (key == "sort") {
      q.sort = value;
    } else if (key == "limit") {
      q.limit = static_cast<int>(std::min<std::int64_t>(whole_number(key, value), 100000));
    } else if (key == "cursor") {
      q.cursor = value;
    } else {
      throw Error(ErrorCode::bad_argument, "unknown query parameter '" + key + "'");
    }
  }
  return q;
}

void WorkItems::check(const WorkItemQuery& q) const {
  if (q.inbox) inboxes_.require(*q.inbox);
  if (q.limit < 1 || q.limit > 500) {
    throw Error(ErrorCode::bad_argument, "limit must be 1 to 500");
  }
  if (q.status != "open" && q.status != "completed" && q.status != "cancelled") {
    throw Error(ErrorCode::bad_argument, "status must be open, completed or cancelled");
  }
  if (q.sort != "due" && q.sort != "created") {
    throw Error(ErrorCode::bad_argument, "sort must be due or created");
  }
}

WorkItemPage WorkItems::query(const WorkItemQuery& q, const User& user) {
  check(q);
  // Every value is bound, never spliced: a filter is data whatever text it holds.
  std::string where = "status = ?";
  std::vector<std::optional<std::string>> values{q.status};
  const auto add = [&](const std::string& clause, std::optional<std::string> value) {
    where += " AND " + clause;
    values.push_back(std::move(value));
  };
  // What the user may see: the inboxes their role may work (every inbox for an operator),
  // and their team's items and items with no team.
  if (user.role != "operator") {
    std::string in;
    for (const Inbox& i : inboxes_.inboxes()) {
      if (!contains(i.roles, user.role)) continue;
      in += in.empty() ? "?" : ", ?";
      values.push_back(i.name);
    }
    if (in.empty()) return {};
    where += " AND inbox IN (" + in + ")";
  }
  // A team member sees their team's items and those with no team; a user in no team, only
  // those with no team; an operator, every team's.
  const std::optional<std::string> team = user.role == "operator" ? std::nullopt : user.team;
  if (user.role != "operator" && !user.team) where += " AND team IS NULL";
  if (q.inbox) add("inbox = ?", q.inbox);
  if (q.kind) add("kind = ?", q.kind);
  // Each candidate item's instance, by its key: never a list of every instance of the
  // procedure, which at a caseload's size is most of them.
  if (q.procedure) {
    add("EXISTS (SELECT 1 FROM instances i WHERE i.id = work_items.instance_id AND "
        "i.procedure = ?)",
        *q.procedure);
  }
  if (q.assignee) {
    if (q.assignee->empty()) {
      where += " AND assignee IS NULL";
    } else {
      add("assignee = ?", q.assignee);
    }
  }
  if (q.casegroup) add("casegroup_id = CAST(? AS INTEGER)", std::to_string(*q.casegroup));
  if (q.sr) add("sr_id = CAST(? AS INTEGER)", std::to_string(*q.sr));
  if (q.overdue) add("due_date < ?", format_date(clock_.today()));

  // With a team, each statement below asks twice, once for the team's items and once for
  // those with no team: the filters' values, the team, the filters' values again.
  const auto bind = [&](Statement& st) {
    int i = 0;
    for (const auto& v : values) st.bind(++i, v);
    if (team) {
      st.bind(++i, team);
      for (const auto& v : values) st.bind(++i, v);
    }
  };
  // The total. Without filters beyond status and inbox it is read from the counts the
  // triggers keep (schema 16), a row per inbox and team (a NULL team is '' there, so it is
  // read back as NULL for the same conditions). Otherwise it is counted, as two equalities
  // on the team rather than one OR, so that each is a range of the (status, inbox, team,
  // ...) index and the count reads only the user's team's entries.
  const bool counted_by_triggers =
      !q.kind && !q.procedure && !q.assignee && !q.casegroup && !q.sr && !q.overdue;
  std::int64_t total = 0;
  if (counted_by_triggers) {
    auto st = db_.prepare(
        "SELECT IFNULL(sum(n), 0) FROM (SELECT status, inbox, NULLIF(team, '') AS team, n FROM "
        "work_item_counts) WHERE " +
        where + (team ? " AND (team = ? OR team IS NULL)" : ""));
    int i = 0;
    for (const auto& v : values) st.bind(++i, v);
    if (team) st.bind(++i, team);
    st.step();
    total = st.integer(0);
  } else {
    auto st = db_.prepare(team ? "SELECT (SELECT count(*) FROM work_items WHERE " + where +
                                     " AND team = ?) + (SELECT count(*) FROM work_items WHERE " +
                                     where + " AND team IS NULL)"
                               : "SELECT count(*) FROM work_items WHERE " + where);
    bind(st);
    st.step();
    total = st.integer(0);
  }
  // The order pages follow, and the cursor that resumes it: "DUE/ID" or "ID". Keys are
  // unique and never change, so a page follows from where the last ended even while items
  // are added.
  const bool by_due = q.sort == "due";
  const std::string due_key = "IFNULL(due_date, '9999-12-31')";
  if (q.cursor) {
    const auto slash = q.cursor->find('/');
    const std::string due = slash == std::string::npos ? "" : q.cursor->substr(0, slash);
    const std::string after = slash == std::string::npos ? *q.cursor : q.cursor->substr(slash + 1);
    if (!plain_cursor_part(after) || (by_due != (slash != std::string::npos)) ||
        (by_due && !plain_cursor_part(due))) {
      throw Error(ErrorCode::bad_argument, "cursor is not one this listing gave out");
    }
    if (by_due) {
      where += " AND (" + due_key + ", id) > (?, CAST(? AS INTEGER))";
      values.push_back(due);
    } else {
      where += " AND id > CAST(? AS INTEGER)";
    }
    values.push_back(after);
  }
  // One more than a page, to know whether another follows. For a user with a team, the
  // page of their team's items and the page of items with no team are each read in order
  // from an index range, and merged: an OR would walk every item of the inbox.
  const std::string order = " ORDER BY " + (by_due ? due_key + ", id" : std::string("id")) +
                            " LIMIT " + std::to_string(q.limit + 1);
  const auto ordered = [&](const std::string& condition) {
    return "SELECT * FROM (" + kWorkItemRow.select("FROM work_items WHERE " + where + condition) +
           order + ")";
  };
  auto st = db_.prepare(team ? "SELECT * FROM (" + ordered(" AND team = ?") + " UNION ALL " +
                                   ordered(" AND team IS NULL") + ")" + order
                             : kWorkItemRow.select("FROM work_items WHERE " + where) + order);
  bind(st);
  WorkItemPage page;
  page.total = total;
  while (st.step()) page.items.push_back(kWorkItemRow.read(st));
  if (static_cast<int>(page.items.size()) > q.limit) {
    page.items.pop_back();
    const WorkItem& last = page.items.back();
    page.next_cursor =
        (by_due ? last.spec.due_date.value_or("9999-12-31") + "/" : "") + std::to_string(last.id);
  }
  return page;
}

WorkItem WorkItems::claim(Id id, const std::string& user_name) {
  const WorkItem item = get(id);
  const User user = users_.require(user_name);
  require_open(item);
  require_may_work(item, user);
  if (item.assignee && iequals(*item.assignee, user.name)) return item;
  if (item.assignee) {
    throw Error(ErrorCode::conflict, item_name(id) + " is claimed by " + *item.assignee);
  }
  db_.prepare("UPDATE work_items SET assignee = ?1 WHERE id = ?2 AND assignee IS NULL")
      .bind_all(user.name, id)
      .run();
  return get(id);
}

WorkItem WorkItems::release(Id id, const std::string& user_name) {
  const WorkItem item = get(id);
  const User user = users_.require(user_name);
  require_open(item);
  require_may_work(item, user);
  if (!item.assignee) return item;
  if (!iequals(*item.assignee, user.name) && user.role != "team_leader") {
    throw Error(ErrorCode::forbidden, item_name(id) + " is claimed by " + *item.assignee +
                                          "; only they or a team leader may release it");
  }
  db_.prepare("UPDATE work_items SET assignee = NULL WHERE id = ?1").bind(1, id).run();
  return get(id);
}

WorkItem WorkItems::assign(Id id, const std::string& to,
                           const std::optional<std::string>& if_assignee, const std::string& by) {
  const WorkItem item = get(id);
  const User giver = users_.require(by);
  require_open(item);
  require_team_leader(giver, "assign work");
  require_may_work(item, giver);
  const User taker = users_.require(to);
  require_may_work(item, taker);
  if (giver.team && taker.team != giver.team) {
    throw Error(ErrorCode::forbidden,
                taker.name + " is not in " + giver.name + "'s team " + *giver.team);
  }
  // Compare and set: the assignee must still be the one the caller saw.
  db_.prepare(
         "UPDATE work_items SET assignee = ?1 WHERE id = ?2 AND status = 'open' AND "
         "assignee IS ?3")
      .bind_all(taker.name, id, if_assignee)
      .run();
  if (db_.changes() != 1) {
    throw Error(ErrorCode::conflict, item_name(id) + " is now assigned to " +
                                         get(id).assignee.value_or("nobody") +
                                         ", not to whom you saw; look again");
  }
  return get(id);
}

std::vector<AssignmentResult> WorkItems::assign_each(const std::vector<Assignment>& list,
                                                     const std::string& by) {
  const User leader = users_.require(by);
  require_team_leader(leader, "assign work");
  if (list.size() > kMaxBulk) {
    throw Error(ErrorCode::bad_argument,
                "at most " + std::to_string(kMaxBulk) + " items at once; send the rest after");
  }
  std::vector<AssignmentResult> out;
  out.reserve(list.size());
  for (const Assignment& a : list) {
    AssignmentResult r{a.id, "done", "", std::nullopt};
    Savepoint each(db_);  // one that fails is undone alone
    try {
      get_for(a.id, leader);  // an item the leader may not see answers as unknown
      r.item = assign(a.id, a.to, a.if_assignee, by);
      each.release();
    } catch (const Error& e) {
      r.message = e.what();
      r.result = e.code() == ErrorCode::conflict    ? "conflict"
                 : e.code() == ErrorCode::not_found ? "not_found"
                                                    : "refused";
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<InboxCount> WorkItems::counts(const User& user) {
  const bool operator_ = user.role == "operator";
  const std::string today = format_date(clock_.today());
  std::vector<InboxCount> out;
  for (const Inbox& inbox : inboxes_.inboxes()) {
    if (!operator_ && !contains(inbox.roles, user.role)) continue;
    // A team member sees their team's items and those with no team ('' in the counts).
    auto st = db_.prepare(
        "SELECT status, sum(n) FROM work_item_counts WHERE inbox = ?1 AND n > 0 AND "
        "(?2 OR team = '' OR team = ?3) GROUP BY status ORDER BY status");
    st.bind_all(inbox.name, operator_, user.team.value_or(""));
    while (st.step()) {
      InboxCount c{inbox.name, st.text(0), st.integer(1), 0};
      if (c.status == "open") {
        auto late = db_.prepare(
            "SELECT count(*) FROM work_items WHERE status = 'open' AND inbox = ?1 AND "
            "IFNULL(due_date, '9999-12-31') < ?2 AND (?3 OR team IS NULL OR team = ?4)");
        late.bind_all(inbox.name, today, operator_, user.team.value_or(""));
        late.step();
        c.overdue = late.integer(0);
      }
      out.push_back(std::move(c));
    }
  }
  return out;
}

std::vector<Workload> WorkItems::workload(const User& leader) {
  if (leader.role != "team_leader" || !leader.team) {
    throw Error(ErrorCode::forbidden, "only a team leader sees their team's workload; " +
                                          leader.name + " is " + with_article(leader.role) +
                                          (leader.team ? "" : " in no team"));
  }
  const std::string today = format_date(clock_.today());
  auto st = db_.prepare(R"sql(
SELECT u.name,
  (SELECT count(*) FROM work_items w WHERE w.assignee = u.name AND w.status = 'open'),
  (SELECT count(*) FROM work_items w WHERE w.assignee = u.name AND w.status = 'open'
     AND w.due_date < ?2),
  (SELECT count(*) FROM work_items w WHERE w.completed_by = u.name AND w.completed_at >= ?2)
FROM users u
WHERE u.team = ?1 AND u.role = 'caseworker' AND u.disabled_at IS NULL
ORDER BY u.name)sql");
  st.bind_all(*leader.team, today);
  std::vector<Workload> out;
  while (st.step()) {
    out.push_back({st.text(0), st.integer(1), st.integer(2), st.integer(3)});
  }
  return out;
}

std::vector<WorkItem> WorkItems::opened_since(Id instance_id, Id after) {
  auto st = db_.prepare(kWorkItemRow.select(
      "FROM work_items WHERE instance_id = ?1 AND id > ?2 AND status = 'open' ORDER BY id"));
  st.bind_all(instance_id, after);
  std::vector<WorkItem> out;
  while (st.step()) out.push_back(kWorkItemRow.read(st));
  return out;
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
          {"team", or_null(w.team)},
          {"casegroup", or_null(w.casegroup)},
          {"assignee", or_null(w.assignee)},
          {"status", w.status},
          {"outcome", or_null(w.outcome)},
          {"field_values", w.field_values},
          {"completed_by", or_null(w.completed_by)},
          {"completed_at", or_null(w.completed_at)},
          {"created_at", w.created_at},
          {"key", or_null(w.spec.key)},
          {"details", w.spec.details},
          {"ends_with_sr", w.spec.ends_with_sr}};
}

}  // namespace casekit
