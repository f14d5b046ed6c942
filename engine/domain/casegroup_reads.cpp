#include "engine/domain/casegroup_reads.hpp"

#include <limits>

#include "engine/core/error.hpp"
#include "engine/core/json.hpp"
#include "engine/domain/step_plans.hpp"

namespace casekit {

nlohmann::json flags_json(const std::vector<std::string>& set) {
  nlohmann::json flags = nlohmann::json::object();
  for (const char* f : kFlags) flags[f] = std::find(set.begin(), set.end(), f) != set.end();
  return flags;
}

namespace {

nlohmann::json filter_json(const CasegroupFilter& f) {
  nlohmann::json j = nlohmann::json::object();
  auto put = [&](const char* name, const std::optional<std::string>& v) {
    if (v) j[name] = *v;
  };
  put("csa_ref", f.csa_ref);
  put("nino", f.nino);
  put("name", f.name);
  put("segment", f.segment);
  put("flag", f.flag);
  return j;
}

}  // namespace

nlohmann::json casegroup_json(Casegroups& casegroups, Ledger& ledger, ServiceRequests& srs,
                              const Casegroup& g) {
  nlohmann::json j = {{"id", g.id},
                      {"csa_ref", or_null(g.csa_ref)},
                      {"segment", g.segment},
                      {"service_type", g.service_type},
                      {"arrears_only", g.arrears_only},
                      {"region", g.region},
                      {"review_date", or_null(g.review_date)},
                      {"annual_review_date", or_null(g.annual_review_date)},
                      {"created_at", g.created_at},
                      {"flags", flags_json(g.flags)},
                      {"paying_parent", to_json(casegroups.client(g.paying_parent_id))}};
  const auto account = ledger.account_of_client(g.paying_parent_id);
  j["account"] = account ? to_json(*account) : nlohmann::json(nullptr);
  j["cases"] = nlohmann::json::array();
  for (const Case& c : casegroups.cases(g.id)) {
    auto cj = to_json(c);
    cj["receiving_parent"] = to_json(casegroups.client(c.receiving_parent_id));
    j["cases"].push_back(cj);
  }
  j["money"] = nlohmann::json::array();
  for (const auto& m : ledger.money_summary(g.id)) j["money"].push_back(to_json(m));
  j["dues"] = nlohmann::json::array();
  for (const Due& d : ledger.dues(g.id)) j["dues"].push_back(to_json(d));
  j["charges"] = nlohmann::json::array();
  for (const Charge& c : ledger.charges(g.id)) j["charges"].push_back(to_json(c));
  j["payments"] = nlohmann::json::array();
  if (account) {
    for (const Payment& p : ledger.payments(account->id, std::nullopt)) {
      j["payments"].push_back(to_json(p));
    }
    j["credit"] = ledger.credit(account->id);
  }
  const auto schedule = ledger.current_schedule(g.id);
  j["schedule"] = schedule ? to_json(*schedule) : nlohmann::json(nullptr);
  j["schedule_versions"] = nlohmann::json::array();
  for (const Schedule& s : ledger.schedules(g.id)) j["schedule_versions"].push_back(to_json(s));
  SrFilter f;
  f.casegroup_id = g.id;
  f.limit = 1000;
  j["service_requests"] = nlohmann::json::array();
  for (const auto& r : srs.list(f)) j["service_requests"].push_back(to_json(r));
  return j;
}

nlohmann::json sr_json(ServiceRequests& srs, const ServiceRequest& r) {
  nlohmann::json j = to_json(r);
  j["fields"] = nlohmann::json::object();
  for (const auto& [k, v] : srs.fields(r.id)) j["fields"][k] = v;
  j["steps"] = nlohmann::json::array();
  for (const auto& s : srs.steps(r.id)) {
    j["steps"].push_back({{"seq", s.seq},
                          {"name", s.name},
                          {"status", s.status},
                          {"completed_at", or_null(s.completed_at)}});
  }
  j["notes"] = nlohmann::json::array();
  for (const auto& n : srs.notes(r.id)) {
    j["notes"].push_back({{"author", n.author}, {"text", n.body}, {"created_at", n.created_at}});
  }
  j["children"] = nlohmann::json::array();
  for (const auto& c : srs.children(r.id)) {
    j["children"].push_back({{"id", c.id},
                             {"sub_area", c.sub_area},
                             {"status", c.status},
                             {"sub_status", or_null(c.sub_status)}});
  }
  j["related"] = srs.related(r.id);
  return j;
}

namespace {

// The (entity, id) of every audited row that belongs to casegroup ?1, as the audit names them
// (a table's first column when it has no id: sr_fields by SR, casegroup_flags by casegroup).
// Each is found through an index, so the audit is read only where it concerns the casegroup.
constexpr const char* kCasegroupRows = R"sql(
WITH
  srs(id) AS (SELECT id FROM service_requests WHERE casegroup_id = ?1),
  parents(id) AS (SELECT paying_parent_id FROM casegroups WHERE id = ?1
                  UNION SELECT receiving_parent_id FROM cases WHERE casegroup_id = ?1),
  accounts(id) AS (SELECT a.id FROM ledger_accounts a
                   JOIN casegroups g ON a.client_id = g.paying_parent_id WHERE g.id = ?1),
  rows(entity, id) AS (
    SELECT 'casegroups', ?1 UNION ALL SELECT 'casegroup_flags', ?1
    UNION ALL SELECT 'cases', id FROM cases WHERE casegroup_id = ?1
    UNION ALL SELECT 'maintenance_liabilities', id FROM cases WHERE casegroup_id = ?1
    UNION ALL SELECT 'clients', id FROM parents
    UNION ALL SELECT 'addresses', a.id FROM addresses a JOIN parents p ON a.client_id = p.id
    UNION ALL SELECT 'ledger_accounts', id FROM accounts
    UNION ALL SELECT 'payments', p.id FROM payments p JOIN accounts a ON p.account_id = a.id
    UNION ALL SELECT 'allocations', l.id FROM allocations l
              JOIN payments p ON l.payment_id = p.id JOIN accounts a ON p.account_id = a.id
    UNION ALL SELECT 'dues', id FROM dues WHERE casegroup_id = ?1
    UNION ALL SELECT 'charges', id FROM charges WHERE casegroup_id = ?1
    UNION ALL SELECT 'write_offs', id FROM write_offs WHERE casegroup_id = ?1
    UNION ALL SELECT 'payment_schedules', id FROM payment_schedules WHERE casegroup_id = ?1
    UNION ALL SELECT 'service_requests', id FROM srs
    UNION ALL SELECT 'sr_fields', id FROM srs
    UNION ALL SELECT 'sr_relations', id FROM srs
    UNION ALL SELECT 'sr_steps', s.id FROM sr_steps s JOIN srs ON s.sr_id = srs.id
    UNION ALL SELECT 'sr_step_marks', id FROM srs
    UNION ALL SELECT 'sr_notes', n.id FROM sr_notes n JOIN srs ON n.sr_id = srs.id
    UNION ALL SELECT 'payment_requests', q.id FROM payment_requests q JOIN srs ON q.sr_id = srs.id
    UNION ALL SELECT 'work_items', id FROM work_items WHERE casegroup_id = ?1
    UNION ALL SELECT 'letters', id FROM letters WHERE casegroup_id = ?1
    UNION ALL SELECT 'cis_interests', id FROM cis_interests WHERE casegroup_id = ?1)
SELECT a.id, a.at, a.actor, a.entity, a.entity_id, a.action, a.before, a.after, a.why
FROM rows r CROSS JOIN audit a ON a.entity = r.entity AND a.entity_id = r.id
WHERE a.id < ?2 ORDER BY a.id DESC LIMIT ?3
)sql";

// Who made a change, from the audit's actor: "user:NAME", or "PROCEDURE#INSTANCE".
nlohmann::json who_json(const std::string& actor) {
  if (actor.rfind("user:", 0) == 0) return {{"user", actor.substr(5)}};
  const auto hash = actor.rfind('#');
  if (hash != std::string::npos && hash + 1 < actor.size() &&
      actor.find_first_not_of("0123456789", hash + 1) == std::string::npos) {
    return {{"procedure", actor.substr(0, hash)}, {"instance", std::stoll(actor.substr(hash + 1))}};
  }
  return {{"actor", actor}};  // the engine itself ("system"), or "schedule:NAME"
}

// An update shows only the columns it changed; an insert or delete shows the whole row.
void put_changes(nlohmann::json& entry, const std::string& action, nlohmann::json before,
                 nlohmann::json after) {
  if (action == "update" && before.is_object() && after.is_object()) {
    for (auto it = after.begin(); it != after.end();) {
      if (before.contains(it.key()) && before[it.key()] == it.value()) {
        before.erase(it.key());
        it = after.erase(it);
      } else {
        ++it;
      }
    }
  }
  entry["before"] = std::move(before);
  entry["after"] = std::move(after);
}

// An SR names its activity plan by number, and a step taken names its step by its place in
// the plan (schema 35): the trail says which steps they are. A plan only grows, so a place
// names the same step in every plan the SR has had.
void name_steps(Database& db, nlohmann::json& entry, const nlohmann::json& before,
                const nlohmann::json& after) {
  if (entry["entity"] == "service_requests") {
    if (after.is_object() && after.contains("plan_id") && after["plan_id"].is_number_integer()) {
      const auto plan = after["plan_id"].get<std::int64_t>();
      auto st = db.prepare("SELECT names FROM step_plans WHERE id = ?1");
      st.bind(1, plan);
      entry["steps"] = st.step()
                           ? step_plan_names(st.text(0), "activity plan " + std::to_string(plan))
                           : std::vector<std::string>{};
    }
    return;
  }
  if (entry["entity"] != "sr_step_marks") return;
  const nlohmann::json& row = after.is_object() && after.contains("seq") ? after : before;
  if (!row.is_object() || !row.contains("seq")) return;
  auto st = db.prepare(
      "SELECT p.names FROM service_requests s JOIN step_plans p ON p.id = s.plan_id "
      "WHERE s.id = ?1");
  st.bind(1, entry["entity_id"].get<std::int64_t>());
  if (!st.step()) return;
  const auto names =
      step_plan_names(st.text(0), "SR " + std::to_string(entry["entity_id"].get<std::int64_t>()) +
                                      "'s activity plan");
  const auto seq = row["seq"].get<std::int64_t>();
  if (seq >= 1 && seq <= static_cast<std::int64_t>(names.size())) {
    entry["step"] = names[static_cast<std::size_t>(seq - 1)];
  }
}

nlohmann::json parsed_or_null(Statement& st, int column) {
  if (st.is_null(column)) return nullptr;
  return nlohmann::json::parse(st.text(column));
}

}  // namespace

