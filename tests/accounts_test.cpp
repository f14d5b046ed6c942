// Accounts: Argon2id passwords, sessions, lockout, disabling (engine/domain/accounts.hpp).
#include <sodium.h>

#include <array>
#include <cstring>

#include "tests/durable_support.hpp"

using namespace casekit;
using namespace casekit::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kPassword = "correct horse battery staple";

struct AccountsFixture : DurableEngine {
  AccountsFixture() {
    Transaction tx(db);
    engine.users.add("tina", "team_leader", std::string("Arrears"));
    engine.accounts.set_password("tina", kPassword);
    tx.commit();
  }
  // Login commits whatever it answers, as the front door does: a failed attempt counts.
  LoginResult login(const std::string& name, const std::string& password) {
    Transaction tx(db);
    LoginResult r = engine.accounts.login(name, password);
    tx.commit();
    return r;
  }
};

}  // namespace

TEST_CASE("accounts: the password is kept only as an Argon2id hash, and never audited") {
  AccountsFixture f;
  auto st = f.db.prepare("SELECT password_hash FROM user_credentials");
  REQUIRE(st.step());
  CHECK_THAT(st.text(0), Catch::StartsWith("$argon2id$"));
  CHECK(f.count("SELECT count(*) FROM user_credentials WHERE password_hash LIKE '%horse%'") == 0);
  CHECK(f.count("SELECT count(*) FROM audit WHERE entity IN ('user_credentials', 'sessions') "
                "OR coalesce(after, '') LIKE '%argon2%'") == 0);
  // That a password was set is audited, on the user.
  CHECK(f.count("SELECT count(*) FROM audit WHERE entity = 'users' AND action = 'update' "
                "AND after LIKE '%password_changed_at%'") == 1);
  Transaction tx(f.db);
  CHECK_THROWS_WITH(f.engine.accounts.set_password("tina", "too short"),
                    "a password must be 12 to 1024 characters");
  CHECK_THROWS_WITH(f.engine.accounts.set_password("nobody", kPassword),
                    Catch::Contains("no user 'nobody'"));
}

TEST_CASE("accounts: a login gives a session whose token, not its hash, authenticates") {
  AccountsFixture f;
  const LoginResult r = f.login("tina", kPassword);
  REQUIRE(r.session);
  const Session& s = *r.session;
  CHECK(s.token.size() == 64);
  CHECK(s.csrf != s.token);
  CHECK(s.expires_at == "2026-11-20T17:00:00Z");
  // Only hashes are stored.
  CHECK(f.count("SELECT count(*) FROM sessions WHERE token_hash = '" + s.token +
                "' OR csrf_hash = '" + s.csrf + "'") == 0);
  const auto who = f.engine.accounts.authenticate(s.token);
  REQUIRE(who);
  CHECK(who->user.name == "tina");
  CHECK(who->user.team == "Arrears");
  CHECK(f.engine.accounts.csrf_matches(who->session, s.csrf));
  CHECK_FALSE(f.engine.accounts.csrf_matches(who->session, s.token));
  CHECK_FALSE(f.engine.accounts.csrf_matches(who->session, ""));
  CHECK_FALSE(f.engine.accounts.authenticate("not a token"));
  CHECK_FALSE(f.engine.accounts.authenticate(""));

  // Expired after eight hours.
  f.clock.set(f.clock.now() + 8h);
  CHECK_FALSE(f.engine.accounts.authenticate(s.token));
}

TEST_CASE("accounts: every wrong login reads the same, and five in a row lock the account") {
  AccountsFixture f;
  CHECK(f.login("tina", "wrong password!").refusal == "wrong user name or password");
  CHECK(f.login("nobody", kPassword).refusal == "wrong user name or password");
  CHECK(f.login("tina", kPassword).session);  // a success resets the count
  for (int i = 0; i < 4; ++i) CHECK_FALSE(f.login("tina", "wrong password!").session);
  CHECK(f.count("SELECT failed_logins FROM user_credentials") == 4);
  CHECK(f.login("tina", "wrong password!").refusal == "wrong user name or password");
  // Locked: even the right password is refused until the lock ends, and reads the same.
  const LoginResult locked = f.login("tina", kPassword);
  CHECK_FALSE(locked.session);
  CHECK(locked.refusal == "wrong user name or password");
  CHECK(f.count("SELECT count(*) FROM user_credentials WHERE locked_until = "
                "'2026-11-20T09:15:00Z'") == 1);
  f.clock.set(f.clock.now() + 15min);
  CHECK(f.login("tina", kPassword).session);
}

TEST_CASE(
    "accounts: logout, a new password and disabling end sessions, and a disabled user cannot act") {
  AccountsFixture f;
  const auto first = f.login("tina", kPassword).session;
  const auto second = f.login("tina", kPassword).session;
  REQUIRE((first && second));
  {
    Transaction tx(f.db);
    f.engine.accounts.logout(first->token);
    tx.commit();
  }
  CHECK_FALSE(f.engine.accounts.authenticate(first->token));
  CHECK(f.engine.accounts.authenticate(second->token));
  {
    Transaction tx(f.db);
    f.engine.accounts.set_password("tina", "another long password");
    tx.commit();
  }
  CHECK_FALSE(f.engine.accounts.authenticate(second->token));
  CHECK_FALSE(f.login("tina", kPassword).session);
  const auto third = f.login("tina", "another long password").session;
  REQUIRE(third);
  {
    Transaction tx(f.db);
    f.engine.accounts.disable("tina");
    CHECK_THROWS_WITH(f.engine.accounts.disable("tina"), "user 'tina' is already disabled");
    tx.commit();
  }
  CHECK_FALSE(f.engine.accounts.authenticate(third->token));
  CHECK(f.login("tina", "another long password").refusal == "wrong user name or password");
  Transaction tx(f.db);
  CHECK_THROWS_WITH(f.engine.users.require("tina"),
                    Catch::StartsWith("user 'tina' was disabled on"));
}

