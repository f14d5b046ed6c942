// The admin's user routes: list, add, change role or team, disable, reset a password. Who may
// do what is UserAdmin's (engine/domain/user_admin.hpp): admins only, never to their own
// account. A password is hashed on the password pool, off the loop, between the checks and
// the write; the write checks again, since the admin may have lost the role meanwhile.
#include "engine/core/error.hpp"
#include "engine/core/json.hpp"
#include "engine/http/api.hpp"

namespace casekit::http {
namespace {

constexpr const char* kUsers = "/api/v1/users";
constexpr const char* kPassword = "/api/v1/users/{name}/password";

nlohmann::json user_json(const User& u) {
  return {{"name", u.name},
          {"role", u.role},
          {"team", or_null(u.team)},
          {"disabled_at", or_null(u.disabled_at)}};
}

// Hashes `password` off the loop, then calls `then(hash)` on it and replies with what it
// answers; an error either side is the reply. 429 when the pool is full, as for logins.
// `then` runs after the router's why scope has ended: it takes the route's why along.
void with_hash(Api& api, std::string password, const char* route, Reply reply,
               std::function<Response(const std::string&)> then) {
  api.engine.accounts.check_password_rules(password);
  const bool started =
      api.passwords.hash(std::move(password), [&api, route, reply, why = api.engine.db.why(),
                                               then = std::move(then)](const std::string& hash) {
        const WhyScope scope(api.engine.db, why);
        Response r;
        try {
          if (hash.empty()) throw Error(ErrorCode::internal, "the password could not be hashed");
          r = then(hash);
        } catch (...) {
          r = error_for_exception(route);
        }
        reply(std::move(r));
      });
  if (!started) {
    Response r = error_response(429, "BUSY", "too many passwords are being hashed; try again");
    r.headers.emplace_back("Retry-After", "1");
    reply(std::move(r));
  }
}

// POST /api/v1/users {"name", "role", "team", "password"}
void add_user(Api& api, Call& call, Reply reply) {
  refuse_other_keys(call.body, {"name", "role", "team", "password"});
  NewUser n{text_field(call.body, "name", 64), text_field(call.body, "role", 32),
            optional_text_field(call.body, "team", 64), std::nullopt};
  const User admin = call.user();
  api.engine.user_admin.check(admin);
  const auto answer = [&api, admin](const NewUser& user) {
    return json_response(
        user_json(as_user(api, admin, [&] { return api.engine.user_admin.add(admin, user); })),
        201);
  };
  auto password = optional_text_field(call.body, "password", 1024);
  if (!password) return reply(answer(n));
  with_hash(api, std::move(*password), kUsers, reply, [answer, n](const std::string& hash) mutable {
    n.password_hash = hash;
    return answer(n);
  });
}

// PATCH /api/v1/users/{name} {"role", "team"}: team null takes them out of every team.
Response change_user(Api& api, Call& call) {
  refuse_other_keys(call.body, {"role", "team"});
  UserChange change;
  change.role = optional_text_field(call.body, "role", 32);
  if (call.body.contains("team")) change.team = optional_text_field(call.body, "team", 64);
  const std::string name = call.params.at("name");
  return json_response(user_json(as_user(
      api, call.user(), [&] { return api.engine.user_admin.change(call.user(), name, change); })));
}

// POST /api/v1/users/{name}/password {"password"}
void reset_password(Api& api, Call& call, Reply reply) {
  refuse_other_keys(call.body, {"password"});
  std::string password = text_field(call.body, "password", 1024);
  const User admin = call.user();
  const std::string name = call.params.at("name");
  api.engine.user_admin.check(admin, name);
  with_hash(api, std::move(password), kPassword, reply,
            [&api, admin, name](const std::string& hash) {
              as_user(api, admin, [&] {
                api.engine.user_admin.set_password_hash(admin, name, hash);
                return 0;
              });
              Response r;
              r.status = 204;
              return r;
            });
}

}  // namespace

void add_user_routes(Router& router, Api& api) {
  router.add({"GET",
              kUsers,
              Access::signed_in,
              "Every user with their role, team and whether disabled (admins)",
              [&api](Call& c) {
                no_query(c);
                nlohmann::json out = nlohmann::json::array();
                for (const User& u : api.engine.user_admin.list(c.user())) {
                  out.push_back(user_json(u));
                }
                return json_response({{"users", out}});
              },
              {}});
  router.add({"POST",
              kUsers,
              Access::signed_in,
              "Add a user with a role, a team and perhaps a password (admins)",
              {},
              [&api](Call& c, Reply reply) { add_user(api, c, std::move(reply)); }});
  router.add({"PATCH",
              "/api/v1/users/{name}",
              Access::signed_in,
              "Change another user's role or team (admins; never one's own)",
              [&api](Call& c) { return change_user(api, c); },
              {}});
  router.add({"POST",
              "/api/v1/users/{name}/disable",
              Access::signed_in,
              "Disable another user and end their sessions (admins; never one's own)",
              [&api](Call& c) {
                no_query(c);
                if (!c.body.empty()) throw Error(ErrorCode::bad_argument, "this takes no body");
                const std::string name = c.params.at("name");
                return json_response(user_json(as_user(
                    api, c.user(), [&] { return api.engine.user_admin.disable(c.user(), name); })));
              },
              {}});
  router.add({"POST",
              kPassword,
              Access::signed_in,
              "Set another user's password and end their sessions (admins; never one's own)",
              {},
              [&api](Call& c, Reply reply) { reset_password(api, c, std::move(reply)); }});
}

}  // namespace casekit::http
