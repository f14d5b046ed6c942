#include "engine/domain/saved_views.hpp"

#include <nlohmann/json.hpp>

#include "engine/core/error.hpp"

namespace casekit {
namespace {

void check_name(const std::string& name) {
  if (name.empty() || name.size() > SavedViews::kMaxName) {
    throw Error(ErrorCode::bad_argument,
                "a view's name is 1 to " + std::to_string(SavedViews::kMaxName) + " characters");
  }
  for (const unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      throw Error(ErrorCode::bad_argument, "a view's name may not hold control characters");
    }
  }
}

}  // namespace

std::vector<SavedView> SavedViews::list(const User& user) {
  auto st = db_.prepare(
      "SELECT name, filter, updated_at FROM saved_views WHERE user_id = ?1 ORDER BY name");
  st.bind(1, user.id);
  std::vector<SavedView> out;
  while (st.step()) {
    out.push_back({st.text(0),
                   nlohmann::json::parse(st.text(1)).get<std::map<std::string, std::string>>(),
                   st.text(2)});
  }
  return out;
}

SavedView SavedViews::put(const User& user, const std::string& name,
                          const std::map<std::string, std::string>& filter) {
  check_name(name);
  for (const char* paging : {"limit", "cursor"}) {
    if (filter.contains(paging)) {
      throw Error(ErrorCode::bad_argument,
                  std::string("a view keeps a filter and a sort, not ") + paging);
    }
  }
  work_items_.check(work_item_query(filter, user));
  auto count = db_.prepare("SELECT count(*) FROM saved_views WHERE user_id = ?1 AND name != ?2");
  count.bind_all(user.id, name);
  count.step();
  if (static_cast<std::size_t>(count.integer(0)) >= kMaxPerUser) {
    throw Error(ErrorCode::bad_argument,
                "at most " + std::to_string(kMaxPerUser) + " views each; delete one first");
  }
  SavedView v{name, {}, format_instant(clock_.now())};
  for (const auto& [k, value] : filter) {
    if (!value.empty()) v.filter[k] = value;  // an empty value filters nothing
  }
  db_.prepare(
         "INSERT INTO saved_views(user_id, name, filter, updated_at) VALUES (?1, ?2, ?3, ?4) "
         "ON CONFLICT (user_id, name) DO UPDATE SET filter = excluded.filter, "
         "updated_at = excluded.updated_at")
      .bind_all(user.id, name, nlohmann::json(v.filter).dump(), v.updated_at)
      .run();
  return v;
}

void SavedViews::remove(const User& user, const std::string& name) {
  db_.prepare("DELETE FROM saved_views WHERE user_id = ?1 AND name = ?2")
      .bind_all(user.id, name)
      .run();
  if (db_.changes() != 1) throw Error(ErrorCode::not_found, "no view '" + name + "'");
}

}  // namespace casekit
