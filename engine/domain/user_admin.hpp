// Administering users over the HTTP API: adding them, changing a role or team, disabling,
// resetting a password. Admins only. No admin does any of these to their own account: another
// admin must, so that nobody gives themselves a role, and the audit shows both (the admin as
// the change's actor, the account as what changed). The CLI's `casekit user` stays for
// installing and for the engine's machine (docs/operations.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/domain/accounts.hpp"

namespace casekit {

struct NewUser {
  std::string name;
  std::string role;
  std::optional<std::string> team;
  std::optional<std::string> password_hash;  // Accounts::hash_password; none: no login yet
};

class UserAdmin {
 public:
  UserAdmin(Users& users, Accounts& accounts) : users_(users), accounts_(accounts) {}

  // Forbidden unless `by` is, as the store now says, an active admin; and when `target` is
  // named, forbidden if it is `by`'s own account, not_found if there is no such user. Every
  // call below asks this first; a caller about to do costly work (hash a password) asks it
  // before that work too.
  void check(const User& by, const std::optional<std::string>& target = std::nullopt);

  std::vector<User> list(const User& by);
  User add(const User& by, const NewUser& user);
  User change(const User& by, const std::string& name, const UserChange& change);
  // Ends their sessions; their history stays.
  User disable(const User& by, const std::string& name);
  // Ends their sessions; the failed-login count and any lock are cleared.
  void set_password_hash(const User& by, const std::string& name, const std::string& hash);

 private:
  Users& users_;
  Accounts& accounts_;
};

}  // namespace casekit
