// Saved views: a named inbox filter and sort that a user keeps on the server, so that it
// follows them from browser to browser. A view is its user's alone: every call is for the
// user asking, and no call names another user.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/domain/work_items.hpp"

namespace casekit {

struct SavedView {
  std::string name;
  // The listing's query parameters (work_item_query), without limit or cursor.
  std::map<std::string, std::string> filter;
  std::string updated_at;
};

class SavedViews {
 public:
  static constexpr std::size_t kMaxPerUser = 50;
  static constexpr std::size_t kMaxName = 60;

  SavedViews(Database& db, const Clock& clock, WorkItems& work_items)
      : db_(db), clock_(clock), work_items_(work_items) {}

  // The user's views, by name.
  std::vector<SavedView> list(const User& user);
  // Makes or replaces the user's view `name`. The filter must be one the inbox listing
  // takes (bad_argument, or not_found for an unknown inbox, otherwise).
  SavedView put(const User& user, const std::string& name,
                const std::map<std::string, std::string>& filter);
  // Deletes the user's view `name`; not_found when they have none of that name.
  void remove(const User& user, const std::string& name);

 private:
  Database& db_;
  const Clock& clock_;
  WorkItems& work_items_;
};

}  // namespace casekit
