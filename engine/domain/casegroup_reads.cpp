#include "engine/domain/casegroup_reads.hpp"

#include "engine/core/error.hpp"
#include "engine/core/json.hpp"

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

void CasegroupReads::require_reader(const User& by) {
  if (by.role != "caseworker" && by.role != "team_leader" && by.role != "senior_manager" &&
      by.role != "operator") {
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

nlohmann::json CasegroupReads::access_log(Id id, const User& by, int limit) {
  if (by.role != "admin") {
    throw Error(ErrorCode::forbidden, "only an admin may see who looked at a casegroup");
  }
  casegroups_.require(id);
  if (limit < 1 || limit > 1000) throw Error(ErrorCode::bad_argument, "limit must be 1 to 1000");
  auto st = db_.prepare(
      "SELECT at, user_name, action FROM access_log WHERE casegroup_id = ?1 ORDER BY id DESC "
      "LIMIT ?2");
  st.bind_all(id, static_cast<std::int64_t>(limit));
  nlohmann::json out = nlohmann::json::array();
  while (st.step()) {
    out.push_back({{"at", st.text(0)}, {"user", st.text(1)}, {"action", st.text(2)}});
  }
  record(by, "access_log", id, nullptr);
  return out;
}

}  // namespace casekit
