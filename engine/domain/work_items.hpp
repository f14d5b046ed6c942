// Users with roles, and work items: the human steps of a procedure. A work item sits in an
// inbox until a user whose role fits the inbox completes it with one of its outcomes and the
// fields that outcome requires. Approvals refuse their own submitter.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/core/time.hpp"
#include "engine/domain/casegroups.hpp"
#include "engine/domain/catalogue.hpp"
#include "engine/store/database.hpp"

namespace casekit {

struct User {
  Id id = 0;
  std::string name;
  std::string role;
  std::optional<std::string> team;
  std::optional<std::string> disabled_at;  // a disabled user can neither log in nor act
};

class Users {
 public:
  explicit Users(Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  User add(const std::string& name, const std::string& role,
           const std::optional<std::string>& team = std::nullopt);
  // The user who may act now: an unknown or disabled user is an error.
  User require(const std::string& name);
  // The user, disabled or not.
  User get(const std::string& name);
  std::vector<User> list();

 private:
  Database& db_;
  const Clock& clock_;
};

struct WorkItemSpec {
  std::string inbox;
  std::string kind;  // "approval" enforces segregation of duties
  std::string title;
  std::vector<std::string> outcomes;
  std::vector<std::string> fields;  // names a person may fill in
  // Required fields: under "*" for every outcome, else under the outcome's name.
  std::map<std::string, std::vector<std::string>> required;
  std::optional<Id> sr_id;
  std::optional<std::string> due_date;
  std::optional<std::string> submitted_by;
  // Besides the submitter, who may not complete an approval: whoever entered or amended
  // what it approves.
  std::vector<std::string> not_by;
  std::optional<Id> instance_id;
  // At most one item per key: creating another with the same key returns the first. Lets
  // a scheduled job run twice without giving anyone the same work twice.
  std::optional<std::string> key;
};

struct WorkItem {
  Id id = 0;
  WorkItemSpec spec;
  std::string status;  // open | completed | cancelled
  std::optional<std::string> outcome;
  nlohmann::json field_values;  // object, once completed
  std::optional<std::string> completed_by;
  std::optional<std::string> completed_at;
  std::string created_at;
};

class WorkItems {
 public:
  WorkItems(Database& db, const Clock& clock, const InboxCatalogue& inboxes, Users& users)
      : db_(db), clock_(clock), inboxes_(inboxes), users_(users) {}

  Id create(const WorkItemSpec& spec);
  WorkItem get(Id id);
  std::vector<WorkItem> list(const std::optional<std::string>& inbox, bool include_closed);
  // Checks everything and marks the item completed; throws with the reason and changes
  // nothing when the user, outcome or fields do not fit.
  WorkItem complete(Id id, const std::string& outcome,
                    const std::map<std::string, std::string>& fields, const std::string& user);
  void cancel_for_instance(Id instance_id);
  // Who completed this instance's most recent work item: the default submitter of an
  // approval it asks for next.
  std::optional<std::string> last_completed_by(Id instance_id);

 private:
  Database& db_;
  const Clock& clock_;
  const InboxCatalogue& inboxes_;
  Users& users_;
};

nlohmann::json to_json(const WorkItem& w);

}  // namespace casekit
