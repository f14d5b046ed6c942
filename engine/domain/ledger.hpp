// The BaNCS side: an account per paying parent, dues owed to the receiving parent or the
// Secretary of State, charges, payments, write-offs and versioned payment schedules.
// Every amount is integer pence.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "engine/core/money.hpp"
#include "engine/domain/casegroups.hpp"

namespace casekit {

struct User;

inline constexpr const char* kOwedTo[] = {"RP", "SOS_GB", "SOS_NI"};
inline constexpr const char* kDueStates[] = {"active", "suspended", "deferred", "written_off"};
// Arrears, or the ongoing maintenance of an open case as it falls due each period.
inline constexpr const char* kDueKinds[] = {"arrears", "maintenance"};
inline constexpr const char* kMethodsOfPayment[] = {"DD", "SO", "DEO", "DFB"};
inline constexpr const char* kMopStatuses[] = {"active", "suspended"};
inline constexpr const char* kAccountStatuses[] = {"active", "inactive"};
inline constexpr const char* kSecondMethodsOfPayment[] = {"DD", "SO"};
inline constexpr const char* kChargeKinds[] = {"collection", "enforcement"};
inline constexpr const char* kFrequencies[] = {"weekly", "fortnightly", "four_weekly", "monthly"};

struct Account {
  Id id = 0;
  Id client_id = 0;
  std::string bancs_number;
  std::optional<std::string> mop;
  std::optional<std::string> mop_status;
  // inactive: the paying parent had no active cases; CFAT reactivates it (source 000).
  std::string status = "active";
  // A direct debit or standing order beside a DEO: two methods of payment (000 steps 20-23).
  std::optional<std::string> second_mop;
};

struct NewDue {
  Id casegroup_id = 0;
  std::optional<Id> case_id;  // required when owed to the receiving parent
  std::string owed_to;
  std::string state = "active";
  Pence amount = 0;
  std::optional<std::string> origin;
  std::optional<std::string> due_on;  // the date it fell due; today when not given
  std::string kind = "arrears";
};

struct Due {
  Id id = 0;
  Id account_id = 0;
  Id casegroup_id = 0;
  std::optional<Id> case_id;
  std::string owed_to;
  std::string state;
  Pence amount = 0;  // what fell due
  Pence paid = 0;    // what payments allocated to it
  std::optional<std::string> origin;
  std::string due_on;
  std::string kind;  // arrears | maintenance
  Pence outstanding() const { return amount - paid; }
};

// The ongoing maintenance of an open case: `amount` falls due every period from
// `first_due_on` (until `ends_on`, if set). Each date's due is raised once, when a payment
// dated then or later is recorded or when raise_maintenance reaches it.
struct MaintenanceLiability {
  Id case_id = 0;
  Pence amount = 0;
  std::string frequency;
  std::string first_due_on;
  std::optional<std::string> ends_on;
  std::optional<std::string> raised_through;  // the last date a due was raised for
};

struct Charge {
  Id id = 0;
  std::string kind;   // collection or enforcement
  std::string state;  // active or written_off
  Pence amount = 0;
  Pence paid = 0;
  std::string due_on;
  Pence outstanding() const { return amount - paid; }
};

// One line of a casegroup's money: dues owed to one party, or one kind of charge.
struct MoneyCategory {
  std::string category;  // RP, SOS_GB, SOS_NI, collection charges, enforcement charges
  Pence owed = 0;        // everything that fell due
  Pence paid = 0;        // what payments allocated to it
  Pence written_off = 0;
  Pence outstanding = 0;  // owed - paid - written off: active, suspended or deferred
};

struct Payment {
  Id id = 0;
  Id account_id = 0;
  Pence amount = 0;
  std::string received_on;
  std::optional<std::string> method;
  std::optional<std::string> reference;
  Pence allocated = 0;  // what it has paid of dues and charges; the rest is credit
  std::optional<std::string> returned_on;
  std::optional<std::string> return_reason;
  std::optional<Id> case_id;  // a direct payment: the case whose receiving parent it paid
};

struct WriteOff {
  Id id = 0;
  std::string journal_number;
  std::string written_off_on;
  Pence arrears = 0;
  Pence charges = 0;
};

struct NewSchedule {
  Id casegroup_id = 0;
  Pence lump_sum = 0;
  Pence amount_per_period = 0;
  std::string frequency = "monthly";
  std::int64_t periods = 0;
  std::string first_collection_date;
  std::optional<bool> acceptable;
};

struct Schedule {
  Id id = 0;
  Id casegroup_id = 0;
  std::int64_t version = 0;
  Pence lump_sum = 0;
  Pence amount_per_period = 0;
  std::string frequency;
  std::int64_t periods = 0;
  std::string first_collection_date;
  std::string issued_on;  // the date this version was issued (the promise to pay was made)
  // The last payment recorded before this version was issued: what it and those before it
  // paid is already out of the balance the schedule spreads. Unset for versions issued
  // before schema 17.
  std::optional<Id> payments_before;
  bool in_place = true;
  std::optional<bool> acceptable;
};

class Ledger {
 public:
  Ledger(Database& db, const Clock& clock, Casegroups& casegroups)
      : db_(db), clock_(clock), casegroups_(casegroups) {}