void CasegroupReads::require_reader(const User& by) {
  if (!works_casegroups(by.role)) {
    throw Error(ErrorCode::forbidden, "user '" + by.name + "' (" + by.role +
                                          ") may not read casegroups: caseworkers, team "
                                          "leaders, senior managers and operators may");
  }
}

void CasegroupReads::record(const User& by, const char* action, std::optional<Id> casegroup,
                            const nlohmann::json& query) {
  db_.prepare(
         "INSERT INTO access_log(at, user_name, action, casegroup_id, query) "
         "VALUES (?1, ?2, ?3, ?4, ?5)")
      .bind_all(format_instant(clock_.now()), by.name, action, casegroup,
                query.is_null() ? std::optional<std::string>() : query.dump())
      .run();
}

CasegroupSearchPage CasegroupReads::search(CasegroupFilter filter, const User& by) {
  require_reader(by);
  if (!filter.csa_ref && !filter.nino && !filter.name && !filter.segment && !filter.flag) {
    throw Error(ErrorCode::bad_argument,
                "say what to search for: csa_ref, nino, name, segment or flag");
  }
  if (filter.limit < 1 || filter.limit > kMaxPage) {
    throw Error(ErrorCode::bad_argument, "limit must be from 1 to " + std::to_string(kMaxPage));
  }
  const std::string minute_ago = format_instant(clock_.now() - std::chrono::minutes(1));
  auto recent = db_.prepare(
      "SELECT count(*) FROM access_log WHERE user_name = ?1 AND action = 'search' AND at > ?2");
  recent.bind_all(by.name, minute_ago);
  recent.step();
  if (recent.integer(0) >= kSearchesPerMinute) {
    throw Error(ErrorCode::too_many, "more than " + std::to_string(kSearchesPerMinute) +
                                         " searches in a minute: try again shortly");
  }
  const int limit = filter.limit;
  filter.limit = limit + 1;  // one more, to know whether there is a next page
  CasegroupSearchPage page;
  page.casegroups = casegroups_.list(filter);
  if (static_cast<int>(page.casegroups.size()) > limit) {
    page.casegroups.resize(static_cast<std::size_t>(limit));
    page.next_after = page.casegroups.back().id;
  }
  record(by, "search", std::nullopt, filter_json(filter));
  return page;
}

