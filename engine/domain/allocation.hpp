// Payment allocation: how the money received on a paying parent's account pays its dues and
// charges. Every allocation is a row (payment, due or charge, pence), so that what a due has
// been paid, and so what is outstanding on it, is always the sum of its allocations.
//
// The order, which docs/money.md explains and sources:
//   1. ongoing maintenance as it falls due (dues of kind maintenance), then arrears owed to
//      the receiving parent, then arrears owed to the Secretary of State, then collection and
//      enforcement charges (maintenance before arrears, and both before fees);
//   2. within each of those, the oldest first: by the date the money fell due, then by id;
//   3. only what is active: suspended, deferred and written-off dues take nothing.
// Money with nothing active to pay stays on the account as credit and is allocated, oldest
// payment first, as soon as something active is owed (a new due, arrears made active again).
// An account held for manual allocation (its paying parent's casegroup carries the manual
// allocation flag, source 001 step 74) allocates nothing by itself: what it receives stays
// credit until a person allocates it (allocate_by_hand) or the flag is removed.
// A direct payment, made to one receiving parent outside the service, is the exception: it
// pays that receiving parent's dues on its case and nothing else, maintenance first
// (allocate_direct).
#pragma once

#include <string>

#include "engine/core/money.hpp"
#include "engine/domain/casegroups.hpp"
#include "engine/store/database.hpp"

namespace casekit {

// Allocates the account's credit to what it owes, in the order above, unless the account is
// held for manual allocation. Running it again with nothing changed allocates nothing.
// Returns the pence it allocated.
Pence allocate_credit(Database& db, const std::string& now, Id account_id);

// Whether the account's payments wait to be allocated by hand.
bool held_for_manual_allocation(Database& db, Id account_id);

// Allocates `amount` of one payment to one due or charge (exactly one of the two), as a
// person directs. Refused, allocating nothing, unless the payment is on the account that
// owes the due or charge, is not returned, is not a direct payment and has that much
// unallocated, and the due or charge is active with that much outstanding.
void allocate_by_hand(Database& db, const std::string& now, Id payment_id, std::optional<Id> due_id,
                      std::optional<Id> charge_id, Pence amount);

// Allocates the credit of every account that has any: after an upgrade from a database that
// recorded payments before allocation existed.
void allocate_all_credit(Database& db, const std::string& now);

// Takes back every allocation of a payment that was returned (a recalled Direct Debit, a
// bounced cheque), so its dues are owed again, then reallocates the account's other credit.
void deallocate_payment(Database& db, const std::string& now, Id payment_id);

// Money received on the account (and not returned) that no due or charge has taken yet.
Pence credit_of(Database& db, Id account_id);

// Allocates a direct payment (the paying parent paid one receiving parent, outside the
// service): it pays only what is owed to that receiving parent on that case, its active RP
// dues, oldest first, and is never general credit. Refused, allocating nothing, when it is
// more than those dues have outstanding; the caller rolls back the payment it recorded.
void allocate_direct(Database& db, const std::string& now, Id payment_id, Id case_id, Pence amount);

// SQL for "what has been allocated to the row `table`.id", for SELECT lists.
inline constexpr const char* kDuePaidSql =
    "(SELECT coalesce(sum(a.amount), 0) FROM allocations a WHERE a.due_id = dues.id AND "
    "a.deallocated_on IS NULL)";
inline constexpr const char* kChargePaidSql =
    "(SELECT coalesce(sum(a.amount), 0) FROM allocations a WHERE a.charge_id = charges.id AND "
    "a.deallocated_on IS NULL)";
inline constexpr const char* kPaymentAllocatedSql =
    "(SELECT coalesce(sum(a.amount), 0) FROM allocations a WHERE a.payment_id = payments.id AND "
    "a.deallocated_on IS NULL)";

}  // namespace casekit