  // Opens the paying parent's account; the BaNCS number is generated when not given.
  Id open_account(Id client_id, const std::optional<std::string>& bancs_number,
                  const std::optional<std::string>& mop);
  Account account(Id id);
  std::optional<Account> account_of_client(Id client_id);
  // The account of the casegroup's paying parent; not_found if none is open.
  Account account_of_casegroup(Id casegroup_id);
  // active or inactive. An inactive account can have no schedule issued (issue_schedule).
  void set_account_status(Id account_id, std::string_view status);
  // A DD or SO beside the account's DEO, or none. Refused when the account's method is not
  // DEO: two methods of payment are a DEO and one other.
  void set_second_method(Id account_id, const std::optional<std::string>& mop);
  void set_method_of_payment(Id account_id, const std::optional<std::string>& mop,
                             const std::optional<std::string>& status);

  // Adds a due and allocates any credit on the account to it (engine/domain/allocation.hpp).
  Id add_due(const NewDue& due);
  std::vector<Due> dues(Id casegroup_id);
  // What is outstanding on the casegroup's dues (what fell due less what payments paid of
  // it), optionally narrowed to one owed_to and/or one state.
  Pence balance(Id casegroup_id, const std::optional<std::string>& owed_to,
                const std::optional<std::string>& state);
  void set_due_state(Id due_id, std::string_view state);

  // Sets (or replaces) the case's ongoing maintenance liability; dates already raised are
  // not raised again. Only a case of a casegroup that is not arrears-only has one.
  void set_maintenance(const MaintenanceLiability& liability);
  std::optional<MaintenanceLiability> maintenance(Id case_id);
  // Raises the maintenance due of every date on or before `up_to` not yet raised, for the
  // account's cases (or every account's), allocating credit to them. Returns how many.
  int raise_maintenance(std::optional<Id> account_id, std::string_view up_to);

  Id add_charge(Id casegroup_id, std::string_view kind, Pence amount);
  // What is outstanding on the casegroup's active charges.
  Pence charges_outstanding(Id casegroup_id);
  // Owed, paid, written off and outstanding per category, in allocation order; categories
  // with nothing in them are left out.
  std::vector<MoneyCategory> money_summary(Id casegroup_id);

  // Writes off `arrears` of the casegroup's active dues (oldest first; the last one taken is
  // split when only part of it goes) and `charges` of its active charges, under a journal
  // number. Refused, changing nothing, if the casegroup has less than that to write off.
  Id write_off(Id casegroup_id, const std::string& journal, const std::string& date, Pence arrears,
               Pence charges);
  // Writes off everything still owed in arrears to the receiving parent of `case_id`
  // (active, suspended and deferred; not maintenance), under a journal number: the receiving
  // parent confirmed they want it written off (source 002). Returns the write-off, or
  // nullopt when nothing was owed to them.
  std::optional<Id> write_off_case(Id case_id, const std::string& journal, const std::string& date);
  // The casegroup's write-offs, oldest first.
  std::vector<WriteOff> write_offs(Id casegroup_id);
  std::vector<Charge> charges(Id casegroup_id);

