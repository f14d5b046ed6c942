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

Pence allocate_credit(Database& db, const std::string& now, Id account_id) {
  auto money = credits(db, account_id);
  if (money.empty()) return 0;
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

Pence credit_of(Database& db, Id account_id) {
  Pence total = 0;
  for (const Credit& c : credits(db, account_id)) total = money::add(total, c.amount);
  return total;
}

}  // namespace casekit
