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

// Operators run the engine: its procedure instances and incidents, schedules and runs. The
// HTTP routes for these ask this first; anyone else is refused (forbidden).
void require_operator(const User& user, std::string_view what);
// Giving work out (an item, many, a transition exception) and reading what there is to give
// are a team leader's; anyone else is refused (forbidden), told they may not `what`.
void require_team_leader(const User& user, std::string_view what);

// What to change of a user; what is not given stays. `team` given as nullopt takes the user
// out of every team.
struct UserChange {
  std::optional<std::string> role;
  std::optional<std::optional<std::string>> team;
};

class Users {
 public:
  // `teams`: the teams a user may belong to, the SR catalogue's owner teams.
  Users(Database& db, const Clock& clock, std::vector<std::string> teams)
      : db_(db), clock_(clock), teams_(std::move(teams)) {}
  User add(const std::string& name, const std::string& role,
           const std::optional<std::string>& team = std::nullopt);
  // A new role, team or both, checked as add checks them; neither is bad_argument.
  User update(const std::string& name, const UserChange& change);
  // The user who may act now: an unknown or disabled user is an error.
  User require(const std::string& name);
  // The user, disabled or not.
  User get(const std::string& name);
  std::vector<User> list();
  const std::vector<std::string>& teams() const { return teams_; }

 private:
  void check_role_and_team(const std::string& role, const std::optional<std::string>& team) const;
  Database& db_;
  const Clock& clock_;
  std::vector<std::string> teams_;
};

struct WorkItemSpec {
  std::string inbox;
  std::string kind;  // "approval", "check", ...: what the item asks for
  std::string title;
  std::vector<std::string> outcomes;
  std::vector<std::string> fields;  // names a person may fill in
  // Required fields: under "*" for every outcome, else under the outcome's name.
  std::map<std::string, std::vector<std::string>> required;
  std::optional<Id> sr_id;
  // The team whose work it is, for an item with no SR (one with an SR takes the SR's owner
  // team, and this must be empty).
  std::optional<std::string> team;
  std::optional<std::string> due_date;
  // Segregation of duties: neither the submitter nor anyone in not_by (whoever entered or
  // amended what the item approves or signs off) may complete it, whatever its kind.
  std::optional<std::string> submitted_by;
  std::vector<std::string> not_by;
  std::optional<Id> instance_id;
  // At most one item per key: creating another with the same key returns the first. Lets
  // a scheduled job run twice without giving anyone the same work twice.
  std::optional<std::string> key;
  // What the item is about, shown to whoever completes it and checked by whatever it
  // authorises: for a letter sign-off, the template, the text and the recipients
  // (Letters::queue sends a signed-off letter only as signed off). An object, or null.
  nlohmann::json details;
  // Cancelled when its SR closes, and the instance waiting on it answered "cancelled" (a
  // trigger does both, however the SR closes): for steps that only make sense while the SR
  // is open. Needs sr_id.
  bool ends_with_sr = false;
};

struct WorkItem {
  Id id = 0;
  WorkItemSpec spec;
  // Taken from its SR when it is made: the team whose work it is (the SR's owner team in
  // procedures/sr_catalogue.toml) and the casegroup. An item with no team is open to every
  // user its inbox's roles name.
  std::optional<std::string> team;
  std::optional<Id> casegroup;
  std::optional<std::string> assignee;  // who has claimed it, or been given it
  std::string status;                   // open | completed | cancelled
  std::optional<std::string> outcome;
  nlohmann::json field_values;  // object, once completed
  std::optional<std::string> completed_by;
  std::optional<std::string> completed_at;
  std::string created_at;
};

// An inbox listing: what to show, in which order, from where. Only what the asking user may
// see is ever listed (WorkItems::query).
struct WorkItemQuery {
  std::optional<std::string> inbox;
  std::optional<std::string> kind;
  std::optional<std::string> procedure;  // of the item's instance: "arrears_negotiation"
  std::string status = "open";           // open | completed | cancelled
  std::optional<std::string> assignee;   // a name, or "" for unclaimed
  std::optional<Id> casegroup;
  std::optional<Id> sr;
  bool overdue = false;               // open and due before today
  std::string sort = "due";           // due (undated last), or created
  std::optional<std::string> cursor;  // where the previous page ended (next_cursor)
  int limit = 50;                     // 1 to 500
};

// A listing as its parameters are written in a URL's query or a saved view: inbox, kind,
// procedure, status, assignee (a name, "me" or "none"), casegroup, sr, overdue (true or false),
// sort, limit, cursor. Empty values are ignored; an unknown name or a value that is not a number
// where one is needed is bad_argument. WorkItems::check says whether the values make sense.
WorkItemQuery work_item_query(const std::map<std::string, std::string>& params, const User& user);

