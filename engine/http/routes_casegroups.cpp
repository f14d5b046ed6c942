// The casegroup routes: search, one casegroup, and (admins) who looked at it. Each is parse,
// call CasegroupReads (which decides who may read, records the read and limits searches),
// render. A read is recorded in the same transaction that answers it.
#include "engine/core/error.hpp"
#include "engine/core/json.hpp"
#include "engine/http/api.hpp"

namespace casekit::http {
namespace {

CasegroupFilter search_filter(const Call& call) {
  CasegroupFilter f;
  f.limit = 20;
  for (const auto& [key, value] : call.request.query) {
    if (value.empty()) continue;
    if (value.size() > 100) throw Error(ErrorCode::bad_argument, key + " is too long");
    if (key == "csa_ref") {
      f.csa_ref = value;
    } else if (key == "nino") {
      f.nino = value;
    } else if (key == "name") {
      f.name = value;
    } else if (key == "segment") {
      f.segment = value;
    } else if (key == "flag") {
      f.flag = value;
    } else if (key == "limit") {
      f.limit = static_cast<int>(std::min<std::int64_t>(whole_number(key, value), 1000));
    } else if (key == "cursor") {
      f.after_id = whole_number(key, value);
    } else {
      throw Error(ErrorCode::bad_argument, "unknown query parameter '" + key + "'");
    }
  }
  return f;
}

nlohmann::json summary_json(Engine& e, const Casegroup& g) {
  return {{"id", g.id},
          {"csa_ref", or_null(g.csa_ref)},
          {"segment", g.segment},
          {"region", g.region},
          {"paying_parent", e.casegroups.client(g.paying_parent_id).name},
          {"balance", e.ledger.balance(g.id, std::nullopt, std::nullopt)}};
}

// Reads are recorded: each answer is one transaction, its access log row with it.
template <typename F>
Response read(Api& api, F answer) {
  Transaction tx(api.engine.db);
  nlohmann::json body = answer();
  tx.commit();
  return json_response(std::move(body));
}

Response search(Api& api, const Call& call) {
  const CasegroupFilter filter = search_filter(call);
  return read(api, [&] {
    const CasegroupSearchPage page = api.engine.reads.search(filter, call.user());
    nlohmann::json found = nlohmann::json::array();
    for (const Casegroup& g : page.casegroups) found.push_back(summary_json(api.engine, g));
    return nlohmann::json{
        {"casegroups", found},
        {"next_cursor", page.next_after ? nlohmann::json(std::to_string(*page.next_after))
                                        : nlohmann::json(nullptr)}};
  });
}

Response access_log(Api& api, const Call& call) {
  int limit = 100;
  for (const auto& [key, value] : call.request.query) {
    if (key != "limit")
      throw Error(ErrorCode::bad_argument, "unknown query parameter '" + key + "'");
    limit = static_cast<int>(std::min<std::int64_t>(whole_number(key, value), 1000));
  }
  const Id id = path_id(call, "casegroup");
  return read(api, [&] {
    return nlohmann::json{{"reads", api.engine.reads.access_log(id, call.user(), limit)}};
  });
}

}  // namespace

void add_casegroup_routes(Router& router, Api& api) {
  router.add({"GET",
              "/api/v1/casegroups",
              Access::signed_in,
              "Search casegroups by CSA reference, NINO, name, segment or flag (recorded)",
              [&api](Call& c) { return search(api, c); },
              {}});
  router.add({"GET",
              "/api/v1/casegroups/{id}",
              Access::signed_in,
              "One casegroup: parents, cases, money, schedule, payments, letters, SRs, work items "
              "(recorded)",
              [&api](Call& c) {
                const Id id = path_id(c, "casegroup");
                return read(api, [&] { return api.engine.reads.view(id, c.user()); });
              },
              {}});
  router.add({"GET",
              "/api/v1/casegroups/{id}/access-log",
              Access::signed_in,
              "Who searched for or read a casegroup, newest first (admins)",
              [&api](Call& c) { return access_log(api, c); },
              {}});
}

}  // namespace casekit::http
