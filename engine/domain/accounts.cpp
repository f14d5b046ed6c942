#include "engine/domain/accounts.hpp"

#include <sodium.h>

#include <array>

#include "engine/core/error.hpp"

namespace casekit {
namespace {

constexpr const char* kWrong = "wrong user name or password";

// 32 random bytes as 64 hex digits.
std::string random_token() {
  std::array<unsigned char, 32> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  std::array<char, 65> hex{};
  sodium_bin2hex(hex.data(), hex.size(), bytes.data(), bytes.size());
  return std::string(hex.data());
}

// Tokens are long and random, so a fast keyed-free hash is enough to make a stolen table
// useless: nobody can turn a stored hash back into a token.
std::string token_hash(const std::string& token) {
  std::array<unsigned char, crypto_generichash_BYTES> out{};
  crypto_generichash(out.data(), out.size(), reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  std::array<char, crypto_generichash_BYTES * 2 + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), out.data(), out.size());
  return std::string(hex.data());
}

// The Argon2id hash of a password, in libsodium's self-describing string form.
std::string argon2id(const std::string& password) {
  std::array<char, crypto_pwhash_STRBYTES> hashed{};
  if (crypto_pwhash_str_alg(hashed.data(), password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw Error(ErrorCode::internal, "out of memory hashing the password");
  }
  return std::string(hashed.data());
}

// What a login checks when there is no real hash (an unknown name, a user with no password
// yet): the hash of a random password nobody knows, made with argon2id()'s parameters, so
// the check costs what a real one does. A test keeps the parameters in step.
constexpr const char* kStandInHash =
    "$argon2id$v=19$m=65536,t=2,p=1$aCY2oSLngFcxVHd0MZDE4g$"
    "bVucCKLwNmd6HIsHRPXhuMAk87qfexG9/PS2N/nnYPY";

}  // namespace

Accounts::Accounts(Database& db, const Clock& clock, Users& users, AccountRules rules)
    : db_(db), clock_(clock), users_(users), rules_(rules) {
  if (sodium_init() < 0) throw Error(ErrorCode::internal, "libsodium could not start");
}

void Accounts::check_password_rules(const std::string& password) const {
  if (password.size() < rules_.min_password || password.size() > rules_.max_password) {
    throw Error(ErrorCode::bad_argument, "a password must be " +
                                             std::to_string(rules_.min_password) + " to " +
                                             std::to_string(rules_.max_password) + " characters");
  }
}

std::string Accounts::hash_password(const std::string& password) {
  return argon2id(password);
}

void Accounts::set_password(const std::string& name, const std::string& password) {
  users_.get(name);  // an unknown name is said before any hashing
  check_password_rules(password);
  set_password_hash(name, argon2id(password));
}

void Accounts::set_password_hash(const std::string& name, const std::string& hashed) {
  const User u = users_.get(name);
  const std::string now = format_instant(clock_.now());
  db_.prepare(
         "INSERT INTO user_credentials(user_id, password_hash) VALUES (?1, ?2) "
         "ON CONFLICT (user_id) DO UPDATE SET password_hash = ?2, failed_logins = 0, "
         "locked_until = NULL")
      .bind_all(u.id, hashed)
      .run();
  db_.prepare("UPDATE users SET password_changed_at = ?1 WHERE id = ?2").bind_all(now, u.id).run();
  end_sessions(u.id);
}

LoginResult Accounts::login(const std::string& name, const std::string& password,
                            const std::string& address) {
  const LoginAttempt attempt = begin_login(name, address);
  if (attempt.throttled_until) return finish_login(attempt, {});
  return finish_login(attempt, check_password(attempt.hash, password));
}

LoginAttempt Accounts::begin_login(const std::string& name, const std::string& address) {
  auto st = db_.prepare(
      "SELECT c.password_hash FROM users u JOIN user_credentials c ON c.user_id = u.id "
      "WHERE u.name = ?1");
  st.bind(1, name);
  LoginAttempt attempt{name, kStandInHash, address, std::nullopt};
  if (st.step() && !st.is_null(0)) attempt.hash = st.text(0);
  if (!address.empty()) {
    auto throttle =
        db_.prepare("SELECT failures, window_start FROM login_throttle WHERE address = ?1");
    throttle.bind(1, address);
    if (throttle.step() && throttle.integer(0) >= rules_.failures_per_address) {
      const Instant until = parse_instant(throttle.text(1)) + rules_.address_window;
      if (until > clock_.now()) attempt.throttled_until = format_instant(until);
    }
  }
  return attempt;
}

PasswordCheck Accounts::check_password(const std::string& hash, const std::string& password) {
  PasswordCheck check;
  check.matches = crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
  // Parameters raised since this hash was made: renew it while the password is at hand.
  if (check.matches &&
      crypto_pwhash_str_needs_rehash(hash.c_str(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                     crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    check.rehashed = argon2id(password);
  }
  return check;
}

LoginResult Accounts::finish_login(const LoginAttempt& attempt, const PasswordCheck& check) {
  const Instant now = clock_.now();
  if (attempt.throttled_until) {
    return {std::nullopt, "too many failed logins from this address; try again after " +
                              *attempt.throttled_until};
  }
  auto user = db_.prepare(
      "SELECT u.id, u.disabled_at, c.password_hash, c.locked_until "
      "FROM users u JOIN user_credentials c ON c.user_id = u.id WHERE u.name = ?1");
  user.bind(1, attempt.name);
  const bool known = user.step();
  const bool locked = known && !user.is_null(3) && parse_instant(user.text(3)) > now;
  // The hash checked must still be the user's: a password changed meanwhile wins.
  const bool ok =
      known && check.matches && user.is_null(1) && !locked && user.text(2) == attempt.hash;
  if (!ok) {
    // The same writes whatever the reason, so that neither the answer nor what it costs
    // tells a guesser which names exist.
    if (!attempt.address.empty()) count_address_failure(attempt.address, now);
    if (known && !locked) count_failure(user.integer(0), now);
    return {std::nullopt, kWrong};
  }
  const Id id = user.integer(0);
  db_.prepare(
         "UPDATE user_credentials SET failed_logins = 0, locked_until = NULL, "
         "password_hash = COALESCE(?2, password_hash) WHERE user_id = ?1")
      .bind_all(id, check.rehashed)
      .run();
  purge_sessions(now);
  Session s;
  s.token = random_token();
  s.csrf = random_token();
  s.expires_at = format_instant(now + rules_.session_lifetime);
  db_.prepare(
         "INSERT INTO sessions(user_id, token_hash, csrf_hash, created_at, expires_at, "
         "last_seen_at) VALUES (?1, ?2, ?3, ?4, ?5, ?4)")
      .bind_all(id, token_hash(s.token), token_hash(s.csrf), format_instant(now), s.expires_at)
      .run();
  s.id = db_.last_insert_id();
  return {s, ""};
}

// Per address, counted in a window that starts at the first failure: a guesser working
// through many names from one place is slowed however the names are spread.
void Accounts::count_address_failure(const std::string& address, Instant now) {
  db_.prepare(
         "INSERT INTO login_throttle(address, failures, window_start) VALUES (?1, 1, ?2) "
         "ON CONFLICT (address) DO UPDATE SET "
         "failures = CASE WHEN window_start <= ?3 THEN 1 ELSE failures + 1 END, "
         "window_start = CASE WHEN window_start <= ?3 THEN ?2 ELSE window_start END")
      .bind_all(address, format_instant(now), format_instant(now - rules_.address_window))
      .run();
}

// Rows of sessions that can no longer be used: nothing reads them again, so they go.
void Accounts::purge_sessions(Instant now) {
  db_.prepare(
         "DELETE FROM sessions WHERE expires_at <= ?1 OR revoked_at IS NOT NULL OR "
         "last_seen_at <= ?2")
      .bind_all(format_instant(now), format_instant(now - rules_.idle_timeout))
      .run();
}

// One statement, counting from the stored value rather than from one read earlier, so that
// failures recorded one after another all count: the fifth locks, whatever came between.
void Accounts::count_failure(Id user, Instant now) {
  db_.prepare(
         "UPDATE user_credentials SET "
         "failed_logins = CASE WHEN failed_logins + 1 >= ?1 THEN 0 ELSE failed_logins + 1 END, "
         "locked_until = CASE WHEN failed_logins + 1 >= ?1 THEN ?2 ELSE locked_until END "
         "WHERE user_id = ?3")
      .bind_all(static_cast<std::int64_t>(rules_.failures_before_lock),
                format_instant(now + rules_.lock_for), user)
      .run();
}

std::optional<Authenticated> Accounts::authenticate(const std::string& token) {
  auto st = db_.prepare(
      "SELECT s.id, s.expires_at, s.last_seen_at, u.id, u.name, u.role, u.team FROM sessions s "
      "JOIN users u ON u.id = s.user_id "
      "WHERE s.token_hash = ?1 AND s.revoked_at IS NULL AND u.disabled_at IS NULL");
  st.bind(1, token_hash(token));
  if (!st.step()) return std::nullopt;
  const Instant now = clock_.now();
  const std::string expires_at = st.text(1);
  const Instant last_seen = parse_instant(st.text(2));
  if (parse_instant(expires_at) <= now || last_seen + rules_.idle_timeout <= now) {
    return std::nullopt;
  }
  const Id session = st.integer(0);
  // Noted at most once a minute, so that a busy client does not write on every read.
  if (now - last_seen >= std::chrono::minutes(1)) {
    db_.prepare("UPDATE sessions SET last_seen_at = ?1 WHERE id = ?2")
        .bind_all(format_instant(now), session)
        .run();
  }
  // The user from the same row, not a second query: this runs on every request. Disabled
  // users were left out above.
  User user{st.integer(3), st.text(4), st.text(5), st.optional_text(6), std::nullopt};
  return Authenticated{std::move(user), session, expires_at};
}

bool Accounts::csrf_matches(Id session, const std::string& csrf) {
  auto st = db_.prepare(
      "SELECT csrf_hash FROM sessions WHERE id = ?1 AND revoked_at IS NULL AND expires_at > ?2 "
      "AND last_seen_at > ?3");
  st.bind_all(session, format_instant(clock_.now()),
              format_instant(clock_.now() - rules_.idle_timeout));
  if (!st.step()) return false;
  const std::string expected = st.text(0);
  const std::string given = token_hash(csrf);
  return expected.size() == given.size() &&
         sodium_memcmp(expected.data(), given.data(), given.size()) == 0;
}

void Accounts::logout(const std::string& token) {
  db_.prepare("UPDATE sessions SET revoked_at = ?1 WHERE token_hash = ?2 AND revoked_at IS NULL")
      .bind_all(format_instant(clock_.now()), token_hash(token))
      .run();
}

void Accounts::disable(const std::string& name) {
  const User u = users_.get(name);
  if (u.disabled_at) throw Error(ErrorCode::conflict, "user '" + name + "' is already disabled");
  db_.prepare("UPDATE users SET disabled_at = ?1 WHERE id = ?2")
      .bind_all(format_instant(clock_.now()), u.id)
      .run();
  end_sessions(u.id);
}

void Accounts::end_sessions(Id user) {
  db_.prepare("UPDATE sessions SET revoked_at = ?1 WHERE user_id = ?2 AND revoked_at IS NULL")
      .bind_all(format_instant(clock_.now()), user)
      .run();
}

std::string Accounts::new_metrics_token() {
  const std::string token = random_token();
  revoke_metrics_token();  // the last one's hash gone, and its row marked revoked
  db_.prepare("INSERT INTO settings(key, value) VALUES ('metrics_token_hash', ?1)")
      .bind(1, token_hash(token))
      .run();
  db_.prepare("INSERT INTO metrics_tokens(issued_at) VALUES (?1)")
      .bind(1, format_instant(clock_.now()))
      .run();
  return token;
}

void Accounts::revoke_metrics_token() {
  db_.exec("DELETE FROM settings WHERE key = 'metrics_token_hash'");
  db_.prepare("UPDATE metrics_tokens SET revoked_at = ?1 WHERE revoked_at IS NULL")
      .bind(1, format_instant(clock_.now()))
      .run();
}

bool Accounts::metrics_token_matches(const std::string& token) {
  auto st = db_.prepare("SELECT value FROM settings WHERE key = 'metrics_token_hash'");
  if (!st.step()) return false;
  const std::string want = st.text(0);
  const std::string given = token_hash(token);
  return want.size() == given.size() && sodium_memcmp(want.data(), given.data(), want.size()) == 0;
}

}  // namespace casekit
