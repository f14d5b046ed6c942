// The routes of the HTTP API, one file per area: routes_health.cpp (/healthz, /readyz),
// routes_auth.cpp (login, logout, me), routes_work.cpp (work items) and routes_casegroups.cpp
// (casegroup search, view, audit trail, SRs, signals and access log), routes_operator.cpp
// (schedules, runs, instances, incidents and the letters outbox), routes_users.cpp (admins'
// user administration) and routes_metrics.cpp (/metrics).
// docs/http-api.md describes each, and a test checks that it names every route and no other.
#pragma once

#include <filesystem>
#include <functional>

#include "engine/core/text.hpp"
#include "engine/durable/runtime.hpp"
#include "engine/http/loop_watch.hpp"
#include "engine/http/metrics.hpp"
#include "engine/http/password_pool.hpp"
#include "engine/http/router.hpp"
#include "engine/schedule/schedules.hpp"

namespace casekit::http {

struct ApiOptions {
  // Mark the session cookie Secure: on wherever a TLS proxy is in front (the browser then
  // sends it over HTTPS only). Off for plain HTTP on loopback.
  bool secure_cookie = false;
  // Where POST /api/v1/letters/fulfil writes letters (as `casekit letters fulfil --outbox`).
  std::filesystem::path outbox = "outbox";
};

// What the routes work with. All of it lives on the loop: handlers run there, one at a time.
struct Api {
  Engine& engine;
  ProcedureRuntime& runtime;
  Schedules& schedules;
  PasswordPool& passwords;
  const LoopWatch& loop;
  Metrics& metrics;
  ApiOptions options;
  std::function<bool()> draining = [] { return false; };
};

void add_routes(Router& router, Api& api);
void add_health_routes(Router& router, Api& api);
void add_auth_routes(Router& router, Api& api);
void add_work_routes(Router& router, Api& api);
void add_casegroup_routes(Router& router, Api& api);
void add_metrics_routes(Router& router, Api& api);
void add_operator_routes(Router& router, Api& api);
void add_user_routes(Router& router, Api& api);

// Runs `change` as `user` (the audit's actor, user:NAME) in one transaction, and returns
// what it returns: how every route that changes something does it.
template <typename F>
auto as_user(Api& api, const User& user, F change) {
  ActorScope actor(api.engine.db, "user:" + user.name);
  Transaction tx(api.engine.db);
  auto result = change();
  tx.commit();
  return result;
}

// The `next_cursor` of a page read in id order: the last id when the page is full (there may
// be more), null otherwise.
template <typename T>
nlohmann::json id_cursor(const std::vector<T>& page, int limit) {
  if (page.empty() || static_cast<int>(page.size()) < limit) return nullptr;
  return std::to_string(page.back().id);
}

// A text field of a JSON body, at most `max` bytes; required (and not empty) or optional.
std::string text_field(const nlohmann::json& body, const char* name, std::size_t max);
std::optional<std::string> optional_text_field(const nlohmann::json& body, const char* name,
                                               std::size_t max);
// A `limit` query parameter: a whole number above 0 (whole_number, 400 otherwise), taken as at
// most 1000 whatever is asked; the domain then says what it allows.
int page_limit(const std::string& name, const std::string& text);
// A body's keys must be among `allowed` (400 otherwise). Names in a body are never who acts:
// the signed-in user is, and a body that says otherwise is refused, not quietly overruled.
void refuse_other_keys(const nlohmann::json& body, const std::vector<std::string>& allowed);
// A route that takes no query parameters refuses any (400), as it refuses an unknown one.
void no_query(const Call& call);
// A path's {id}: one that is not a whole number above 0 is a `what` that does not exist (404).
Id path_id(const Call& call, const char* what);

}  // namespace casekit::http
