// POST /api/v1/login, POST /api/v1/logout, GET /api/v1/me, and the body- and query-reading
// helpers the route files share.
//
// A login checks the password away from the loop (PasswordPool): the loop reads the user's
// hash, the pool checks it, and the loop then records the outcome, in that order, so the
// database is never held while a hash is worked out.
#include "engine/core/error.hpp"
#include "engine/core/json.hpp"
#include "engine/core/text.hpp"
#include "engine/http/api.hpp"

namespace casekit::http {

int page_limit(const std::string& name, const std::string& text) {
  return static_cast<int>(std::min<std::int64_t>(whole_number(name, text), 1000));
}

// Names in a body are never who acts: the signed-in user is. A body that says otherwise is
// refused rather than quietly overruled.
void refuse_other_keys(const nlohmann::json& body, const std::vector<std::string>& allowed) {
  for (const auto& [key, value] : body.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      throw Error(ErrorCode::bad_argument,
                  "unknown field '" + key + "' (the user acting is always the one signed in)");
    }
  }
}

void no_query(const Call& call) {
  if (!call.request.query.empty()) {
    throw Error(ErrorCode::bad_argument,
                "unknown query parameter '" + call.request.query.begin()->first + "'");
  }
}

Id path_id(const Call& call, const char* what) {
  const std::string& text = call.params.at("id");
  const auto id = positive_number(text);
  if (!id) throw Error(ErrorCode::not_found, std::string("no ") + what + " '" + text + "'");
  return *id;
}

std::optional<std::string> optional_text_field(const nlohmann::json& body, const char* name,
                                               std::size_t max) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw Error(ErrorCode::bad_argument, std::string(name) + " must be text");
  const auto& text = it->get_ref<const std::string&>();
  if (text.size() > max) {
    throw Error(ErrorCode::bad_argument,
                std::string(name) + " is longer than " + std::to_string(max) + " characters");
  }
  return text;
}

std::string text_field(const nlohmann::json& body, const char* name, std::size_t max) {
  auto text = optional_text_field(body, name, max);
  if (!text || text->empty())
    throw Error(ErrorCode::bad_argument, std::string(name) + " is required");
  return *text;
}

namespace {

constexpr const char* kLogin = "/api/v1/login";

nlohmann::json user_json(const User& u) {
  return {{"name", u.name}, {"role", u.role}, {"team", or_null(u.team)}};
}

std::string session_cookie(const std::string& value, long max_age, bool secure) {
  return std::string(kSessionCookie) + "=" + value +
         "; HttpOnly; SameSite=Strict; Path=/; Max-Age=" + std::to_string(max_age) +
         (secure ? "; Secure" : "");
}

// Records the outcome of a checked password, and answers: a session, or the one refusal.
Response finish_login(Api& api, const LoginAttempt& attempt, const PasswordCheck& check,
                      bool bearer) {
  LoginResult result;
  {
    // A refusal is committed too: it counts towards the lock.
    ActorScope actor(api.engine.db, "user:" + attempt.name);
    Transaction tx(api.engine.db);
    result = api.engine.accounts.finish_login(attempt, check);
    tx.commit();
  }
  if (!result.session) {
    api.metrics.record_login_refused();
    return error_response(401, "LOGIN_REFUSED", result.refusal);
  }
  const Session& s = *result.session;
  nlohmann::json body = {{"user", user_json(api.engine.users.get(attempt.name))},
                         {"csrf_token", s.csrf},
                         {"expires_at", s.expires_at}};
  Response r;
  if (bearer) {
    // An API client keeps the token itself and sends it as "Authorization: Bearer".
    body["token"] = s.token;
  } else {
    const auto lifetime = std::chrono::duration_cast<std::chrono::seconds>(
        parse_instant(s.expires_at) - api.engine.clock.now());
    r.headers.emplace_back("Set-Cookie",
                           session_cookie(s.token, lifetime.count(), api.options.secure_cookie));
  }
  r.body = std::move(body);
  return r;
}

Response too_many(const std::string& message, long retry_after_seconds) {
  Response r = error_response(429, "TOO_MANY_LOGINS", message);
  r.headers.emplace_back("Retry-After", std::to_string(retry_after_seconds));
  return r;
}

void login(Api& api, Call& call, Reply reply) {
  const std::string name = text_field(call.body, "name", 64);
  std::string password = text_field(call.body, "password", 1024);
  const auto bearer_field = call.body.find("bearer");
  if (bearer_field != call.body.end() && !bearer_field->is_boolean()) {
    throw Error(ErrorCode::bad_argument, "bearer must be true or false");
  }
  const bool bearer = bearer_field != call.body.end() && bearer_field->get<bool>();
  LoginAttempt attempt = api.engine.accounts.begin_login(name, call.request.remote);
  if (attempt.throttled_until) {
    // This address has failed too often: no password check, and no name's count moves.
    const auto wait = std::chrono::duration_cast<std::chrono::seconds>(
        parse_instant(*attempt.throttled_until) - api.engine.clock.now());
    return reply(too_many("too many failed logins from this address; try again later",
                          std::max<long>(1, wait.count())));
  }
  std::string hash = attempt.hash;
  const bool started = api.passwords.verify(
      std::move(hash), std::move(password),
      [&api, attempt = std::move(attempt), bearer, reply,
       why = api.engine.db.why()](const PasswordCheck& check) {
        const WhyScope scope(api.engine.db, why);  // the route's, whose scope has ended
        Response r;
        try {
          r = finish_login(api, attempt, check, bearer);
        } catch (...) {
          r = error_for_exception(kLogin);
        }
        reply(std::move(r));
      });
  if (!started) {
    reply(too_many("too many logins are being checked at once; try again shortly", 1));
  }
}

Response logout(Api& api, Call& call) {
  bool from_cookie = false;
  const auto token = session_token(call.request, &from_cookie);
  {
    ActorScope actor(api.engine.db, "user:" + call.user().name);
    Transaction tx(api.engine.db);
    api.engine.accounts.logout(*token);
    tx.commit();
  }
  Response r;
  r.status = 204;
  if (from_cookie) {
    r.headers.emplace_back("Set-Cookie", session_cookie("", 0, api.options.secure_cookie));
  }
  return r;
}

}  // namespace

void add_auth_routes(Router& router, Api& api) {
  router.add({"POST",
              kLogin,
              Access::anyone,
              "Log in with name and password: a session cookie (or, with bearer, a token) and "
              "a CSRF token",
              {},
              [&api](Call& c, Reply reply) { login(api, c, std::move(reply)); }});
  router.add({"POST",
              "/api/v1/logout",
              Access::signed_in,
              "End this session",
              [&api](Call& c) { return logout(api, c); },
              {}});
  router.add({"GET",
              "/api/v1/me",
              Access::signed_in,
              "Who is logged in, and until when",
              [](Call& c) {
                return json_response(
                    {{"user", user_json(c.user())}, {"session_expires_at", c.who->expires_at}});
              },
              {}});
}

void add_routes(Router& router, Api& api) {
  add_health_routes(router, api);
  add_auth_routes(router, api);
  add_work_routes(router, api);
  add_casegroup_routes(router, api);
  add_metrics_routes(router, api);
  add_operator_routes(router, api);
  add_user_routes(router, api);
}

}  // namespace casekit::http