struct WorkItemPage {
  std::vector<WorkItem> items;
  std::optional<std::string> next_cursor;  // null on the last page
  std::int64_t total = 0;                  // all that match, across pages
};

// One item of a bulk assignment, and what became of it: done (with the item as it now is),
// conflict (its assignee was no longer `if_assignee`, or it is no longer open), refused (the
// leader may not give it to `to`), or not_found (no item the leader may see).
struct Assignment {
  Id id = 0;
  std::string to;
  std::optional<std::string> if_assignee;
};
struct AssignmentResult {
  Id id = 0;
  std::string result;  // done | conflict | refused | not_found
  std::string message;
  std::optional<WorkItem> item;
};

// What a badge shows: an inbox's items in one status, and how many of the open ones are
// overdue.
struct InboxCount {
  std::string inbox;
  std::string status;
  std::int64_t n = 0;
  std::int64_t overdue = 0;
};

// One caseworker's load, as their team leader sees it.
struct Workload {
  std::string user;
  std::int64_t open = 0;     // assigned to them and open
  std::int64_t overdue = 0;  // of those, due before today
  std::int64_t completed_today = 0;
};

class WorkItems {
 public:
  WorkItems(Database& db, const Clock& clock, const InboxCatalogue& inboxes, Users& users)
      : db_(db), clock_(clock), inboxes_(inboxes), users_(users) {}

  Id create(const WorkItemSpec& spec);
  WorkItem get(Id id);
  // Items in id order, after `after`, at most `limit` of them (-1: all).
  std::vector<WorkItem> list(const std::optional<std::string>& inbox, bool include_closed,
                             Id after = 0, std::int64_t limit = -1);
  // Checks everything and marks the item completed; throws with the reason and changes
  // nothing when the user, outcome or fields do not fit: forbidden when the user may not
  // work it (role, team, segregation of duties), conflict when it is no longer open or is
  // someone else's claim.
  WorkItem complete(Id id, const std::string& outcome,
                    const std::map<std::string, std::string>& fields, const std::string& user);

  // Who may see and who may work an item; empty when they may, else why not. Seeing: an
  // operator sees every item; anyone else, the items of inboxes their role may work. Working:
  // a role the inbox names, and membership of the item's team unless it has none (a user in
  // no team works only items with no team). The CLI, HTTP and scripts all ask these.
  std::string refusal_to_see(const WorkItem& item, const User& user) const;
  std::string refusal_to_work(const WorkItem& item, const User& user) const;
  // Why `user` may not complete `item` now (empty when they may): it is not open, their role
  // or team, someone else's claim, or segregation of duties. The checks complete() makes
  // before it looks at the outcome, so a page can say so before anyone tries.
  std::string refusal_to_complete(const WorkItem& item, const User& user) const;
  // The same, as a forbidden error when they may not.
  void require_may_work(const WorkItem& item, const User& user) const;
  // The item, if `user` may see it; not_found otherwise, so that ids do not leak.
  WorkItem get_for(Id id, const User& user);
  // A page of the items `user` may see, with the total that match.
  WorkItemPage query(const WorkItemQuery& q, const User& user);
  // Claiming takes an open, unclaimed item for oneself; releasing gives it back (its
  // claimant, or a team leader of its team). Assigning is a team leader's, within their
  // team, to someone who may work it, and only if the assignee is still `if_assignee`
  // (compare and set: a change made meanwhile is a conflict). Each throws, changing
  // nothing, when it is not allowed.
  WorkItem claim(Id id, const std::string& user);
  WorkItem release(Id id, const std::string& user);
  WorkItem assign(Id id, const std::string& to, const std::optional<std::string>& if_assignee,
                  const std::string& by);
  // Each assignment as `assign` makes it, each on its own: one that fails changes nothing
  // and the others go ahead. Only a team leader may ask (forbidden, for the whole list,
  // otherwise); at most kMaxBulk items at once.
  static constexpr std::size_t kMaxBulk = 500;
  std::vector<AssignmentResult> assign_each(const std::vector<Assignment>& list,
                                            const std::string& by);
  // Per inbox and status, the items `user` may see (their inboxes, their team's items and
  // those with no team), read from the counts the triggers keep; the overdue count through
  // the listing index. Cheap enough to poll.
  std::vector<InboxCount> counts(const User& user);
  // Each caseworker in the team leader's team: open, overdue and completed today. Team
  // leaders only, of their own team.
  std::vector<Workload> workload(const User& leader);
  // The query's values are ones the listing knows (inbox, status, sort, limit); throws
  // bad_argument (not_found for an unknown inbox) otherwise.
  void check(const WorkItemQuery& q) const;

  // The open items of an instance made after `after`: what a completion led to.
  std::vector<WorkItem> opened_since(Id instance_id, Id after);
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
