// Reading casegroups as staff do: a search, the whole casegroup, and who looked at it.
//
// Names, NINOs and addresses are personal data. Every search and every read of a casegroup is
// recorded in access_log (who, when, what was looked at or searched for), searches are
// limited per user, and only an admin may see who looked. The HTTP routes and the CLI call
// these; who may do what is decided here, for every caller alike.
//
// Casegroups are not owned by a team: a caseworker may need any casegroup a client calls
// about. So every role that works cases (caseworker, team leader, senior manager) and
// operators may search and read; an admin, who administers accounts, may not. Work items on
// the casegroup are shown only as the reader may see them (WorkItems, teams).
#pragma once

#include <nlohmann/json.hpp>

#include "engine/domain/casegroups.hpp"
#include "engine/domain/ledger.hpp"
#include "engine/domain/letters.hpp"
#include "engine/domain/service_requests.hpp"
#include "engine/domain/work_items.hpp"

namespace casekit {

// Every flag, true or false.
nlohmann::json flags_json(const std::vector<std::string>& set);

// Everything `casegroup show --json` shows: the casegroup, its parents with their addresses,
// cases, money by category, dues, charges, payments and credit, the schedule in place and
// its versions, and its SRs. No access is recorded: the caller decides whether it must be.
nlohmann::json casegroup_json(Casegroups& casegroups, Ledger& ledger, ServiceRequests& srs,
                              const Casegroup& g);

// Everything `sr show --json` shows: the SR, its fields, its activity plan (done and pending
// steps), its notes, its children and the SRs related to it. No access is recorded.
nlohmann::json sr_json(ServiceRequests& srs, const ServiceRequest& r);

struct CasegroupSearchPage {
  std::vector<Casegroup> casegroups;
  std::optional<Id> next_after;  // the cursor for the next page; none on the last
};

class CasegroupReads {
 public:
  static constexpr int kSearchesPerMinute = 30;
  static constexpr int kMaxPage = 100;

  CasegroupReads(Database& db, const Clock& clock, Casegroups& casegroups, Ledger& ledger,
                 ServiceRequests& srs, Letters& letters, WorkItems& work_items)
      : db_(db),
        clock_(clock),
        casegroups_(casegroups),
        ledger_(ledger),
        srs_(srs),
        letters_(letters),
        work_items_(work_items) {}

  // A page of casegroups matching the filter (at least one of csa_ref, nino, name, segment,
  // flag), in id order. Refused past kSearchesPerMinute searches in a minute (too_many).
  CasegroupSearchPage search(CasegroupFilter filter, const User& by);
  // The casegroup as casegroup_json has it, with its letters and the work items on it that
  // `by` may see.
  nlohmann::json view(Id id, const User& by);
  // One SR as sr_json has it, with its parent's id. Recorded as a read of its casegroup.
  nlohmann::json sr(Id id, const User& by);
  // The casegroup's trail of changes, newest first: every audited change to the casegroup,
  // its flags, cases, parents and their addresses, the account and its payments, dues,
  // charges, schedules, write-offs, SRs (with their fields, steps, notes and payment
  // requests), work items, letters and CIS interests. Each entry says who (a user or a
  // procedure instance), when, why (the procedure's script line and call, the HTTP route or
  // the command; null before schema 28), what and the values before and after (for an
  // update, only the columns that changed). `before_id` pages on (the last entry's id). Recorded.
  nlohmann::json audit(Id id, const User& by, int limit, std::optional<Id> before_id);
  // The same trail for whoever holds the database file (`casekit audit`): not checked, not
  // recorded.
  nlohmann::json trail(Id id, int limit, std::optional<Id> before_id);
  // Who searched for or read the casegroup, newest first. Admins only.
  nlohmann::json access_log(Id id, const User& by, int limit);

 private:
  void require_reader(const User& by);
  void record(const User& by, const char* action, std::optional<Id> casegroup,
              const nlohmann::json& query);

  Database& db_;
  const Clock& clock_;
  Casegroups& casegroups_;
  Ledger& ledger_;
  ServiceRequests& srs_;
  Letters& letters_;
  WorkItems& work_items_;
};

}  // namespace casekit
