// Who may log in, and their sessions: passwords stored as Argon2id hashes (libsodium), and
// session tokens that are random, stored only as a hash, expiring and revocable. The HTTP
// front door authenticates with these; the CLI's `--as` stays for administration on the
// engine's machine (docs/operations.md says it is trusted).
//
// Repeated failed logins lock the account for a while: the lock is kept with the password
// hash, so it survives a restart.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "engine/domain/work_items.hpp"

namespace casekit {

// What a successful login hands out. Both tokens are shown once and never stored.
struct Session {
  Id id = 0;
  std::string token;  // the session: a cookie or a bearer header
  std::string csrf;   // sent back with every state change
  std::string expires_at;
};

// A login's answer. A refusal is an answer, not an error, because what it records (one
// more failed attempt, perhaps a lock) must be committed all the same.
struct LoginResult {
  std::optional<Session> session;
  std::string refusal;  // when there is no session: why, as the person is to be told
};

// A login between its two database steps: whose hash is to be checked. The check itself
// (Accounts::password_matches, about 60 ms) needs no database, so the HTTP server runs it
// off its loop, between begin_login and finish_login.
struct LoginAttempt {
  std::string name;
  // The user's Argon2id hash; a stand-in's for an unknown name or a user with no password,
  // so that every refusal costs the same work.
  std::string hash;
  std::string address;  // the client's, for the per-address throttle; empty on the CLI
  // Set when the address is over its throttle: refuse at once, with no password check.
  std::optional<std::string> throttled_until;
};

// What checking a password found: whether it matched, and, when it did but its hash was
// made with weaker parameters than today's, a new hash to store in its place.
struct PasswordCheck {
  bool matches = false;
  std::optional<std::string> rehashed;
};

struct Authenticated {
  User user;
  Id session = 0;
  std::string expires_at;
};

struct AccountRules {
  std::chrono::seconds session_lifetime = std::chrono::hours(8);
  // A session unused this long ends, however much of its lifetime is left.
  std::chrono::seconds idle_timeout = std::chrono::minutes(30);
  // Failed logins from one client address, whatever names they try, before that address
  // is turned away for the rest of the window.
  int failures_per_address = 20;
  std::chrono::seconds address_window = std::chrono::minutes(15);
  int failures_before_lock = 5;
  std::chrono::seconds lock_for = std::chrono::minutes(15);
  std::size_t min_password = 12;
  std::size_t max_password = 1024;
};

class Accounts {
 public:
  Accounts(Database& db, const Clock& clock, Users& users, AccountRules rules = {});

  // Sets (or replaces) the user's password; every session they had ends.
  void set_password(const std::string& name, const std::string& password);
  // The two halves of set_password, for a caller that hashes off its own thread (the HTTP
  // loop): the rules a password must meet (bad_argument otherwise), its Argon2id hash (about
  // 60 ms; no database, so any thread), and storing a hash so made.
  void check_password_rules(const std::string& password) const;
  static std::string hash_password(const std::string& password);
  void set_password_hash(const std::string& name, const std::string& hash);
  // A session for the user if the password is theirs, they are not disabled and not locked
  // out. Every refusal reads "wrong user name or password", so that a guess learns nothing
  // about which names exist, are disabled or are locked. The three steps below, in one.
  LoginResult login(const std::string& name, const std::string& password,
                    const std::string& address = "");
  // Reads the hash a login checks, and the address's throttle; writes nothing.
  LoginAttempt begin_login(const std::string& name, const std::string& address = "");
  // Whether `password` is the one `hash` was made from. No database: any thread may call it.
  static PasswordCheck check_password(const std::string& hash, const std::string& password);
  // Records the outcome (a session, or one more failure, perhaps a lock), deciding on the
  // user's state now, not at begin_login: a lock, a disabling or a new password that came
  // in between wins. Every refusal writes the same rows (the address's count, and the
  // user's if the name is known). Call it inside a transaction.
  LoginResult finish_login(const LoginAttempt& attempt, const PasswordCheck& check);
  // The user a live session token belongs to, or nothing (unknown, expired, idle too long,
  // revoked, or the user disabled since). Each use keeps the session from idling out.
  std::optional<Authenticated> authenticate(const std::string& token);
  bool csrf_matches(Id session, const std::string& csrf);
  void logout(const std::string& token);
  // Disables the user and ends their sessions; their history stays.
  void disable(const std::string& name);

  // The token a metrics scraper sends (Authorization: Bearer) to read /metrics and nothing
  // else. A new one replaces the last; only its hash is kept. Revoking leaves none.
  std::string new_metrics_token();
  void revoke_metrics_token();
  bool metrics_token_matches(const std::string& token);

 private:
  void end_sessions(Id user);
  void count_failure(Id user, Instant now);
  void count_address_failure(const std::string& address, Instant now);
  void purge_sessions(Instant now);
  Database& db_;
  const Clock& clock_;
  Users& users_;
  AccountRules rules_;
};

}  // namespace casekit
