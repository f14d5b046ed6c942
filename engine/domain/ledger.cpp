#include "engine/domain/ledger.hpp"

#include <nlohmann/json.hpp>

#include "engine/core/error.hpp"
#include "engine/domain/allocation.hpp"
#include "engine/domain/work_items.hpp"
#include "engine/store/row_format.hpp"

namespace casekit {

Pence move_liabilities(Database& db, const std::string& now, LiabilityTable table,
                       const char* match_column, Id match, const char* from, const char* to,
                       Pence amount, std::optional<Id> write_off, bool rp_arrears) {
  const bool dues = table == LiabilityTable::dues;
  const std::string name = dues ? "dues" : "charges";
  const std::string copied =
      dues ? "account_id, casegroup_id, case_id, owed_to, origin, due_on, kind"
           : "account_id, casegroup_id, kind, due_on";
  struct Row {
    Id id;
    Pence amount;
    Pence paid;
  };
  std::vector<Row> rows;
  {
    auto st = db.prepare("SELECT id, amount, " + std::string(dues ? kDuePaidSql : kChargePaidSql) +
                         " FROM " + name + " WHERE " + match_column + " = ?1 AND state = ?2" +
                         (dues && rp_arrears ? " AND kind = 'arrears' AND owed_to = 'RP'" : "") +
                         " ORDER BY due_on, id");
    st.bind_all(match, from);
    while (st.step()) rows.push_back({st.integer(0), st.integer(1), st.integer(2)});
  }
  Pence left = amount;
  for (const Row& row : rows) {
    if (left == 0) break;
    // What has been paid stays where it is: only the outstanding part of a row moves.
    const Pence take = std::min(left, row.amount - row.paid);
    if (take <= 0) continue;
    left -= take;
    if (take == row.amount) {
      db.prepare("UPDATE " + name +
                 " SET state = ?2, write_off_id = coalesce(?3, write_off_id) WHERE id = ?1")
          .bind_all(row.id, to, write_off)
          .run();
      continue;
    }
    // Only part of this row moves: it keeps the rest (and its allocations), and a new row,
    // due on the same date, takes the part.
    db.prepare("UPDATE " + name + " SET amount = amount - ?2 WHERE id = ?1")
        .bind_all(row.id, take)
        .run();
    db.prepare("INSERT INTO " + name + "(" + copied +
               ", state, amount, created_at, write_off_id) SELECT " + copied +
               ", ?2, ?3, ?4, coalesce(?5, write_off_id) FROM " + name + " WHERE id = ?1")
        .bind_all(row.id, to, take, now, write_off)
        .run();
  }
  return left;
}

namespace {

const RowFormat kAccountRow{column<&Account::id>("id"),
                            column<&Account::client_id>("client_id"),
                            column<&Account::bancs_number>("bancs_number"),
                            column<&Account::mop>("mop"),
                            column<&Account::mop_status>("mop_status"),
                            column<&Account::status>("status"),
                            column<&Account::second_mop>("second_mop")};

void require_amount(std::string_view what, Pence amount) {
  if (amount < 0) {
    throw Error(ErrorCode::bad_argument,
                std::string(what) + " must not be negative (got " + std::to_string(amount) + ")");
  }
}

// A payment of either kind (to the service, or direct to a receiving parent).
void require_payment(Pence amount, std::string_view date) {
  if (amount <= 0) {
    throw Error(ErrorCode::bad_argument,
                "payment amount must be positive (got " + std::to_string(amount) + ")");
  }
  parse_date(date);
}

// A write-off of either kind (the casegroup's arrears, or one receiving parent's).
void require_journal(const std::string& journal, const std::string& date) {
  if (journal.empty()) throw Error(ErrorCode::bad_argument, "a write-off needs a journal number");
  if (!is_date(date)) {
    throw Error(ErrorCode::bad_argument, "write-off date: expected YYYY-MM-DD, got '" + date + "'");
  }
}

Id insert_write_off(Database& db, const std::string& now, Id account, Id casegroup,
                    const std::string& journal, const std::string& date, Pence arrears,
                    Pence charges) {
  db.prepare(
        "INSERT INTO write_offs(account_id, casegroup_id, journal_number, written_off_on, "
        "arrears_amount, charges_amount, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
      .bind_all(account, casegroup, journal, date, arrears, charges, now)
      .run();
  return db.last_insert_id();
}

const RowFormat kScheduleRow{column<&Schedule::id>("id"),
                             column<&Schedule::casegroup_id>("casegroup_id"),
                             column<&Schedule::version>("version"),
                             column<&Schedule::lump_sum>("lump_sum"),
                             column<&Schedule::amount_per_period>("amount_per_period"),
                             column<&Schedule::frequency>("frequency"),
                             column<&Schedule::periods>("periods"),
                             column<&Schedule::first_collection_date>("first_collection_date"),
                             column<&Schedule::issued_on>("substr(created_at, 1, 10)"),
                             column<&Schedule::payments_before>("payments_before"),
                             column<&Schedule::in_place>("in_place"),
                             column<&Schedule::acceptable>("acceptable")};

const RowFormat kDueRow{column<&Due::id>("id"),
                        column<&Due::account_id>("account_id"),
                        column<&Due::casegroup_id>("casegroup_id"),
                        column<&Due::case_id>("case_id"),
                        column<&Due::owed_to>("owed_to"),
                        column<&Due::state>("state"),
                        column<&Due::amount>("amount"),
                        column<&Due::paid>(kDuePaidSql),
                        column<&Due::origin>("origin"),
                        column<&Due::due_on>("due_on"),
                        column<&Due::kind>("kind")};

const RowFormat kChargeRow{column<&Charge::id>("id"),
                           column<&Charge::kind>("kind"),
                           column<&Charge::state>("state"),
                           column<&Charge::amount>("amount"),
                           column<&Charge::paid>(kChargePaidSql),
                           column<&Charge::due_on>("due_on")};

const RowFormat kPaymentRow{column<&Payment::id>("id"),
                            column<&Payment::account_id>("account_id"),
                            column<&Payment::amount>("amount"),
                            column<&Payment::received_on>("received_on"),
                            column<&Payment::method>("method"),
                            column<&Payment::reference>("reference"),
                            column<&Payment::allocated>(kPaymentAllocatedSql),
                            column<&Payment::returned_on>("returned_on"),
                            column<&Payment::return_reason>("return_reason"),
                            column<&Payment::case_id>("case_id")};

std::string due_date(const std::optional<std::string>& given, const Clock& clock) {
  if (!given) return format_date(clock.today());
  parse_date(*given);
  return *given;
}

}  // namespace

Id Ledger::open_account(Id client_id, const std::optional<std::string>& bancs_number,
                        const std::optional<std::string>& mop) {
  if (mop) require_one_of("method of payment", *mop, kMethodsOfPayment);
  if (account_of_client(client_id)) {
    throw Error(ErrorCode::conflict,
                "client " + std::to_string(client_id) + " already has a ledger account");
  }
  // Numbers are derived from the client id so that they are stable and unique without a
  // random source (which replay could not reproduce).
  std::string number = bancs_number.value_or("");
  if (number.empty()) {
    std::string digits = std::to_string(client_id);
    number = "BN" + std::string(digits.size() < 8 ? 8 - digits.size() : 0, '0') + digits;
  }
  db_.prepare(
         "INSERT INTO ledger_accounts(client_id, bancs_number, mop, mop_status, created_at) "
         "VALUES (?1, ?2, ?3, ?4, ?5)")
      .bind_all(client_id, number, mop, mop ? std::optional<std::string>("active") : std::nullopt,
                now())
      .run();
  return db_.last_insert_id();
}

Account Ledger::account(Id id) {
  auto st = db_.prepare(kAccountRow.select("FROM ledger_accounts WHERE id = ?1"));
  st.bind(1, id);
  if (!st.step()) {
    throw Error(ErrorCode::not_found, "no ledger account with id " + std::to_string(id));
  }
  return kAccountRow.read(st);
}

std::optional<Account> Ledger::account_of_client(Id client_id) {
  auto st = db_.prepare(kAccountRow.select("FROM ledger_accounts WHERE client_id = ?1"));
  st.bind(1, client_id);
  if (st.step()) return kAccountRow.read(st);
  return std::nullopt;
}

Account Ledger::account_of_casegroup(Id casegroup_id) {
  auto st = db_.prepare("SELECT paying_parent_id FROM casegroups WHERE id = ?1");
  st.bind(1, casegroup_id);
  if (!st.step()) {
    throw Error(ErrorCode::not_found, "no casegroup with id " + std::to_string(casegroup_id));
  }
  const Id client_id = st.integer(0);
  if (auto a = account_of_client(client_id)) return *a;
  throw Error(ErrorCode::not_found, "the paying parent of casegroup " +
                                        std::to_string(casegroup_id) + " has no ledger account");
}

void Ledger::set_account_status(Id account_id, std::string_view status) {
  require_one_of("account status", status, kAccountStatuses);
  account(account_id);
  db_.prepare("UPDATE ledger_accounts SET status = ?1 WHERE id = ?2")
      .bind_all(status, account_id)
      .run();
}

void Ledger::set_second_method(Id account_id, const std::optional<std::string>& mop) {
  if (mop) require_one_of("second method of payment", *mop, kSecondMethodsOfPayment);
  const Account a = account(account_id);
  if (mop && a.mop != "DEO") {
    throw Error(ErrorCode::invalid, "a second method of payment sits beside a DEO, and account " +
                                        std::to_string(account_id) + "'s method is not DEO");
  }
  db_.prepare("UPDATE ledger_accounts SET second_mop = ?1 WHERE id = ?2")
      .bind_all(mop, account_id)
      .run();
}

void Ledger::set_method_of_payment(Id account_id, const std::optional<std::string>& mop,
                                   const std::optional<std::string>& status) {
  if (mop) require_one_of("method of payment", *mop, kMethodsOfPayment);
  if (status) require_one_of("method of payment status", *status, kMopStatuses);
  if (!mop && status) {
    throw Error(ErrorCode::invalid, "a method of payment status needs a method of payment");
  }
  account(account_id);
  db_.prepare("UPDATE ledger_accounts SET mop = ?1, mop_status = ?2 WHERE id = ?3")
      .bind_all(mop, mop ? std::optional<std::string>(status.value_or("active")) : std::nullopt,
                account_id)
      .run();
}

Id Ledger::add_due(const NewDue& due) {
  require_one_of("owed_to", due.owed_to, kOwedTo);
  require_one_of("due state", due.state, kDueStates);
  require_one_of("due kind", due.kind, kDueKinds);
  if (due.kind == "maintenance" && due.owed_to != "RP") {
    throw Error(ErrorCode::bad_argument,
                "maintenance is owed to the receiving parent, not " + due.owed_to);
  }
  require_amount("due amount", due.amount);
  const Account acct = account_of_casegroup(due.casegroup_id);
  if (due.owed_to == "RP" && !due.case_id) {
    throw Error(ErrorCode::bad_argument, "a due owed to the receiving parent needs its case");
  }
  if (due.case_id) {
    auto st = db_.prepare("SELECT casegroup_id FROM cases WHERE id = ?1");
    st.bind(1, *due.case_id);
    if (!st.step() || st.integer(0) != due.casegroup_id) {
      throw Error(ErrorCode::bad_argument, "case " + std::to_string(*due.case_id) +
                                               " is not in casegroup " +
                                               std::to_string(due.casegroup_id));
    }
  }
  const std::string due_on = due_date(due.due_on, clock_);
  db_.prepare(
         "INSERT INTO dues(account_id, casegroup_id, case_id, owed_to, state, amount, origin, "
         "created_at, due_on, kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")
      .bind_all(acct.id, due.casegroup_id, due.case_id, due.owed_to, due.state, due.amount,
                due.origin, now(), due_on, due.kind)
      .run();
  const Id id = db_.last_insert_id();
  if (due.state == "active") allocate_credit(db_, now(), acct.id);
  return id;
}

void Ledger::require_casegroup(Id casegroup_id) {
  casegroups_.require(casegroup_id);
}

std::vector<Due> Ledger::dues(Id casegroup_id) {
  require_casegroup(casegroup_id);
  auto st = db_.prepare(kDueRow.select("FROM dues WHERE casegroup_id = ?1 ORDER BY id"));
  st.bind(1, casegroup_id);
  std::vector<Due> out;
  while (st.step()) out.push_back(kDueRow.read(st));
  return out;
}

Pence Ledger::balance(Id casegroup_id, const std::optional<std::string>& owed_to,
                      const std::optional<std::string>& state) {
  if (owed_to) require_one_of("owed_to", *owed_to, kOwedTo);
  if (state) require_one_of("due state", *state, kDueStates);
  Pence total = 0;
  for (const Due& d : dues(casegroup_id)) {
    if ((!owed_to || d.owed_to == *owed_to) && (!state || d.state == *state)) {
      total = money::add(total, d.outstanding());
    }
  }
  return total;
}

std::vector<MoneyCategory> Ledger::money_summary(Id casegroup_id) {
  std::vector<MoneyCategory> out;
  auto line = [&](const std::string& category) -> MoneyCategory& {
    for (auto& m : out) {
      if (m.category == category) return m;
    }
    return out.emplace_back(MoneyCategory{category});
  };
  for (const char* owed_to : kOwedTo) line(owed_to);
  line("collection charges");
  line("enforcement charges");
  auto add = [](MoneyCategory& m, const std::string& state, Pence amount, Pence paid) {
    m.owed = money::add(m.owed, amount);
    m.paid = money::add(m.paid, paid);
    auto& bucket = state == "written_off" ? m.written_off : m.outstanding;
    bucket = money::add(bucket, amount - paid);
  };
  for (const Due& d : dues(casegroup_id)) add(line(d.owed_to), d.state, d.amount, d.paid);
  for (const Charge& c : charges(casegroup_id)) {
    add(line(c.kind + " charges"), c.state, c.amount, c.paid);
  }
  std::erase_if(out, [](const MoneyCategory& m) { return m.owed == 0; });
  return out;
}

Pence Ledger::charges_outstanding(Id casegroup_id) {
  Pence total = 0;
  for (const Charge& c : charges(casegroup_id)) {
    if (c.state == "active") total = money::add(total, c.outstanding());
  }
  return total;
}

void Ledger::set_due_state(Id due_id, std::string_view state) {
  require_one_of("due state", state, kDueStates);
  auto st = db_.prepare("SELECT account_id FROM dues WHERE id = ?1");
  st.bind(1, due_id);
  if (!st.step()) throw Error(ErrorCode::not_found, "no due with id " + std::to_string(due_id));
  const Id account = st.integer(0);
  db_.prepare("UPDATE dues SET state = ?1 WHERE id = ?2").bind_all(state, due_id).run();
  if (state == "active") allocate_credit(db_, now(), account);
}

Id Ledger::add_charge(Id casegroup_id, std::string_view kind, Pence amount) {
  require_one_of("charge kind", kind, kChargeKinds);
  require_amount("charge amount", amount);
  const Account acct = account_of_casegroup(casegroup_id);
  db_.prepare(
         "INSERT INTO charges(account_id, casegroup_id, kind, amount, created_at, due_on) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
      .bind_all(acct.id, casegroup_id, kind, amount, now(), format_date(clock_.today()))
      .run();
  const Id id = db_.last_insert_id();
  allocate_credit(db_, now(), acct.id);
  return id;
}

std::vector<WriteOff> Ledger::write_offs(Id casegroup_id) {
  require_casegroup(casegroup_id);
  auto st = db_.prepare(
      "SELECT id, journal_number, written_off_on, arrears_amount, charges_amount FROM write_offs "
      "WHERE casegroup_id = ?1 ORDER BY id");
  st.bind(1, casegroup_id);
  std::vector<WriteOff> out;
  while (st.step()) {
    out.push_back({st.integer(0), st.text(1), st.text(2), st.integer(3), st.integer(4)});
  }
  return out;
}

Id Ledger::write_off(Id casegroup_id, const std::string& journal, const std::string& date,
                     Pence arrears, Pence charges) {
  require_amount("arrears to write off", arrears);
  require_amount("charges to write off", charges);
  require_journal(journal, date);
  const Account acct = account_of_casegroup(casegroup_id);
  if (balance(casegroup_id, std::nullopt, "active") < arrears) {
    throw Error(ErrorCode::invalid, "casegroup " + std::to_string(casegroup_id) +
                                        " has less active arrears than the write-off takes");
  }
  if (charges_outstanding(casegroup_id) < charges) {
    throw Error(ErrorCode::invalid, "casegroup " + std::to_string(casegroup_id) +
                                        " has less active charges than the write-off takes");
  }
  const Id id =
      insert_write_off(db_, now(), acct.id, casegroup_id, journal, date, arrears, charges);
  const Pence short_dues = move_liabilities(db_, now(), LiabilityTable::dues, "casegroup_id",
                                            casegroup_id, "active", "written_off", arrears, id);
  const Pence short_charges = move_liabilities(db_, now(), LiabilityTable::charges, "casegroup_id",
                                               casegroup_id, "active", "written_off", charges, id);
  if (short_dues || short_charges) {
    throw Error(ErrorCode::internal, "write-off " + journal + " found less than it counted");
  }
  return id;
}

std::optional<Id> Ledger::write_off_case(Id case_id, const std::string& journal,
                                         const std::string& date) {
  require_journal(journal, date);
  const Case c = casegroups_.get_case(case_id);
  const Account acct = account_of_casegroup(c.casegroup_id);
  // What is still owed to them in arrears, per state that owes (written-off dues do not).
  std::vector<std::pair<std::string, Pence>> owed;
  Pence total = 0;
  {
    auto st =
        db_.prepare(std::string("SELECT state, sum(amount - ") + kDuePaidSql +
                    ") FROM dues WHERE case_id = ?1 AND owed_to = 'RP' AND kind = "
                    "'arrears' AND state <> 'written_off' GROUP BY state ORDER BY CASE state WHEN "
                    "'active' THEN 0 WHEN 'suspended' THEN 1 ELSE 2 END");
    st.bind(1, case_id);
    while (st.step()) {
      if (st.integer(1) <= 0) continue;
      owed.emplace_back(st.text(0), st.integer(1));
      total = money::add(total, st.integer(1));
    }
  }
  if (total == 0) return std::nullopt;
  const Id id = insert_write_off(db_, now(), acct.id, c.casegroup_id, journal, date, total, 0);
  for (const auto& [state, amount] : owed) {
    if (move_liabilities(db_, now(), LiabilityTable::dues, "case_id", case_id, state.c_str(),
                         "written_off", amount, id, true)) {
      throw Error(ErrorCode::internal, "write-off " + journal + " found less than it counted");
    }
  }
  return id;
}

std::vector<Charge> Ledger::charges(Id casegroup_id) {
  require_casegroup(casegroup_id);
  auto st = db_.prepare(kChargeRow.select("FROM charges WHERE casegroup_id = ?1 ORDER BY id"));
  st.bind(1, casegroup_id);
  std::vector<Charge> out;
  while (st.step()) out.push_back(kChargeRow.read(st));
  return out;
}

Id Ledger::record_payment(Id account_id, Pence amount, std::string_view received_on,
                          const std::optional<std::string>& method,
                          const std::optional<std::string>& reference) {
  require_payment(amount, received_on);
  account(account_id);
  // The maintenance that has fallen due by the day the money came is owed before it pays
  // anything, so that it is paid first.
  raise_maintenance(account_id, received_on);
  db_.prepare(
         "INSERT INTO payments(account_id, amount, received_on, method, reference, created_at) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
      .bind_all(account_id, amount, received_on, method, reference, now())
      .run();
  const Id id = db_.last_insert_id();
  allocate_credit(db_, now(), account_id);
  return id;
}

Id Ledger::record_direct_payment(Id case_id, Pence amount, std::string_view paid_on,
                                 const std::optional<std::string>& reference) {
  require_payment(amount, paid_on);
  const Id account_id = account_of_casegroup(casegroups_.get_case(case_id).casegroup_id).id;
  // The payment and its allocation stand or fall together: a payment more than the case
  // owes is refused by allocate_direct, and the savepoint takes the row back with it.
  Savepoint sp(db_);
  db_.prepare(
         "INSERT INTO payments(account_id, amount, received_on, method, reference, created_at, "
         "case_id) VALUES (?1, ?2, ?3, 'direct', ?4, ?5, ?6)")
      .bind_all(account_id, amount, paid_on, reference, now(), case_id)
      .run();
  const Id id = db_.last_insert_id();
  allocate_direct(db_, now(), id, case_id, amount);
  sp.release();
  return id;
}

Payment Ledger::payment(Id payment_id) {
  auto st = db_.prepare(kPaymentRow.select("FROM payments WHERE id = ?1"));
  st.bind(1, payment_id);
  if (!st.step()) {
    throw Error(ErrorCode::not_found, "no payment with id " + std::to_string(payment_id));
  }
  return kPaymentRow.read(st);
}

Payment Ledger::return_payment(Id payment_id, std::string_view returned_on,
                               const std::string& reason) {
  parse_date(returned_on);
  if (reason.empty()) {
    throw Error(ErrorCode::bad_argument, "a returned payment needs the reason it came back");
  }
  const Payment p = payment(payment_id);
  if (p.returned_on) {
    throw Error(ErrorCode::conflict, "payment " + std::to_string(payment_id) +
                                         " was already returned on " + *p.returned_on);
  }
  if (returned_on < std::string_view(p.received_on)) {
    throw Error(ErrorCode::invalid, "payment " + std::to_string(payment_id) + " was received on " +
                                        p.received_on + "; it cannot come back before that");
  }
  db_.prepare("UPDATE payments SET returned_on = ?2, return_reason = ?3 WHERE id = ?1")
      .bind_all(payment_id, returned_on, reason)
      .run();
  deallocate_payment(db_, now(), payment_id);
  return payment(payment_id);
}

std::vector<Payment> Ledger::payments(Id account_id, const std::optional<std::string>& since,
                                      std::optional<Id> after) {
  if (since) parse_date(*since);
  auto st = db_.prepare(kPaymentRow.select(
      "FROM payments WHERE account_id = ?1 AND (?2 IS NULL OR received_on >= ?2) AND (?3 IS "
      "NULL OR id > ?3) ORDER BY received_on, id"));
  st.bind_all(account_id, since, after);
  std::vector<Payment> out;
  while (st.step()) out.push_back(kPaymentRow.read(st));
  return out;
}

Pence Ledger::paid(Id account_id, const std::optional<std::string>& since, std::optional<Id> after,
                   bool towards_arrears) {
  Pence total = 0;
  for (const Payment& p : payments(account_id, since, after)) {
    if (!p.returned_on) total = money::add(total, p.amount);
  }
  if (!towards_arrears) return total;
  auto st = db_.prepare(
      "SELECT coalesce(sum(a.amount), 0) FROM allocations a JOIN payments p ON p.id = "
      "a.payment_id JOIN dues d ON d.id = a.due_id WHERE p.account_id = ?1 AND d.kind = "
      "'maintenance' AND a.deallocated_on IS NULL AND p.returned_on IS NULL AND (?2 IS NULL OR "
      "p.received_on >= ?2) AND (?3 IS NULL OR p.id > ?3)");
  st.bind_all(account_id, since, after);
  st.step();
  return money::sub(total, st.integer(0));
}

// ---- ongoing maintenance -----------------------------------------------------------------

namespace {

// The k-th date (k = 0 for the first) of a liability that falls due every `frequency`.
std::string period_date(const std::string& first, const std::string& frequency, long k) {
  const Date d = parse_date(first);
  if (frequency == "monthly") return format_date(add_months(d, k));
  const long days = frequency == "weekly" ? 7 : frequency == "fortnightly" ? 14 : 28;
  return format_date(add_days(d, k * days));
}

const RowFormat kLiabilityRow{column<&MaintenanceLiability::case_id>("case_id"),
                              column<&MaintenanceLiability::amount>("amount"),
                              column<&MaintenanceLiability::frequency>("frequency"),
                              column<&MaintenanceLiability::first_due_on>("first_due_on"),
                              column<&MaintenanceLiability::ends_on>("ends_on"),
                              column<&MaintenanceLiability::raised_through>("raised_through")};

}  // namespace

void Ledger::set_maintenance(const MaintenanceLiability& m) {
  require_amount("maintenance amount", m.amount);
  if (m.amount == 0) throw Error(ErrorCode::bad_argument, "maintenance amount must be above 0");
  require_one_of("frequency", m.frequency, kFrequencies);
  parse_date(m.first_due_on);
  if (m.ends_on) parse_date(*m.ends_on);
  const Case c = casegroups_.get_case(m.case_id);
  if (casegroups_.get(c.casegroup_id).arrears_only) {
    throw Error(ErrorCode::invalid, "case " + std::to_string(m.case_id) +
                                        " is in an arrears-only casegroup: no maintenance is due");
  }
  account_of_casegroup(c.casegroup_id);
  db_.prepare(
         "INSERT INTO maintenance_liabilities(case_id, amount, frequency, first_due_on, ends_on, "
         "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(case_id) DO UPDATE SET "
         "amount = excluded.amount, frequency = excluded.frequency, first_due_on = "
         "excluded.first_due_on, ends_on = excluded.ends_on")
      .bind_all(m.case_id, m.amount, m.frequency, m.first_due_on, m.ends_on, now())
      .run();
}

std::optional<MaintenanceLiability> Ledger::maintenance(Id case_id) {
  auto st = db_.prepare(kLiabilityRow.select("FROM maintenance_liabilities WHERE case_id = ?1"));
  st.bind(1, case_id);
  if (!st.step()) return std::nullopt;
  return kLiabilityRow.read(st);
}

int Ledger::raise_maintenance(std::optional<Id> account_id, std::string_view up_to) {
  parse_date(up_to);
  std::vector<std::pair<MaintenanceLiability, Id>> liabilities;  // with the casegroup
  {
    auto st = db_.prepare(kLiabilityRow.select(
        ", (SELECT casegroup_id FROM cases WHERE id = case_id) FROM maintenance_liabilities "
        "WHERE ?1 IS NULL OR case_id IN (SELECT c.id FROM cases c JOIN casegroups g ON g.id = "
        "c.casegroup_id JOIN ledger_accounts a ON a.client_id = g.paying_parent_id WHERE a.id = "
        "?1) ORDER BY case_id"));
    st.bind(1, account_id);
    while (st.step()) liabilities.emplace_back(kLiabilityRow.read(st), st.integer(6));
  }
  int raised = 0;
  for (auto& [m, casegroup] : liabilities) {
    std::optional<std::string> last;
    // A bound on the walk: a weekly liability decades old is still well inside it.
    for (long k = 0; k < 10000; ++k) {
      const std::string day = period_date(m.first_due_on, m.frequency, k);
      if (day > up_to || (m.ends_on && day > *m.ends_on)) break;
      if (m.raised_through && day <= *m.raised_through) continue;
      NewDue due;
      due.casegroup_id = casegroup;
      due.case_id = m.case_id;
      due.owed_to = "RP";
      due.amount = m.amount;
      due.kind = "maintenance";
      due.origin = "maintenance due " + day;
      due.due_on = day;
      add_due(due);
      last = day;
      ++raised;
    }
    if (last) {
      db_.prepare("UPDATE maintenance_liabilities SET raised_through = ?2 WHERE case_id = ?1")
          .bind_all(m.case_id, *last)
          .run();
    }
  }
  return raised;
}

Pence Ledger::credit(Id account_id) {
  return credit_of(db_, account_id);
}

void Ledger::allocate_by_hand(Id payment_id, std::optional<Id> due_id, std::optional<Id> charge_id,
                              Pence amount, const User& by) {
  if (by.role != "caseworker" && by.role != "team_leader" && by.role != "senior_manager") {
    throw Error(ErrorCode::forbidden, "user '" + by.name + "' (" + by.role +
                                          ") may not allocate payments: caseworkers, team "
                                          "leaders and senior managers may");
  }
  casekit::allocate_by_hand(db_, now(), payment_id, due_id, charge_id, amount);
}

void Ledger::allocate_recorded_payments() {
  auto st = db_.prepare("SELECT 1 FROM settings WHERE key = 'allocate_recorded_payments'");
  if (!st.step()) return;
  Transaction tx(db_);
  allocate_all_credit(db_, now());
  db_.exec("DELETE FROM settings WHERE key = 'allocate_recorded_payments'");
  tx.commit();
}

Schedule Ledger::issue_schedule(const NewSchedule& s) {
  require_one_of("frequency", s.frequency, kFrequencies);
  require_amount("lump sum", s.lump_sum);
  require_amount("amount per period", s.amount_per_period);
  if (s.periods < 0) throw Error(ErrorCode::bad_argument, "periods must not be negative");
  parse_date(s.first_collection_date);
  const Account owing = account_of_casegroup(s.casegroup_id);
  if (owing.status != "active") {
    throw Error(ErrorCode::invalid, "BaNCS account " + owing.bancs_number +
                                        " is inactive: CFAT must reactivate it before a "
                                        "schedule is issued");
  }
  auto v = db_.prepare(
      "SELECT coalesce(max(version), 0) + 1 FROM payment_schedules WHERE casegroup_id = ?1");
  v.bind(1, s.casegroup_id);
  v.step();
  const std::int64_t version = v.integer(0);
  db_.prepare("UPDATE payment_schedules SET in_place = 0 WHERE casegroup_id = ?1 AND in_place = 1")
      .bind(1, s.casegroup_id)
      .run();
  db_.prepare(
         "INSERT INTO payment_schedules(casegroup_id, version, lump_sum, amount_per_period, "
         "frequency, periods, first_collection_date, in_place, acceptable, created_at, "
         "payments_before) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?9, (SELECT IFNULL(max(id), 0) FROM "
         "payments))")
      .bind_all(s.casegroup_id, version, s.lump_sum, s.amount_per_period, s.frequency, s.periods,
                s.first_collection_date, s.acceptable, now())
      .run();
  return schedule_by_version(s.casegroup_id, version);
}

Schedule Ledger::schedule_by_version(Id casegroup_id, std::int64_t version) {
  auto st = db_.prepare(
      kScheduleRow.select("FROM payment_schedules WHERE casegroup_id = ?1 AND version = ?2"));
  st.bind_all(casegroup_id, version);
  if (!st.step()) throw Error(ErrorCode::not_found, "no such schedule version");
  return kScheduleRow.read(st);
}

std::optional<Schedule> Ledger::current_schedule(Id casegroup_id) {
  auto st = db_.prepare(
      kScheduleRow.select("FROM payment_schedules WHERE casegroup_id = ?1 AND in_place = 1"));
  st.bind(1, casegroup_id);
  if (st.step()) return kScheduleRow.read(st);
  return std::nullopt;
}

std::vector<Schedule> Ledger::schedules(Id casegroup_id) {
  auto st = db_.prepare(
      kScheduleRow.select("FROM payment_schedules WHERE casegroup_id = ?1 ORDER BY version"));
  st.bind(1, casegroup_id);
  std::vector<Schedule> out;
  while (st.step()) out.push_back(kScheduleRow.read(st));
  return out;
}

nlohmann::json to_json(const Account& a) {
  return {{"id", a.id},
          {"client_id", a.client_id},
          {"bancs_number", a.bancs_number},
          {"method_of_payment", a.mop ? nlohmann::json(*a.mop) : nullptr},
          {"method_of_payment_status", a.mop_status ? nlohmann::json(*a.mop_status) : nullptr},
          {"status", a.status},
          {"second_method_of_payment", a.second_mop ? nlohmann::json(*a.second_mop) : nullptr}};
}

nlohmann::json to_json(const Due& d) {
  return {{"id", d.id},
          {"case_id", d.case_id ? nlohmann::json(*d.case_id) : nullptr},
          {"owed_to", d.owed_to},
          {"state", d.state},
          {"due_on", d.due_on},
          {"amount", d.amount},
          {"paid", d.paid},
          {"outstanding", d.outstanding()},
          {"origin", d.origin ? nlohmann::json(*d.origin) : nullptr},
          {"kind", d.kind}};
}

nlohmann::json to_json(const MoneyCategory& m) {
  return {{"category", m.category},
          {"owed", m.owed},
          {"paid", m.paid},
          {"written_off", m.written_off},
          {"outstanding", m.outstanding}};
}

nlohmann::json to_json(const Charge& c) {
  return {{"id", c.id},
          {"kind", c.kind},
          {"state", c.state},
          {"due_on", c.due_on},
          {"amount", c.amount},
          {"paid", c.paid},
          {"outstanding", c.outstanding()}};
}

nlohmann::json to_json(const Payment& p) {
  return {{"id", p.id},
          {"account_id", p.account_id},
          {"amount", p.amount},
          {"received_on", p.received_on},
          {"method", p.method ? nlohmann::json(*p.method) : nullptr},
          {"reference", p.reference ? nlohmann::json(*p.reference) : nullptr},
          {"allocated", p.allocated},
          {"returned_on", p.returned_on ? nlohmann::json(*p.returned_on) : nullptr},
          {"return_reason", p.return_reason ? nlohmann::json(*p.return_reason) : nullptr}};
}

nlohmann::json to_json(const Schedule& s) {
  return {{"version", s.version},
          {"lump_sum", s.lump_sum},
          {"amount_per_period", s.amount_per_period},
          {"frequency", s.frequency},
          {"periods", s.periods},
          {"first_collection_date", s.first_collection_date},
          {"issued_on", s.issued_on},
          {"in_place", s.in_place},
          {"acceptable", s.acceptable ? nlohmann::json(*s.acceptable) : nullptr}};
}

}  // namespace casekit
