// The policy catalogues kept in procedures/: the SR types a procedure may raise
// (sr_catalogue.toml) and the letter templates it may send (letters/letters.toml).
// Policy authors edit these files; the engine validates against them.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace casekit {

struct SrType {
  std::string process;
  std::string area;
  std::string sub_area;
  std::string owner_team;
};

class SrCatalogue {
 public:
  static SrCatalogue load(const std::filesystem::path& file);

  // Matches Process / Area / Sub Area case-insensitively (the source procedures are not
  // consistent about capitals) and returns the catalogue's spelling.
  std::optional<SrType> find(std::string_view process, std::string_view area,
                             std::string_view sub_area) const;
  // The same, but throws an error listing what the catalogue does have.
  SrType require(std::string_view process, std::string_view area, std::string_view sub_area) const;
  // Canonical spelling of a status, or nullopt if it is not one.
  std::optional<std::string> status(std::string_view name) const;
  const std::vector<SrType>& types() const { return types_; }
  // The owner teams the types name, sorted: the teams a user may belong to.
  std::vector<std::string> teams() const;
  const std::vector<std::string>& statuses() const { return statuses_; }

 private:
  std::vector<SrType> types_;
  std::vector<std::string> statuses_;
};

struct LetterTemplate {
  std::string code;
  std::string title;
  std::string recipient;  // "paying_parent", "receiving_parent" or "any"
  std::string purpose;
  std::string body;  // mustache source
  // Signed off before it is sent (CMEL9271): scripts send it only through
  // procedures/lib/free_text_letter.lua, and `casekit check` refuses it written as a literal.
  bool sign_off = false;
};

class LetterCatalogue {
 public:
  // Reads letters.toml and the CODE.mustache file beside it for each entry.
  static LetterCatalogue load(const std::filesystem::path& dir);
  const LetterTemplate* find(std::string_view code) const;
  const LetterTemplate& require(std::string_view code) const;
  const std::vector<LetterTemplate>& templates() const { return templates_; }

 private:
  std::vector<LetterTemplate> templates_;
};

// Work item inboxes (procedures/inboxes.toml) and the roles whose users may complete
// their items.
struct Inbox {
  std::string name;
  std::string description;
  std::vector<std::string> roles;
  // The average minutes a person spends on one of its items, if the catalogue gives it:
  // what `casekit whatif` turns counts of work items into staff hours with.
  std::optional<int> minutes_per_item;
};

class InboxCatalogue {
 public:
  static InboxCatalogue load(const std::filesystem::path& file);
  const Inbox* find(std::string_view name) const;
  const Inbox& require(std::string_view name) const;
  const std::vector<Inbox>& inboxes() const { return inboxes_; }

 private:
  std::vector<Inbox> inboxes_;
};

// The roles a user can have. An admin administers accounts and reads who looked at a
// casegroup; they do not work cases (CasegroupReads).
inline constexpr const char* kRoles[] = {"caseworker",    "team_leader",    "operator",
                                         "policy_author", "senior_manager", "admin"};

// The roles that may read casegroups and act on them from outside a procedure (a signal):
// caseworkers, team leaders, senior managers and operators. Casegroups are not owned by a
// team: a caseworker may need any casegroup a client calls about.
bool works_casegroups(std::string_view role);
// Operators read the engine's metrics (or a scraper with the metrics token).
bool reads_metrics(std::string_view role);

bool iequals(std::string_view a, std::string_view b);
// "a, b, c": lists in messages and tables.
std::string joined(const std::vector<std::string>& items);

}  // namespace casekit