  // Records a payment received and allocates it to the account's dues and charges.
  Id record_payment(Id account_id, Pence amount, std::string_view received_on,
                    const std::optional<std::string>& method,
                    const std::optional<std::string>& reference);
  // Records a direct payment: the paying parent paid the receiving parent of `case_id`
  // directly, outside the service, and the receiving parent confirmed it or the paying
  // parent evidenced it. It pays only that case's active dues to the receiving parent,
  // oldest first (method "direct", the payment's case_id set), and is refused, changing
  // nothing, when it is more than they have outstanding.
  Id record_direct_payment(Id case_id, Pence amount, std::string_view paid_on,
                           const std::optional<std::string>& reference);
  // Marks a payment returned to the payer (a recalled Direct Debit, a bounced cheque): its
  // allocations are taken back, so what it paid is owed again. Refused, changing nothing,
  // for an unknown payment, one already returned, or a date before it was received.
  Payment return_payment(Id payment_id, std::string_view returned_on, const std::string& reason);
  Payment payment(Id payment_id);
  // Payments on the account, optionally received since a date, and optionally only those
  // recorded after payment `after` (ids follow the order payments were recorded in).
  std::vector<Payment> payments(Id account_id, const std::optional<std::string>& since,
                                std::optional<Id> after = std::nullopt);
  // Total received on the account (payments returned do not count), narrowed as above.
  // towards_arrears: less what those payments paid of maintenance dues, which a collection
  // pays first (a payment schedule collects arrears only).
  Pence paid(Id account_id, const std::optional<std::string>& since,
             std::optional<Id> after = std::nullopt, bool towards_arrears = false);
  // Received and not allocated: money held on the account until something active is owed,
  // or until a person allocates it (an account held for manual allocation).
  Pence credit(Id account_id);
  // Allocates `amount` of a payment to one due or charge by hand, as `by` directs (source
  // 001 step 74: payments on a casegroup with the manual allocation flag "can be assigned
  // manually"). Caseworkers, team leaders and senior managers may; anyone else is refused.
  // See allocation.hpp for what is refused; nothing changes when it is.
  void allocate_by_hand(Id payment_id, std::optional<Id> due_id, std::optional<Id> charge_id,
                        Pence amount, const User& by);

  // After an upgrade from a database whose payments were never allocated (schema 8).
  void allocate_recorded_payments();

  // Issues the next version of the casegroup's schedule; earlier versions stop being in place.
  Schedule issue_schedule(const NewSchedule& s);
  std::optional<Schedule> current_schedule(Id casegroup_id);
  std::vector<Schedule> schedules(Id casegroup_id);

 private:
  std::string now() const { return format_instant(clock_.now()); }
  void require_casegroup(Id casegroup_id);
  Schedule schedule_by_version(Id casegroup_id, std::int64_t version);

  Database& db_;
  const Clock& clock_;
  Casegroups& casegroups_;
};

// Moves `amount` pence of what is outstanding on a casegroup's dues or charges (the rows
// whose `match_column` equals `match`) from state `from` to state `to`, oldest first,
// splitting a row when only part of it moves (what was paid of it always stays); stamps the
// moved rows with `write_off` when given.
// `rp_arrears`: only dues of kind arrears owed to the receiving parent, leaving maintenance
// and the Secretary of State's dues where they are.
// Returns the part of `amount` there was nothing to move for.
enum class LiabilityTable { dues, charges };
Pence move_liabilities(Database& db, const std::string& now, LiabilityTable table,
                       const char* match_column, Id match, const char* from, const char* to,
                       Pence amount, std::optional<Id> write_off, bool rp_arrears = false);

nlohmann::json to_json(const Account& a);
nlohmann::json to_json(const Due& d);
nlohmann::json to_json(const Charge& c);
nlohmann::json to_json(const MoneyCategory& m);
nlohmann::json to_json(const Payment& p);
nlohmann::json to_json(const Schedule& s);

}  // namespace casekit