TEST_CASE("accounts: guesses checked side by side all count, and the lock wins over a late match") {
  AccountsFixture f;
  // Twenty guesses read the hash before any of them is recorded, as parallel logins through
  // the HTTP pool do; the right password's check finishes last.
  std::vector<LoginAttempt> guesses;
  for (int i = 0; i < 20; ++i) guesses.push_back(f.engine.accounts.begin_login("tina"));
  const LoginAttempt right = f.engine.accounts.begin_login("tina");
  Transaction tx(f.db);
  for (const auto& g : guesses) CHECK_FALSE(f.engine.accounts.finish_login(g, {}).session);
  const LoginResult late = f.engine.accounts.finish_login(right, {true, std::nullopt});
  tx.commit();
  CHECK_FALSE(late.session);
  CHECK(late.refusal == "wrong user name or password");
  CHECK_FALSE(f.login("tina", kPassword).session);  // still locked
  CHECK(f.count("SELECT count(*) FROM sessions") == 0);
}

TEST_CASE("accounts: a password changed between reading and recording a login wins") {
  AccountsFixture f;
  const LoginAttempt old = f.engine.accounts.begin_login("tina");
  const PasswordCheck check = Accounts::check_password(old.hash, kPassword);
  REQUIRE(check.matches);
  Transaction tx(f.db);
  f.engine.accounts.set_password("tina", "a brand new passphrase");
  CHECK_FALSE(f.engine.accounts.finish_login(old, check).session);
  tx.commit();
}

TEST_CASE("accounts: an unknown name is checked against a stand-in made like a real hash") {
  AccountsFixture f;
  const std::string stand_in = f.engine.accounts.begin_login("nobody").hash;
  const std::string real = f.engine.accounts.begin_login("tina").hash;
  // "$argon2id$v=19$m=65536,t=2,p=1$": the same algorithm, memory and passes, so the same work.
  const auto parameters = [](const std::string& h) {
    return h.substr(0, h.rfind('$', h.rfind('$') - 1));
  };
  CHECK(parameters(stand_in) == parameters(real));
  CHECK_THAT(parameters(stand_in), Catch::StartsWith("$argon2id$"));
  CHECK_FALSE(Accounts::check_password(stand_in, kPassword).matches);
  CHECK_FALSE(Accounts::check_password(stand_in, "").matches);
}

TEST_CASE("accounts: a session unused for 30 minutes ends, and dead sessions are purged") {
  AccountsFixture f;
  const auto s = f.login("tina", kPassword).session;
  REQUIRE(s);
  f.clock.set(f.clock.now() + 29min);
  CHECK(f.engine.accounts.authenticate(s->token));  // used: the idle clock starts again
  f.clock.set(f.clock.now() + 29min);
  CHECK(f.engine.accounts.authenticate(s->token));
  CHECK(f.engine.accounts.csrf_matches(s->id, s->csrf));
  f.clock.set(f.clock.now() + 30min);
  CHECK_FALSE(f.engine.accounts.authenticate(s->token));
  CHECK_FALSE(f.engine.accounts.csrf_matches(s->id, s->csrf));
  // The next login clears away what can no longer be used.
  REQUIRE(f.login("tina", kPassword).session);
  CHECK(f.count("SELECT count(*) FROM sessions") == 1);
}

TEST_CASE("accounts: a hash made with older parameters is renewed at the next login") {
  AccountsFixture f;
  std::array<char, crypto_pwhash_STRBYTES> weak{};
  REQUIRE(crypto_pwhash_str_alg(weak.data(), kPassword, std::strlen(kPassword),
                                crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN,
                                crypto_pwhash_ALG_ARGON2ID13) == 0);
  f.db.prepare("UPDATE user_credentials SET password_hash = ?1").bind(1, weak.data()).run();
  REQUIRE(f.login("tina", kPassword).session);
  auto st = f.db.prepare("SELECT password_hash FROM user_credentials");
  REQUIRE(st.step());
  const std::string renewed = st.text(0);
  CHECK(renewed != weak.data());
  CHECK(crypto_pwhash_str_needs_rehash(renewed.c_str(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                       crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0);
  CHECK(f.login("tina", kPassword).session);
}

TEST_CASE("accounts: failed logins from one address are throttled, whatever names they try") {
  AccountsFixture f;
  const auto from = [&](const std::string& name, const std::string& address) {
    Transaction tx(f.db);
    LoginResult r = f.engine.accounts.login(name, "not the password", address);
    tx.commit();
    return r;
  };
  for (int i = 0; i < 20; ++i) CHECK_FALSE(from("guess" + std::to_string(i), "client-a").session);
  // The address is turned away before any password is checked, even the right one, and
  // tina's own count does not move.
  const LoginAttempt next = f.engine.accounts.begin_login("tina", "client-a");
  REQUIRE(next.throttled_until);
  CHECK(*next.throttled_until == "2026-11-20T09:15:00Z");
  Transaction tx(f.db);
  CHECK_FALSE(f.engine.accounts.login("tina", kPassword, "client-a").session);
  CHECK(f.engine.accounts.login("tina", kPassword, "client-b").session);
  tx.commit();
  CHECK(f.count("SELECT failed_logins FROM user_credentials") == 0);
  f.clock.set(f.clock.now() + 15min);
  CHECK_FALSE(f.engine.accounts.begin_login("tina", "client-a").throttled_until);
}
