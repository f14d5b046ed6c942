// The operator's routes: schedules (list, pause, resume, run now) and their runs, procedure
// instances (list, show with history, retry, cancel, upgrade one or a procedure's),
// incidents, and the audit's hash chain checked. Each is parse, check the caller is an operator
// (require_operator), call the runtime the CLI calls, render; a change is audited as the signed-in
// operator's.
#include "engine/core/error.hpp"
#include "engine/core/json.hpp"
#include "engine/http/api.hpp"
#include "engine/store/audit_chain.hpp"

namespace casekit::http {
namespace {

constexpr const char* kStatuses[] = {"runnable", "waiting", "completed", "failed", "cancelled"};

InstanceStore::Filter instance_filter(const Call& call) {
  InstanceStore::Filter f;
  f.limit = 100;
  for (const auto& [key, value] : call.request.query) {
    if (value.empty()) continue;
    if (key == "status") {
      if (std::find(std::begin(kStatuses), std::end(kStatuses), value) == std::end(kStatuses)) {
        throw Error(ErrorCode::bad_argument,
                    "status must be runnable, waiting, completed, failed or cancelled");
      }
      f.status = value;
    } else if (key == "procedure") {
      f.procedure = value;
    } else if (key == "casegroup") {
      f.casegroup = whole_number(key, value);
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

Response list_instances(Api& api, const Call& call) {
  require_operator(call.user(), "list procedure instances");
  const InstanceStore::Filter filter = instance_filter(call);
  const auto found = api.runtime.store().list(filter);
  nlohmann::json out = nlohmann::json::array();
  for (const Instance& i : found) out.push_back(to_json(i));
  return json_response({{"instances", out}, {"next_cursor", id_cursor(found, filter.limit)}});
}

Response show_instance(Api& api, const Call& call) {
  require_operator(call.user(), "read procedure instances");
  no_query(call);
  auto& store = api.runtime.store();
  const Instance i = store.get(path_id(call, "procedure instance"));
  nlohmann::json out = to_json(i);
  out["history"] = nlohmann::json::array();
  for (const auto& c : store.history(i.id)) out["history"].push_back(to_json(c));
  out["incidents"] = nlohmann::json::array();
  for (const auto& inc : store.incidents(true, i.id)) out["incidents"].push_back(to_json(inc));
  return json_response(out);
}

// Retry or cancel, as the signed-in operator; answers the instance as it now is.
template <typename F>
Handler instance_change(Api& api, const char* what, F change) {
  return [&api, what, change](Call& c) {
    require_operator(c.user(), what);
    if (!c.body.empty()) throw Error(ErrorCode::bad_argument, "this takes no body");
    const Id id = path_id(c, "procedure instance");
    {
      ActorScope actor(api.engine.db, "user:" + c.user().name);
      change(id);
    }
    return json_response(to_json(api.runtime.store().get(id)));
  };
}

// {"dry_run": true|false}, and for a procedure's instances "cursor" (the next_cursor of the
// answer before); no body is a real upgrade from the first instance.
struct UpgradeBody {
  bool dry_run = false;
  Id after = 0;
};

UpgradeBody upgrade_body(const Call& call, bool paged) {
  no_query(call);
  UpgradeBody out;
  if (call.body.empty()) return out;
  refuse_other_keys(call.body, paged ? std::vector<std::string>{"dry_run", "cursor"}
                                     : std::vector<std::string>{"dry_run"});
  if (call.body.contains("dry_run")) {
    if (!call.body["dry_run"].is_boolean()) {
      throw Error(ErrorCode::bad_argument, "dry_run must be true or false");
    }
    out.dry_run = call.body["dry_run"].get<bool>();
  }
  if (call.body.contains("cursor")) {
    if (!call.body["cursor"].is_string()) {
      throw Error(ErrorCode::bad_argument, "cursor must be the next_cursor of the last answer");
    }
    out.after = whole_number("cursor", call.body["cursor"].get<std::string>());
  }
  return out;
}

// Moves one instance to its procedure's current source and library if its history replays
// on them, as `casekit instance upgrade ID`: answers the report (a divergence is an answer,
// not an error) and the instance as it then is.
Response upgrade_instance(Api& api, Call& call) {
  require_operator(call.user(), "upgrade instances");
  const UpgradeBody body = upgrade_body(call, false);
  const Id id = path_id(call, "procedure instance");
  UpgradeReport report;
  {
    ActorScope actor(api.engine.db, "user:" + call.user().name);
    report = api.runtime.upgrade(id, body.dry_run);
  }
  return json_response(
      {{"upgrade", to_json(id, report)}, {"instance", to_json(api.runtime.store().get(id))}});
}

// Instances verified per request: each is a replay on the loop, so a procedure's caseload is
// upgraded over several requests (next_cursor says to ask again).
constexpr int kUpgradesPerRequest = 100;

// `casekit instance upgrade --procedure P --to-current`, a page at a time.
Response upgrade_procedure(Api& api, Call& call) {
  require_operator(call.user(), "upgrade instances");
  const UpgradeBody body = upgrade_body(call, true);
  const std::string procedure = call.params.at("name");
  ProcedureRuntime::UpgradePage page;
  {
    ActorScope actor(api.engine.db, "user:" + call.user().name);
    page = api.runtime.upgrade_page(procedure, body.after, kUpgradesPerRequest, body.dry_run);
  }
  nlohmann::json out = to_json(procedure, body.dry_run, page.reports);
  out["next_cursor"] = page.next ? nlohmann::json(std::to_string(*page.next)) : nullptr;
  return json_response(out);
}

// Change sets checked per request: a walk of the whole chain would hold the loop, so an
// operator's client walks it a page at a time (next_cursor), as `casekit audit verify` walks
// it at once. A page chains on the set where the one before stopped.
constexpr std::int64_t kVerifiedSetsPerRequest = 5000;

Response verify_audit_page(Api& api, const Call& call) {
  require_operator(call.user(), "verify the audit");
  AuditCursor from;
  for (const auto& [key, value] : call.request.query) {
    if (key != "cursor")
      throw Error(ErrorCode::bad_argument, "unknown query parameter '" + key + "'");
    const auto cursor = AuditCursor::parse(value);
    if (!cursor) throw Error(ErrorCode::bad_argument, "cursor is not one this route gave");
    from = *cursor;
  }
  const AuditVerification v = verify_audit(api.engine.db, from, kVerifiedSetsPerRequest);
  const bool intact = v.problem.empty();
  return json_response({{"intact", intact},
                        {"sets", v.sets},
                        {"changes", v.changes},
                        {"head", v.head},
                        {"first_bad_set", or_null(v.bad_set)},
                        {"problem", intact ? nlohmann::json(nullptr) : nlohmann::json(v.problem)},
                        {"next_cursor", v.next ? nlohmann::json(v.next->text()) : nullptr}});
}

Response list_incidents(Api& api, const Call& call) {
  require_operator(call.user(), "list incidents");
  bool all = false;
  for (const auto& [key, value] : call.request.query) {
    if (key != "all" || (value != "true" && value != "false")) {
      throw Error(ErrorCode::bad_argument, "the only parameter is all=true|false");
    }
    all = value == "true";
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& inc : api.runtime.store().incidents(all, std::nullopt)) {
    out.push_back(to_json(inc));
  }
  return json_response({{"incidents", out}});
}

Response list_runs(Api& api, const Call& call) {
  require_operator(call.user(), "list runs");
  std::optional<std::string> schedule;
  int limit = 50;
  for (const auto& [key, value] : call.request.query) {
    if (key == "schedule" && !value.empty()) {
      api.schedules.find(value);  // an unknown schedule is 404
      schedule = value;
    } else if (key == "limit") {
      limit = page_limit(key, value);
    } else {
      throw Error(ErrorCode::bad_argument, "unknown query parameter '" + key + "'");
    }
  }
  nlohmann::json out = nlohmann::json::array();
  for (const Run& r : api.schedules.runs(schedule, limit)) out.push_back(to_json(r));
  return json_response({{"runs", out}});
}

// Letters written per fulfil request: each is a file and a commit on the loop, so a long
// queue is fulfilled over several requests (`more` says to ask again).
constexpr int kFulfilPerRequest = 500;

// The outbox: letters in id order without their text (a letter is personal data; the
// console needs what waits and what went, not what it says).
Response list_letters(Api& api, const Call& call) {
  require_operator(call.user(), "list letters");
  std::optional<std::string> status;
  int limit = 100;
  Id after = 0;
  for (const auto& [key, value] : call.request.query) {
    if (value.empty()) continue;
    if (key == "status") {
      status = value;  // Letters::list says which are statuses
    } else if (key == "limit") {
      limit = page_limit(key, value);
    } else if (key == "cursor") {
      after = whole_number(key, value);
    } else {
      throw Error(ErrorCode::bad_argument, "unknown query parameter '" + key + "'");
    }
  }
  const auto found = api.engine.letters.list(status, limit, after, Letters::Text::left_out);
  nlohmann::json out = nlohmann::json::array();
  for (const Letter& l : found) out.push_back(to_json(l, false));
  return json_response({{"letters", out}, {"next_cursor", id_cursor(found, limit)}});
}

// Pause, resume or run a schedule now, as the signed-in operator; answers the schedule as it
// then is, with whatever `change(def, answer)` adds (a run, the run).
template <typename F>
Handler schedule_change(Api& api, const char* what, F change) {
  return [&api, what, change](Call& c) {
    require_operator(c.user(), what);
    if (!c.body.empty()) throw Error(ErrorCode::bad_argument, "this takes no body");
    const ScheduleDef& def = api.schedules.find(c.params.at("name"));
    nlohmann::json out = nlohmann::json::object();
    {
      ActorScope actor(api.engine.db, "user:" + c.user().name);
      change(def, out);
    }
    for (const auto& s : api.schedules.status()) {
      if (s.def->name == def.name) out["schedule"] = to_json(s);
    }
    return json_response(out);
  };
}

}  // namespace

void add_operator_routes(Router& router, Api& api) {
  router.add({"GET",
              "/api/v1/schedules",
              Access::signed_in,
              "Schedules with their state, next fire and last run (operators)",
              [&api](Call& c) {
                require_operator(c.user(), "list schedules");
                no_query(c);
                nlohmann::json out = nlohmann::json::array();
                for (const auto& s : api.schedules.status()) out.push_back(to_json(s));
                return json_response({{"schedules", out}});
              },
              {}});
  router.add({"POST",
              "/api/v1/schedules/{name}/pause",
              Access::signed_in,
              "Stop a schedule firing until resumed (operators)",
              schedule_change(api, "pause schedules",
                              [&api](const ScheduleDef& def, nlohmann::json&) {
                                api.schedules.pause(def.name);
                              }),
              {}});
  router.add({"POST",
              "/api/v1/schedules/{name}/resume",
              Access::signed_in,
              "Let a paused schedule fire again (operators)",
              schedule_change(api, "resume schedules",
                              [&api](const ScheduleDef& def, nlohmann::json&) {
                                api.schedules.resume(def.name);
                              }),
              {}});
  router.add({"POST",
              "/api/v1/schedules/{name}/run",
              Access::signed_in,
              "Run a schedule's script now and record the run (operators)",
              schedule_change(api, "run schedules",
                              [&api](const ScheduleDef& def, nlohmann::json& out) {
                                const Run run = api.schedules.run(def, "manual", std::nullopt,
                                                                  [](std::string_view) {});
                                api.runtime.drain();  // what its script started, to a wait
                                out["run"] = to_json(run);
                              }),
              {}});
  router.add({"GET",
              "/api/v1/runs",
              Access::signed_in,
              "Schedule runs, newest first, optionally of one schedule (operators)",
              [&api](Call& c) { return list_runs(api, c); },
              {}});
  router.add({"GET",
              "/api/v1/runs/{id}",
              Access::signed_in,
              "One run: its trigger, times, status and message (operators)",
              [&api](Call& c) {
                require_operator(c.user(), "read runs");
                no_query(c);
                return json_response(to_json(api.schedules.get_run(path_id(c, "run"))));
              },
              {}});
  router.add({"GET",
              "/api/v1/letters",
              Access::signed_in,
              "The letters outbox: letters by status, in id order, without their text (operators)",
              [&api](Call& c) { return list_letters(api, c); },
              {}});
  router.add(
      {"POST",
       "/api/v1/letters/fulfil",
       Access::signed_in,
       "Write up to 500 queued letters to the outbox folder and mark them fulfilled "
       "(operators)",
       [&api](Call& c) {
         require_operator(c.user(), "fulfil letters");
         no_query(c);
         if (!c.body.empty()) throw Error(ErrorCode::bad_argument, "this takes no body");
         FulfilResult r;
         {
           ActorScope actor(api.engine.db, "user:" + c.user().name);
           r = api.runtime.fulfil_letters(api.options.outbox, kFulfilPerRequest);
         }
         return json_response({{"fulfilled", r.fulfilled}, {"files", r.files}, {"more", r.more}});
       },
       {}});
  router.add({"GET",
              "/api/v1/instances",
              Access::signed_in,
              "Procedure instances by status, procedure or casegroup (operators)",
              [&api](Call& c) { return list_instances(api, c); },
              {}});
  router.add({"GET",
              "/api/v1/instances/{id}",
              Access::signed_in,
              "One instance with its history and incidents (operators)",
              [&api](Call& c) { return show_instance(api, c); },
              {}});
  router.add({"POST",
              "/api/v1/instances/{id}/retry",
              Access::signed_in,
              "Resolve a failed instance's incident and run it again (operators)",
              instance_change(api, "retry instances", [&api](Id id) { api.runtime.retry(id); }),
              {}});
  router.add({"POST",
              "/api/v1/instances/{id}/cancel",
              Access::signed_in,
              "Stop an instance for good, its open work items too (operators)",
              instance_change(api, "cancel instances", [&api](Id id) { api.runtime.cancel(id); }),
              {}});
  router.add({"POST",
              "/api/v1/instances/{id}/upgrade",
              Access::signed_in,
              "Move an instance to its procedure's current source and library if its history "
              "replays on them; dry_run only says (operators)",
              [&api](Call& c) { return upgrade_instance(api, c); },
              {}});
  router.add({"POST",
              "/api/v1/procedures/{name}/upgrade",
              Access::signed_in,
              "The same for a procedure's running instances, 100 a request in id order; "
              "next_cursor to go on (operators)",
              [&api](Call& c) { return upgrade_procedure(api, c); },
              {}});
  router.add({"GET",
              "/api/v1/audit/verify",
              Access::signed_in,
              "Check the audit's hash chain, 5,000 change sets a request from the start; "
              "next_cursor to go on (operators)",
              [&api](Call& c) { return verify_audit_page(api, c); },
              {}});
  router.add({"GET",
              "/api/v1/incidents",
              Access::signed_in,
              "Open incidents (all=true: resolved ones too), with the divergence's position, "
              "command and line (operators)",
              [&api](Call& c) { return list_incidents(api, c); },
              {}});
}

}  // namespace casekit::http
