// The casegroup routes: search, one casegroup, its audit trail, one SR, (admins) who looked
// at a casegroup, and signals to the procedures waiting on a casegroup. Each read is parse,
// call CasegroupReads (which decides who may read, records the read and limits searches),
// render; a read is recorded in the same transaction that answers it. A signal is
// ProcedureRuntime::signal, as `casekit signal --casegroup` sends it.
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
      f.limit = page_limit(key, value);
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

// ?limit= (at most 1000) and, where `cursor` is given, ?cursor=.
struct Paging {
  int limit = 100;
  std::optional<Id> cursor;
};

Paging paging(const Call& call, bool cursor) {
  Paging p;
  for (const auto& [key, value] : call.request.query) {
    if (key == "limit") {
      p.limit = page_limit(key, value);
    } else if (key == "cursor" && cursor) {
      p.cursor = whole_number(key, value);
    } else {
      throw Error(ErrorCode::bad_argument, "unknown query parameter '" + key + "'");
    }
  }
  return p;
}

Response audit(Api& api, const Call& call) {
  const Paging p = paging(call, true);
  const Id id = path_id(call, "casegroup");
  return read(api, [&] { return api.engine.reads.audit(id, call.user(), p.limit, p.cursor); });
}

Response access_log(Api& api, const Call& call) {
  const int limit = paging(call, false).limit;
  const Id id = path_id(call, "casegroup");
  return read(api, [&] {
    return nlohmann::json{{"reads", api.engine.reads.access_log(id, call.user(), limit)}};
  });
}

// POST /api/v1/casegroups/{id}/signals/{name} {"data": {...}}: wakes the casegroup's
// instances waiting for that signal, and answers with each one's state after it ran on.
Response signal(Api& api, const Call& call) {
  const Id id = path_id(call, "casegroup");
  for (const auto& [key, value] : call.body.items()) {
    if (key != "data") throw Error(ErrorCode::bad_argument, "unknown field '" + key + "'");
  }
  const nlohmann::json data = call.body.value("data", nlohmann::json::object());
  const auto woken =
      api.runtime.signal({std::nullopt, id}, call.params.at("name"), data, call.user().name);
  nlohmann::json instances = nlohmann::json::array();
  for (const Id instance : woken) {
    const Instance i = api.runtime.store().get(instance);
    instances.push_back({{"id", i.id}, {"procedure", i.procedure}, {"status", i.status}});
  }
  return json_response({{"woken", instances}});
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
                no_query(c);
                const Id id = path_id(c, "casegroup");
                return read(api, [&] { return api.engine.reads.view(id, c.user()); });
              },
              {}});
  router.add({"GET",
              "/api/v1/casegroups/{id}/audit",
              Access::signed_in,
              "A casegroup's trail of changes, newest first: who, when, before and after "
              "(recorded)",
              [&api](Call& c) { return audit(api, c); },
              {}});
  router.add({"POST",
              "/api/v1/casegroups/{id}/signals/{name}",
              Access::signed_in,
              "Send a signal (CIS address change, HMRC data, client contact) to the casegroup's "
              "waiting procedures",
              [&api](Call& c) { return signal(api, c); },
              {}});
  router.add({"GET",
              "/api/v1/srs/{id}",
              Access::signed_in,
              "One SR: status, reason, fields, activity plan, notes, children, related SRs "
              "(recorded)",
              [&api](Call& c) {
                no_query(c);
                const Id id = path_id(c, "SR");
                return read(api, [&] { return api.engine.reads.sr(id, c.user()); });
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