nlohmann::json CasegroupReads::view(Id id, const User& by) {
  require_reader(by);
  const Casegroup g = casegroups_.get(id);
  nlohmann::json j = casegroup_json(casegroups_, ledger_, srs_, g);
  j["letters"] = nlohmann::json::array();
  for (const Letter& l : letters_.of_casegroup(id)) j["letters"].push_back(to_json(l, false));
  j["work_items"] = nlohmann::json::array();
  for (const char* status : {"open", "completed"}) {
    WorkItemQuery q;
    q.casegroup = id;
    q.status = status;
    q.sort = "created";
    q.limit = 500;
    for (const WorkItem& w : work_items_.query(q, by).items) {
      j["work_items"].push_back(to_json(w));
    }
  }
  record(by, "view", id, nullptr);
  return j;
}

nlohmann::json CasegroupReads::sr(Id id, const User& by) {
  require_reader(by);
  const ServiceRequest r = srs_.get(id);
  nlohmann::json j = sr_json(srs_, r);
  record(by, "view", r.casegroup_id, {{"sr", id}});
  return j;
}

nlohmann::json CasegroupReads::audit(Id id, const User& by, int limit,
                                     std::optional<Id> before_id) {
  require_reader(by);
  nlohmann::json out = trail(id, limit, before_id);
  record(by, "audit", id, nullptr);
  return out;
}

