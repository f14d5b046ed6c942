#include "engine/http/router.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

#include "engine/core/error.hpp"
#include "engine/http/web_pages.hpp"

namespace casekit::http {
namespace {

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 1;
  while (start <= path.size()) {
    const auto end = std::min(path.find('/', start), path.size());
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; a query also reads '+' as a space, a path does not.
bool decode(std::string_view in, std::string& out, bool plus_is_space = true) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (plus_is_space && in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += in[i];
    }
  }
  return true;
}

}  // namespace

std::optional<std::map<std::string, std::string>> match_path(const std::string& pattern,
                                                             std::string_view path) {
  const auto want = segments(pattern);
  const auto have = segments(path);
  if (want.size() != have.size()) return std::nullopt;
  std::map<std::string, std::string> params;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (want[i].size() > 2 && want[i].front() == '{' && want[i].back() == '}') {
      std::string value;
      if (have[i].empty() || !decode(have[i], value, false)) return std::nullopt;
      params.emplace(std::string(want[i].substr(1, want[i].size() - 2)), std::move(value));
    } else if (want[i] != have[i]) {
      return std::nullopt;
    }
  }
  return params;
}

namespace {

// Printable ASCII, and no empty, "." or ".." segment (nor one escaped as %2e). Nothing here
// serves files, but a path that tries to climb is refused as what it is rather than as an
// unknown route.
bool plain_path(std::string_view path) {
  if (path.empty() || path.front() != '/' || path.size() > 1024) return false;
  for (char c : path) {
    if (c <= 0x20 || c >= 0x7f || c == '\\') return false;
  }
  if (path == "/") return true;
  for (auto s : segments(path)) {
    std::string lower(s);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (s.empty() || s == "." || s == ".." || lower.find("%2e") != std::string::npos ||
        lower.find("%2f") != std::string::npos) {
      return false;
    }
  }
  return true;
}

int status_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::bad_argument:
      return 400;
    case ErrorCode::not_found:
      return 404;
    case ErrorCode::forbidden:
      return 403;
    case ErrorCode::conflict:
      return 409;
    case ErrorCode::invalid:
      return 422;
    case ErrorCode::storage:
      return 503;
    case ErrorCode::too_many:
      return 429;
    default:
      return 500;
  }
}

bool changes_state(const std::string& method) {
  return method != "GET" && method != "HEAD";
}

// The checks before a handler, in order; an answer when one refuses the request.
std::optional<Response> refuse_body(const Request& request, nlohmann::json& body) {
  if (!changes_state(request.method) || request.body.empty()) return std::nullopt;
  const auto semi = request.content_type.find(';');
  if (request.content_type.substr(0, semi) != "application/json") {
    return error_response(415, "UNSUPPORTED_MEDIA_TYPE", "send the body as application/json");
  }
  try {
    body = nlohmann::json::parse(request.body);
  } catch (const nlohmann::json::exception&) {
    return error_response(400, "BAD_JSON", "the body is not valid JSON");
  }
  if (!body.is_object()) return error_response(400, "BAD_JSON", "the body must be a JSON object");
  return std::nullopt;
}

}  // namespace

bool parse_query(std::string_view text, std::map<std::string, std::string>& out) {
  while (!text.empty()) {
    const auto amp = text.find('&');
    const auto pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    std::string key, value;
    if (!decode(pair.substr(0, eq), key)) return false;
    if (eq != std::string_view::npos && !decode(pair.substr(eq + 1), value)) return false;
    out[key] = value;
  }
  return true;
}

std::optional<std::string> session_token(const Request& request, bool* from_cookie) {
  *from_cookie = false;
  constexpr std::string_view bearer = "Bearer ";
  if (request.authorization.rfind(bearer, 0) == 0) {
    return request.authorization.substr(bearer.size());
  }
  const std::string name = std::string(kSessionCookie) + "=";
  std::string_view cookies = request.cookie;
  while (!cookies.empty()) {
    const auto semi = cookies.find(';');
    auto one = cookies.substr(0, semi);
    cookies = semi == std::string_view::npos ? std::string_view() : cookies.substr(semi + 1);
    while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
    if (one.rfind(name, 0) == 0) {
      *from_cookie = true;
      return std::string(one.substr(name.size()));
    }
  }
  return std::nullopt;
}

Response error_response(int status, const std::string& code, const std::string& message) {
  Response r;
  r.status = status;
  r.body = {{"error", {{"code", code}, {"message", message}}}};
  return r;
}

