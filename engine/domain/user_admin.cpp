#include "engine/domain/user_admin.hpp"

#include "engine/core/error.hpp"
#include "engine/core/text.hpp"

namespace casekit {

void UserAdmin::check(const User& by, const std::optional<std::string>& target) {
  // Read again: an admin demoted or disabled since their session began is one no longer.
  const User now = users_.get(by.name);
  if (now.role != "admin" || now.disabled_at) {
    throw Error(ErrorCode::forbidden, "only an admin administers users; " + by.name + " is " +
                                          (now.disabled_at ? "disabled" : with_article(now.role)));
  }
  if (!target) return;
  if (*target == by.name) {
    throw Error(ErrorCode::forbidden,
                "an admin cannot change their own account this way; another admin must");
  }
  users_.get(*target);  // not_found
}

std::vector<User> UserAdmin::list(const User& by) {
  check(by);
  return users_.list();
}

User UserAdmin::add(const User& by, const NewUser& user) {
  check(by);
  const User added = users_.add(user.name, user.role, user.team);
  if (user.password_hash) accounts_.set_password_hash(user.name, *user.password_hash);
  return added;
}

User UserAdmin::change(const User& by, const std::string& name, const UserChange& change) {
  check(by, name);
  return users_.update(name, change);
}

User UserAdmin::disable(const User& by, const std::string& name) {
  check(by, name);
  accounts_.disable(name);
  return users_.get(name);
}

void UserAdmin::set_password_hash(const User& by, const std::string& name,
                                  const std::string& hash) {
  check(by, name);
  accounts_.set_password_hash(name, hash);
}

}  // namespace casekit
