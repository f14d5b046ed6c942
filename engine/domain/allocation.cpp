#include "engine/domain/allocation.hpp"

#include <algorithm>
#include <vector>

#include "engine/core/error.hpp"

namespace casekit {
namespace {

struct Credit {
  Id payment_id = 0;
  Pence amount = 0;
};

struct Owed {
  bool is_charge = false;
  Id id = 0;
  Pence amount = 0;
};

std::vector<Credit> credits(Database& db, Id account_id) {
  auto st = db.prepare(std::string("SELECT id, amount - ") + kPaymentAllocatedSql +
                       " FROM payments WHERE account_id = ?1 AND returned_on IS NULL "
                       "AND case_id IS NULL ORDER BY received_on, id");
  st.bind(1, account_id);
  std::vector<Credit> out;
  while (st.step()) {
    if (st.integer(1) > 0) out.push_back({st.integer(0), st.integer(1)});
  }
  return out;
}

// What the account owes, in allocation order (see allocation.hpp).
std::vector<Owed> owed(Database& db, Id account_id) {
  auto st = db.prepare(std::string("SELECT 0, id, amount - ") + kDuePaidSql +
                       ", CASE WHEN kind = 'maintenance' THEN 0 WHEN owed_to = 'RP' THEN 1 ELSE 2 "
                       "END AS tier, due_on "
                       "FROM dues WHERE account_id = ?1 AND state = 'active' "
                       "UNION ALL SELECT 1, id, amount - " +
                       kChargePaidSql +
                       ", 3, due_on FROM charges WHERE account_id = ?1 AND state = 'active' "
                       "ORDER BY tier, due_on, 2");
  st.bind(1, account_id);
  std::vector<Owed> out;
  while (st.step()) {
    if (st.integer(2) > 0) out.push_back({st.integer(0) != 0, st.integer(1), st.integer(2)});
  }
  return out;
}

}  // namespace

bool held_for_manual_allocation(Database& db, Id account_id) {
  auto st = db.prepare(
      "SELECT 1 FROM ledger_accounts a JOIN casegroups g ON g.paying_parent_id = a.client_id "
      "JOIN casegroup_flags f ON f.casegroup_id = g.id AND f.flag = 'manual_allocation' "
      "WHERE a.id = ?1 LIMIT 1");
  st.bind(1, account_id);
  return st.step();
}

Pence allocate_credit(Database& db, const std::string& now, Id account_id) {
  auto money = credits(db, account_id);
  // Asked only when there is credit: most calls (a due added, nothing received) have none.
  if (money.empty() || held_for_manual_allocation(db, account_id)) return 0;
  Pence allocated = 0;
  auto credit = money.begin();
  for (Owed& o : owed(db, account_id)) {
    while (o.amount > 0 && credit != money.end()) {
      const Pence take = std::min(o.amount, credit->amount);
      const std::optional<Id> due = o.is_charge ? std::nullopt : std::optional(o.id);
      const std::optional<Id> charge = o.is_charge ? std::optional(o.id) : std::nullopt;
      db.prepare(
            "INSERT INTO allocations(payment_id, due_id, charge_id, amount, allocated_on) "
            "VALUES (?1, ?2, ?3, ?4, ?5)")
          .bind_all(credit->payment_id, due, charge, take, now)
          .run();
      o.amount -= take;
      credit->amount -= take;
      allocated += take;
      if (credit->amount == 0) ++credit;
    }
    if (credit == money.end()) break;
  }
  return allocated;
}

void allocate_all_credit(Database& db, const std::string& now) {
  std::vector<Id> accounts;
  {
    auto st = db.prepare("SELECT DISTINCT account_id FROM payments ORDER BY account_id");
    while (st.step()) accounts.push_back(st.integer(0));
  }
  for (Id account : accounts) allocate_credit(db, now, account);
}

void deallocate_payment(Database& db, const std::string& now, Id payment_id) {
  auto st = db.prepare("SELECT account_id FROM payments WHERE id = ?1");
  st.bind(1, payment_id);
  if (!st.step()) {
    throw Error(ErrorCode::not_found, "no payment with id " + std::to_string(payment_id));
  }
  const Id account = st.integer(0);
  db.prepare(
        "UPDATE allocations SET deallocated_on = ?2 WHERE payment_id = ?1 AND "
        "deallocated_on IS NULL")
      .bind_all(payment_id, now)
      .run();
  allocate_credit(db, now, account);
}

namespace {

// The case's active dues to its receiving parent that have something outstanding, its
// maintenance first, then the oldest first: (due id, outstanding).
std::vector<std::pair<Id, Pence>> rp_dues_of_case(Database& db, Id case_id) {
  auto st = db.prepare(std::string("SELECT id, amount - ") + kDuePaidSql +
                       " FROM dues WHERE case_id = ?1 AND owed_to = 'RP' AND state = 'active' "
                       "ORDER BY kind = 'maintenance' DESC, due_on, id");
  st.bind(1, case_id);
  std::vector<std::pair<Id, Pence>> out;
  while (st.step()) {
    if (st.integer(1) > 0) out.emplace_back(st.integer(0), st.integer(1));
  }
  return out;
}

}  // namespace

void allocate_direct(Database& db, const std::string& now, Id payment_id, Id case_id,
                     Pence amount) {
  const auto dues = rp_dues_of_case(db, case_id);
  Pence owed = 0;
  for (const auto& [due, outstanding] : dues) owed = money::add(owed, outstanding);
  if (amount > owed) {
    throw Error(ErrorCode::invalid, "a direct payment of " + money::format(amount) +
                                        " is more than the " + money::format(owed) +
                                        " owed to the receiving parent of case " +
                                        std::to_string(case_id));
  }
  for (const auto& [due, outstanding] : dues) {
    if (amount == 0) break;
    const Pence take = std::min(amount, outstanding);
    db.prepare(
          "INSERT INTO allocations(payment_id, due_id, amount, allocated_on) "
          "VALUES (?1, ?2, ?3, ?4)")
        .bind_all(payment_id, due, take, now)
        .run();
    amount -= take;
  }
}

namespace {

// What is still outstanding on an active due or charge, with the account that owes it.
std::pair<Id, Pence> outstanding_on(Database& db, std::optional<Id> due_id,
                                    std::optional<Id> charge_id) {
  const bool due = due_id.has_value();
  auto st = db.prepare(std::string("SELECT account_id, state, amount - ") +
                       (due ? kDuePaidSql : kChargePaidSql) + " FROM " +
                       (due ? "dues" : "charges") + " WHERE id = ?1");
  const Id id = due ? *due_id : *charge_id;
  const std::string what = (due ? "due " : "charge ") + std::to_string(id);
  st.bind(1, id);
  if (!st.step()) throw Error(ErrorCode::not_found, "no " + what);
  if (st.text(1) != "active") {
    throw Error(ErrorCode::invalid, what + " is " + st.text(1) + ": only what is active is paid");
  }
  return {st.integer(0), st.integer(2)};
}

}  // namespace

void allocate_by_hand(Database& db, const std::string& now, Id payment_id, std::optional<Id> due_id,
                      std::optional<Id> charge_id, Pence amount) {
  if (due_id.has_value() == charge_id.has_value()) {
    throw Error(ErrorCode::bad_argument, "allocate to one due or one charge");
  }
  if (amount <= 0) throw Error(ErrorCode::bad_argument, "the amount must be above 0 pence");
  auto st = db.prepare(std::string("SELECT account_id, returned_on IS NOT NULL, case_id IS NOT "
                                   "NULL, amount - ") +
                       kPaymentAllocatedSql + " FROM payments WHERE id = ?1");
  st.bind(1, payment_id);
  if (!st.step()) {
    throw Error(ErrorCode::not_found, "no payment with id " + std::to_string(payment_id));
  }
  const std::string what = "payment " + std::to_string(payment_id);
  if (st.integer(1) != 0) throw Error(ErrorCode::invalid, what + " was returned");
  if (st.integer(2) != 0) {
    throw Error(ErrorCode::invalid, what + " is a direct payment: it paid its own case");
  }
  const Id account = st.integer(0);
  const Pence unallocated = st.integer(3);
  const auto [owing_account, outstanding] = outstanding_on(db, due_id, charge_id);
  if (owing_account != account) {
    throw Error(ErrorCode::invalid, what + " is on another account than the one that owes it");
  }
  if (amount > unallocated) {
    throw Error(ErrorCode::invalid, what + " has " + money::format(unallocated) +
                                        " unallocated, less than " + money::format(amount));
  }
  if (amount > outstanding) {
    throw Error(ErrorCode::invalid, money::format(amount) + " is more than the " +
                                        money::format(outstanding) + " outstanding on " +
                                        (due_id ? "due " : "charge ") +
                                        std::to_string(due_id ? *due_id : *charge_id));
  }
  db.prepare(
        "INSERT INTO allocations(payment_id, due_id, charge_id, amount, allocated_on) "
        "VALUES (?1, ?2, ?3, ?4, ?5)")
      .bind_all(payment_id, due_id, charge_id, amount, now)
      .run();
}

Pence credit_of(Database& db, Id account_id) {
  Pence total = 0;
  for (const Credit& c : credits(db, account_id)) total = money::add(total, c.amount);
  return total;
}

}  // namespace casekit
