// The HTTP API's routes, and the checks every request passes before its handler runs: the
// path is one the table knows, the caller is signed in (a session cookie or a bearer token)
// where the route asks for it, a state change made with a cookie carries the session's CSRF
// token, and a body is a JSON object. A handler does only its one job; an Error it throws
// becomes the status and JSON error body its code calls for, at this one boundary.
//
// The route table is also what docs/http-api.md is checked against (tests/http_test.cpp).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/domain/accounts.hpp"

namespace casekit::http {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query
  std::map<std::string, std::string> query;
  std::string body;
  std::string content_type;
  std::string cookie;         // the Cookie header
  std::string authorization;  // the Authorization header
  std::string csrf;           // the X-CSRF-Token header
  std::string remote;         // the peer's address: the login throttle and the access log
};

struct Response {
  int status = 200;
  nlohmann::json body;  // null: no body
  // A body that is not JSON (/metrics), sent as it is; its Content-Type is in `headers`.
  std::optional<std::string> text;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Who may call a route. Every route names one; none is open by omission.
enum class Access {
  anyone,     // the health checks and login
  signed_in,  // a user with a live session
  metrics,    // the metrics token (Accounts::new_metrics_token), or a user with a live session
};

// What a handler is given: the request, the path's {parameters}, the signed-in user (for a
// signed_in route), and the JSON body of a POST (an empty object when there is none).
struct Call {
  const Request& request;
  std::map<std::string, std::string> params;
  std::optional<Authenticated> who;
  nlohmann::json body;

  const User& user() const { return who->user; }
};

// A handler that answers at once, and one that answers later (after work off the loop,
// such as checking a password): it calls `reply` exactly once, on the loop.
using Reply = std::function<void(Response)>;
using Handler = std::function<Response(Call&)>;
using DeferredHandler = std::function<void(Call&, Reply)>;

struct Route {
  std::string method;
  std::string pattern;  // "/api/v1/work-items/{id}/claim"
  Access access = Access::signed_in;
  std::string summary;  // one line, as docs/http-api.md has it
  Handler handler;      // one of these two
  DeferredHandler deferred;
};

// What the server logs of an answered request: the route's pattern (never the path, whose
// ids and query can name people) and who asked ("-" before sign-in).
struct Answered {
  std::string route = "-";
  std::string user = "-";
};
using Done = std::function<void(Response, const Answered&)>;

class WebPages;

class Router {
 public:
  // `db` is told, for its audit, which route each change was made by.
  Router(Accounts& accounts, Database& db) : accounts_(accounts), db_(db) {}

  void add(Route route);
  const std::vector<Route>& routes() const { return routes_; }
  // A GET that no route's path matches, outside /api/, is answered from `web` when it names
  // a page or asset there (the web inbox). Without it only the API is served.
  void serve_web(const WebPages* web) { web_ = web; }

  // Answers `request` through `done`, exactly once: at once, or later on the loop for a
  // deferred route. Never throws. `request` must live until `done` is called.
  void handle(const Request& request, Done done);

 private:
  Accounts& accounts_;
  Database& db_;
  std::vector<Route> routes_;
  const WebPages* web_ = nullptr;
};

// {"error": {"code": ..., "message": ...}} with the status.
Response error_response(int status, const std::string& code, const std::string& message);
Response json_response(nlohmann::json body, int status = 200);
// The answer for an exception a handler threw: an Error's code decides the status; anything
// else is a 500 whose detail goes to the log, not to the client.
Response error_for_exception(const std::string& route);

// The path's {parameters} when `path` fits `pattern` ("/work-items/{id}"), else nothing.
std::optional<std::map<std::string, std::string>> match_path(const std::string& pattern,
                                                             std::string_view path);

// Splits "a=1&b=two%20words" into decoded pairs; false when an escape is malformed.
bool parse_query(std::string_view text, std::map<std::string, std::string>& out);
// The session token a request carries: "Authorization: Bearer T", else the session cookie.
std::optional<std::string> session_token(const Request& request, bool* from_cookie);

inline constexpr const char* kSessionCookie = "casekit_session";

}  // namespace casekit::http