nlohmann::json CasegroupReads::trail(Id id, int limit, std::optional<Id> before_id) {
  casegroups_.require(id);
  if (limit < 1 || limit > 1000) throw Error(ErrorCode::bad_argument, "limit must be 1 to 1000");
  auto st = db_.prepare(kCasegroupRows);
  st.bind_all(id, before_id.value_or(std::numeric_limits<std::int64_t>::max()),
              static_cast<std::int64_t>(limit));
  nlohmann::json changes = nlohmann::json::array();
  while (st.step()) {
    nlohmann::json entry = {{"id", st.integer(0)},         {"at", st.text(1)},
                            {"who", who_json(st.text(2))}, {"entity", st.text(3)},
                            {"entity_id", st.integer(4)},  {"action", st.text(5)}};
    nlohmann::json before = parsed_or_null(st, 6), after = parsed_or_null(st, 7);
    name_steps(db_, entry, before, after);
    // A letter since schema 34 keeps its template's version and values, and its text only
    // when read: the empty body it is stored with would read as a letter with no words.
    if (entry["entity"] == "letters" && after.is_object() && after.contains("template_version") &&
        after.contains("body") && after["body"] == "") {
      after.erase("body");
    }
    put_changes(entry, st.text(5), std::move(before), std::move(after));
    entry["why"] = st.is_null(8) ? nlohmann::json(nullptr) : nlohmann::json(st.text(8));
    changes.push_back(std::move(entry));
  }
  nlohmann::json out = {{"changes", changes}, {"next_cursor", nullptr}};
  if (static_cast<int>(changes.size()) == limit) {
    out["next_cursor"] = std::to_string(changes.back()["id"].get<std::int64_t>());
  }
  return out;
}

nlohmann::json CasegroupReads::access_log(Id id, const User& by, int limit) {
  if (by.role != "admin") {
    throw Error(ErrorCode::forbidden, "only an admin may see who looked at a casegroup");
  }
  casegroups_.require(id);
  if (limit < 1 || limit > 1000) throw Error(ErrorCode::bad_argument, "limit must be 1 to 1000");
  auto st = db_.prepare(
      "SELECT at, user_name, action, query FROM access_log WHERE casegroup_id = ?1 "
      "ORDER BY id DESC LIMIT ?2");
  st.bind_all(id, static_cast<std::int64_t>(limit));
  nlohmann::json out = nlohmann::json::array();
  while (st.step()) {
    out.push_back({{"at", st.text(0)},
                   {"user", st.text(1)},
                   {"action", st.text(2)},
                   {"what", parsed_or_null(st, 3)}});
  }
  record(by, "access_log", id, nullptr);
  return out;
}

}  // namespace casekit