Response json_response(nlohmann::json body, int status) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response error_for_exception(const std::string& route) {
  try {
    throw;
  } catch (const Error& e) {
    const int status = status_of(e.code());
    if (status < 500) {
      Response r = error_response(status, code_name(e.code()), e.what());
      if (!e.field().empty()) r.body["error"]["field"] = e.field();
      return r;
    }
    spdlog::error("http: {}: {}", route, e.what());
    if (status == 503) return error_response(503, "BUSY", "the database is busy; try again");
  } catch (const nlohmann::json::exception& e) {
    // A field of the wrong type in the body: a number where text belongs.
    return error_response(400, "BAD_ARGUMENT",
                          std::string("a field has the wrong type: ") + e.what());
  } catch (const std::exception& e) {
    spdlog::error("http: {}: {}", route, e.what());
  }
  return error_response(500, "INTERNAL", "the server failed; see its log");
}

void Router::add(Route route) {
  routes_.push_back(std::move(route));
}

void Router::handle(const Request& request, Done done) {
  Answered answered;
  auto answer = [&](Response r) { done(std::move(r), answered); };
  if (!plain_path(request.path)) {
    return answer(error_response(400, "BAD_PATH", "the path is not a plain one"));
  }
  const Route* route = nullptr;
  std::map<std::string, std::string> params;
  std::vector<std::string> allowed;
  for (const Route& r : routes_) {
    auto p = match_path(r.pattern, request.path);
    if (!p) continue;
    if (r.method != request.method) {
      allowed.push_back(r.method);
      continue;
    }
    route = &r;
    params = std::move(*p);
    break;
  }
  if (!route && allowed.empty() && web_ && request.method == "GET" &&
      request.path.rfind("/api/", 0) != 0) {
    try {
      if (auto page = web_->serve(request.path, answered.route)) return answer(std::move(*page));
    } catch (...) {
      return answer(error_for_exception("web"));
    }
  }
  if (!route) {
    if (allowed.empty())
      return answer(error_response(404, "NOT_FOUND", "no route " + request.path));
    std::sort(allowed.begin(), allowed.end());
    std::string allow;
    for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    Response r = error_response(405, "METHOD_NOT_ALLOWED",
                                request.method + " is not allowed here (allowed: " + allow + ")");
    r.headers.emplace_back("Allow", allow);
    return answer(std::move(r));
  }
  answered.route = route->pattern;

  Call call{request, std::move(params), std::nullopt, nlohmann::json::object()};
  // What a route's handler changes, the audit says was done by "METHOD /route/{pattern}".
  // (A deferred handler's continuation runs later, outside this scope: it takes db.why()
  // along and opens it again, as with_hash and the login do.)
  const WhyScope why(db_, request.method + " " + route->pattern);
  try {
    bool from_cookie = false;
    const auto token =
        route->access == Access::anyone ? std::nullopt : session_token(request, &from_cookie);
    // A scraper sends the metrics token as a bearer token; it opens /metrics and nothing else.
    const bool scraper = route->access == Access::metrics && token && !from_cookie &&
                         accounts_.metrics_token_matches(*token);
    if (scraper) {
      answered.user = "metrics-token";
    } else if (route->access != Access::anyone) {
      if (token) call.who = accounts_.authenticate(*token);
      if (!call.who) {
        return answer(error_response(401, "UNAUTHENTICATED",
                                     token ? "the session has expired or ended; log in again"
                                           : "log in first (POST /api/v1/login)"));
      }
      answered.user = call.who->user.name;
      // A browser sends the cookie with any request to this origin, whoever caused it; only
      // a page of ours can also read and send the CSRF token. A bearer token is never sent
      // on its own, so it needs none.
      if (from_cookie && changes_state(request.method) &&
          !accounts_.csrf_matches(call.who->session, request.csrf)) {
        return answer(error_response(403, "CSRF", "missing or wrong X-CSRF-Token header"));
      }
    }
    if (auto refused = refuse_body(request, call.body)) return answer(std::move(*refused));
    if (route->handler) return answer(route->handler(call));
  } catch (...) {
    return answer(error_for_exception(route->pattern));
  }
  // A deferred handler answers later; an exception it throws before it defers is answered
  // here, and one its continuation throws is its own to catch (error_for_exception).
  auto once = std::make_shared<bool>(false);
  Reply reply = [done, answered, once](Response r) {
    if (*once) return;
    *once = true;
    done(std::move(r), answered);
  };
  try {
    route->deferred(call, reply);
  } catch (...) {
    reply(error_for_exception(route->pattern));
  }
}

}  // namespace casekit::http
