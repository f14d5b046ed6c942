// Payment allocation (engine/domain/allocation.hpp): the order money pays dues in, credit,
// returned payments, and the balance invariant under any mix of ledger operations.
#include <random>

#include <catch2/catch.hpp>

#include "engine/domain/allocation.hpp"
#include "engine/domain/bancs.hpp"
#include "tests/test_support.hpp"

namespace casekit::test {
namespace {

NewDue due(Id casegroup, std::optional<Id> case_id, const char* owed_to, Pence amount,
           const char* due_on) {
  NewDue d;
  d.casegroup_id = casegroup;
  d.case_id = case_id;
  d.owed_to = owed_to;
  d.amount = amount;
  d.due_on = due_on;
  return d;
}

Pence paid_of(Ledger& ledger, Id casegroup, Id due_id) {
  for (const Due& d : ledger.dues(casegroup)) {
    if (d.id == due_id) return d.paid;
  }
  FAIL("no due " << due_id);
  return 0;
}

}  // namespace

TEST_CASE("a payment pays the receiving parent, then the Secretary of State, then charges") {
  TestEngine t;
  const auto f = t.family();
  auto& ledger = t.engine.ledger;
  const Id account = ledger.account_of_casegroup(f.casegroup).id;
  // Added out of order on purpose: the order is by who is owed, then by date due.
  const Id sos = ledger.add_due(due(f.casegroup, std::nullopt, "SOS_GB", 30000, "2020-01-01"));
  const Id rp_new = ledger.add_due(due(f.casegroup, f.case_id, "RP", 20000, "2024-06-01"));
  const Id rp_old = ledger.add_due(due(f.casegroup, f.case_id, "RP", 10000, "2023-01-01"));
  const Id charge = ledger.add_charge(f.casegroup, "collection", 5000);

  ledger.record_payment(account, 15000, "2026-11-20", std::string("SO"), std::nullopt);
  CHECK(paid_of(ledger, f.casegroup, rp_old) == 10000);
  CHECK(paid_of(ledger, f.casegroup, rp_new) == 5000);
  CHECK(paid_of(ledger, f.casegroup, sos) == 0);
  CHECK(ledger.balance(f.casegroup, std::nullopt, std::nullopt) == 45000);

  ledger.record_payment(account, 50000, "2026-11-21", std::nullopt, std::nullopt);
  CHECK(paid_of(ledger, f.casegroup, rp_new) == 20000);
  CHECK(paid_of(ledger, f.casegroup, sos) == 30000);
  CHECK(ledger.charges(f.casegroup).front().id == charge);
  CHECK(ledger.charges(f.casegroup).front().paid == 5000);
  CHECK(ledger.balance(f.casegroup, std::nullopt, std::nullopt) == 0);
  CHECK(ledger.charges_outstanding(f.casegroup) == 0);
  // 65,000 in, 65,000 owed: 0 over. Another 700 has nothing to pay and is held.
  ledger.record_payment(account, 700, "2026-11-22", std::nullopt, std::nullopt);
  CHECK(ledger.credit(account) == 700);
  CHECK(ledger.paid(account, std::nullopt) == 65700);
}

TEST_CASE("only active dues are paid, and credit waits for the next due") {
  TestEngine t;
  const auto f = t.family();
  auto& ledger = t.engine.ledger;
  const Id account = ledger.account_of_casegroup(f.casegroup).id;
  NewDue deferred = due(f.casegroup, f.case_id, "RP", 9000, "2020-01-01");
  deferred.state = "deferred";
  const Id held = ledger.add_due(deferred);
  ledger.record_payment(account, 4000, "2026-11-20", std::nullopt, std::nullopt);
  CHECK(paid_of(ledger, f.casegroup, held) == 0);
  CHECK(ledger.credit(account) == 4000);

  const Id next = ledger.add_due(due(f.casegroup, f.case_id, "RP", 2500, "2026-12-01"));
  CHECK(paid_of(ledger, f.casegroup, next) == 2500);
  CHECK(ledger.credit(account) == 1500);
  // Made active, the deferred arrears take what is left.
  ledger.set_due_state(held, "active");
  CHECK(paid_of(ledger, f.casegroup, held) == 1500);
  CHECK(ledger.credit(account) == 0);
  CHECK(ledger.balance(f.casegroup, std::nullopt, std::string("active")) == 7500);
}

TEST_CASE("manual allocation: payments are held until allocated by hand or the flag goes") {
  TestEngine t;
  const auto f = t.family();
  auto& ledger = t.engine.ledger;
  const Id account = ledger.account_of_casegroup(f.casegroup).id;
  const Id older = ledger.add_due(due(f.casegroup, f.case_id, "RP", 3000, "2025-01-01"));
  const Id newer = ledger.add_due(due(f.casegroup, f.case_id, "RP", 5000, "2026-01-01"));
  const Id charge = ledger.add_charge(f.casegroup, "enforcement", 2000);
  t.engine.casegroups.set_flag(f.casegroup, "manual_allocation", true);

  // Held: nothing allocated, by the payment or by a due added after it.
  const Id p = ledger.record_payment(account, 6000, "2026-11-20", std::nullopt, std::nullopt);
  ledger.add_due(due(f.casegroup, f.case_id, "RP", 100, "2026-11-01"));
  CHECK(ledger.payment(p).allocated == 0);
  CHECK(ledger.credit(account) == 6000);

  const User anna = t.engine.users.add("anna", "caseworker", std::string("Arrears"));
  const User olly = t.engine.users.add("olly", "operator");
  // The newer due first, as the caseworker directs (the LO's debt, say): not the ledger's order.
  ledger.allocate_by_hand(p, newer, std::nullopt, 5000, anna);
  CHECK(paid_of(ledger, f.casegroup, newer) == 5000);
  CHECK(paid_of(ledger, f.casegroup, older) == 0);

  // Each way in that must be refused, changing nothing.
  auto refused = [&](auto&& call, ErrorCode code, const char* says) {
    try {
      call();
      FAIL("not refused: " << says);
    } catch (const Error& e) {
      CHECK(e.code() == code);
      CHECK_THAT(e.what(), Catch::Contains(says));
    }
  };
  refused([&] { ledger.allocate_by_hand(p, older, std::nullopt, 500, olly); }, ErrorCode::forbidden,
          "may not allocate payments");
  refused([&] { ledger.allocate_by_hand(p, older, std::nullopt, 1001, anna); }, ErrorCode::invalid,
          "has £10.00 unallocated");
  refused([&] { ledger.allocate_by_hand(p, newer, std::nullopt, 1, anna); }, ErrorCode::invalid,
          "outstanding on due");
  refused([&] { ledger.allocate_by_hand(p, older, charge, 1, anna); }, ErrorCode::bad_argument,
          "one due or one charge");
  refused([&] { ledger.allocate_by_hand(p, older, std::nullopt, 0, anna); },
          ErrorCode::bad_argument, "above 0");
  refused([&] { ledger.allocate_by_hand(999, older, std::nullopt, 1, anna); }, ErrorCode::not_found,
          "no payment");
  refused([&] { ledger.allocate_by_hand(p, 999, std::nullopt, 1, anna); }, ErrorCode::not_found,
          "no due 999");
  const auto other = t.family("CSA-0000002");
  const Id theirs = ledger.add_due(due(other.casegroup, other.case_id, "RP", 700, "2026-01-01"));
  refused([&] { ledger.allocate_by_hand(p, theirs, std::nullopt, 1, anna); }, ErrorCode::invalid,
          "another account");
  ledger.set_due_state(older, "suspended");
  refused([&] { ledger.allocate_by_hand(p, older, std::nullopt, 1, anna); }, ErrorCode::invalid,
          "is suspended");
  ledger.set_due_state(older, "active");
  CHECK(ledger.credit(account) == 1000);

  ledger.allocate_by_hand(p, std::nullopt, charge, 1000, anna);
  CHECK(ledger.credit(account) == 0);

  // Flag removed: what is held from now on, and what came meanwhile, goes in the usual order.
  const Id q = ledger.record_payment(account, 3100, "2026-11-21", std::nullopt, std::nullopt);
  CHECK(ledger.payment(q).allocated == 0);
  t.engine.casegroups.set_flag(f.casegroup, "manual_allocation", false);
  CHECK(ledger.payment(q).allocated == 3100);
  CHECK(paid_of(ledger, f.casegroup, older) == 3000);
  CHECK(ledger.balance(f.casegroup, std::nullopt, std::string("active")) == 0);
}

TEST_CASE("ongoing maintenance falls due each period and is paid before arrears") {
  TestEngine t;
  const auto f = t.family();
  auto& ledger = t.engine.ledger;
  const Id account = ledger.account_of_casegroup(f.casegroup).id;
  const Id arrears = ledger.add_due(due(f.casegroup, f.case_id, "RP", 60000, "2024-01-01"));
  ledger.set_maintenance({f.case_id, 20000, "monthly", "2026-12-01", std::nullopt, std::nullopt});
  CHECK(ledger.raise_maintenance(std::nullopt, "2026-11-30") == 0);  // nothing due yet

  // The collection on 1 December: 250.00 pays that day's 200.00 of maintenance first, raised
  // as the money is recorded, and only 50.00 of the older arrears.
  ledger.record_payment(account, 25000, "2026-12-01", std::string("SO"), std::nullopt);
  auto dues = ledger.dues(f.casegroup);
  REQUIRE(dues.size() == 2);
  CHECK(dues[1].kind == "maintenance");
  CHECK(dues[1].due_on == "2026-12-01");
  CHECK(dues[1].paid == 20000);
  CHECK(paid_of(ledger, f.casegroup, arrears) == 5000);
  CHECK(ledger.paid(account, std::nullopt, std::nullopt, true) == 5000);
  CHECK(ledger.paid(account, std::nullopt, std::nullopt) == 25000);

  // January's falls due with nothing paid: raised once, however often it is asked for, and
  // owed (unpaid maintenance is arrears) until money comes.
  CHECK(ledger.raise_maintenance(account, "2027-01-15") == 1);
  CHECK(ledger.raise_maintenance(std::nullopt, "2027-01-15") == 0);
  CHECK(ledger.balance(f.casegroup, std::nullopt, std::nullopt) == 55000 + 20000);
  // A payment of the maintenance alone pays nothing towards the arrears.
  const Id january =
      ledger.record_payment(account, 20000, "2027-01-20", std::string("SO"), std::nullopt);
  CHECK(paid_of(ledger, f.casegroup, arrears) == 5000);
  CHECK(ledger.paid(account, std::string("2027-01-01"), std::nullopt, true) == 0);
  CHECK(ledger.balance(f.casegroup, std::nullopt, std::nullopt) == 55000);
  // Returned, the maintenance it paid is owed again, and it counts towards nothing.
  ledger.return_payment(january, "2027-01-25", "recalled");
  CHECK(ledger.balance(f.casegroup, std::nullopt, std::nullopt) == 55000 + 20000);
  CHECK(ledger.paid(account, std::nullopt, std::nullopt, true) == 5000);

  // Ended, nothing more falls due; and an arrears-only casegroup has no maintenance at all.
  ledger.set_maintenance(
      {f.case_id, 20000, "monthly", "2026-12-01", std::string("2027-01-31"), std::nullopt});
  CHECK(ledger.raise_maintenance(account, "2027-06-30") == 0);
  const auto g = t.family("CSA-0000002");
  t.db.prepare("UPDATE casegroups SET arrears_only = 1 WHERE id = ?1").bind(1, g.casegroup).run();
  CHECK_THROWS_WITH(
      ledger.set_maintenance({g.case_id, 100, "monthly", "2026-12-01", std::nullopt, std::nullopt}),
      Catch::Contains("arrears-only casegroup: no maintenance is due"));
  CHECK_THROWS_WITH(
      ledger.set_maintenance({f.case_id, 100, "daily", "2026-12-01", std::nullopt, std::nullopt}),
      Catch::Contains("frequency"));
  NewDue sos = due(f.casegroup, std::nullopt, "SOS_GB", 100, "2026-12-01");
  sos.kind = "maintenance";
  CHECK_THROWS_WITH(ledger.add_due(sos), Catch::Contains("maintenance is owed to the receiving"));
}

TEST_CASE("a receiving parent's write-off takes their arrears in every state, and nothing else") {
  TestEngine t;
  const auto f = t.family();
  auto& ledger = t.engine.ledger;
  const Id account = ledger.account_of_casegroup(f.casegroup).id;
  ledger.add_due(due(f.casegroup, f.case_id, "RP", 10000, "2024-01-01"));
  NewDue deferred = due(f.casegroup, f.case_id, "RP", 2500, "2024-02-01");
  deferred.state = "deferred";
  ledger.add_due(deferred);
  NewDue upkeep = due(f.casegroup, f.case_id, "RP", 4000, "2026-11-01");
  upkeep.kind = "maintenance";
  ledger.add_due(upkeep);
  ledger.add_due(due(f.casegroup, std::nullopt, "SOS_GB", 7000, "2023-01-01"));
  // 6,000 pays the maintenance (4,000) first, then 2,000 of the oldest RP arrears.
  ledger.record_payment(account, 6000, "2026-11-20", std::nullopt, std::nullopt);

  const auto id = ledger.write_off_case(f.case_id, "JN-RP", "2026-11-20");
  REQUIRE(id);
  const auto offs = ledger.write_offs(f.casegroup);
  REQUIRE(offs.size() == 1);
  CHECK(offs[0].arrears == 8000 + 2500);
  CHECK(ledger.balance(f.casegroup, std::string("RP"), std::string("written_off")) == 10500);
  CHECK(ledger.balance(f.casegroup, std::string("RP"), std::string("active")) == 0);
  CHECK(ledger.balance(f.casegroup, std::string("SOS_GB"), std::string("active")) == 7000);
  for (const Due& d : ledger.dues(f.casegroup)) {
    if (d.kind == "maintenance") CHECK(d.state == "active");
    // What payments paid stays paid, on the part that was not written off.
    if (d.state == "written_off") CHECK(d.paid == 0);
  }
  // Nothing left to them: nothing written off, and no empty write-off recorded.
  CHECK(!ledger.write_off_case(f.case_id, "JN-RP-2", "2026-11-21"));
  CHECK(ledger.write_offs(f.casegroup).size() == 1);
  CHECK_THROWS_WITH(ledger.write_off_case(f.case_id, "", "2026-11-21"),
                    Catch::Contains("journal number"));
}

TEST_CASE("a write-off that splits a maintenance due keeps its kind") {
  TestEngine t;
  const auto f = t.family();
  auto& ledger = t.engine.ledger;
  NewDue upkeep = due(f.casegroup, f.case_id, "RP", 4000, "2026-11-01");
  upkeep.kind = "maintenance";
  ledger.add_due(upkeep);
  ledger.write_off(f.casegroup, "JN-1", "2026-11-20", 1000, 0);
  const auto dues = ledger.dues(f.casegroup);
  REQUIRE(dues.size() == 2);
  CHECK(dues[1].state == "written_off");
  CHECK(dues[1].amount == 1000);
  CHECK(dues[1].kind == "maintenance");
}

TEST_CASE("a returned payment is owed again, and other credit fills the gap") {
  TestEngine t;
  const auto f = t.family();
  auto& ledger = t.engine.ledger;
  const Id account = ledger.account_of_casegroup(f.casegroup).id;
  const Id d = ledger.add_due(due(f.casegroup, f.case_id, "RP", 10000, "2025-01-01"));
  const Id dd = ledger.record_payment(account, 6000, "2026-11-01", std::string("DD"), {});
  const Id cheque = ledger.record_payment(account, 7000, "2026-11-10", std::string("cheque"), {});
  CHECK(paid_of(ledger, f.casegroup, d) == 10000);
  CHECK(ledger.credit(account) == 3000);

  const Payment back = ledger.return_payment(dd, "2026-11-12", "DD recalled (ARUDD 0)");
  CHECK(back.returned_on == std::optional<std::string>("2026-11-12"));
  CHECK(back.allocated == 0);
  // The cheque's 3,000 of credit now pays what the recalled DD had paid.
  CHECK(paid_of(ledger, f.casegroup, d) == 7000);
  CHECK(ledger.payment(cheque).allocated == 7000);
  CHECK(ledger.credit(account) == 0);
  CHECK(ledger.paid(account, std::nullopt) == 7000);
  CHECK(ledger.balance(f.casegroup, std::nullopt, std::nullopt) == 3000);

  const auto allocations = t.count("allocations");
  CHECK_THROWS_WITH(ledger.return_payment(dd, "2026-11-13", "again"),
                    Catch::Contains("already returned on 2026-11-12"));
  CHECK_THROWS_WITH(ledger.return_payment(cheque, "2026-11-09", "bounced"),
                    Catch::Contains("received on 2026-11-10"));
  CHECK_THROWS_WITH(ledger.return_payment(cheque, "2026-11-11", ""),
                    Catch::Contains("needs the reason"));
  CHECK_THROWS_WITH(ledger.return_payment(999, "2026-11-11", "bounced"),
                    Catch::Contains("no payment with id 999"));
  CHECK(t.count("allocations") == allocations);
  CHECK(ledger.payment(cheque).allocated == 7000);
}

TEST_CASE("a write-off takes only what is unpaid, and a reversal brings it back to be paid") {
  TestEngine t;
  const auto f = t.family();
  auto& ledger = t.engine.ledger;
  LocalBancs bancs(t.db, t.clock);
  const Id account = ledger.account_of_casegroup(f.casegroup).id;
  ledger.add_due(due(f.casegroup, f.case_id, "RP", 10000, "2025-01-01"));
  ledger.record_payment(account, 4000, "2026-11-01", std::nullopt, std::nullopt);
  // 6,000 is unpaid; the write-off may take that and no more.
  CHECK_THROWS_WITH(ledger.write_off(f.casegroup, "JN-1", "2026-11-02", 6001, 0),
                    Catch::Contains("less active arrears"));
  ledger.write_off(f.casegroup, "JN-1", "2026-11-02", 6000, 0);
  CHECK(ledger.balance(f.casegroup, std::nullopt, std::string("active")) == 0);
  CHECK(ledger.balance(f.casegroup, std::nullopt, std::string("written_off")) == 6000);
  for (const Due& d : ledger.dues(f.casegroup)) {
    CHECK(d.due_on == "2025-01-01");  // the split row keeps the date it fell due
    CHECK((d.state == "written_off" ? d.paid == 0 : d.paid == 4000));
  }

  ledger.record_payment(account, 2500, "2026-11-03", std::nullopt, std::nullopt);
  CHECK(ledger.credit(account) == 2500);
  REQUIRE(bancs.reverse_write_off(account, "JN-1", "2026-11-02", 6000).ok);
  CHECK(ledger.credit(account) == 2500);  // suspended arrears are not paid yet
  REQUIRE(bancs.unsuspend(account, "JN-1").ok);
  CHECK(ledger.credit(account) == 0);
  CHECK(ledger.balance(f.casegroup, std::nullopt, std::string("active")) == 3500);
}

TEST_CASE("payments recorded before allocation existed are allocated on upgrade") {
  TempDir dir;
  SimulatedClock clock(parse_instant("2026-11-20T09:00:00Z"));
  {
    Database db(dir.path() / "x.db", OpenMode::create);
    db.set_clock(&clock);
    migrate(db, 7);
    db.exec(
        "INSERT INTO clients(name, created_at) VALUES ('Pat', 'then'), ('Alex', 'then');"
        "INSERT INTO casegroups(paying_parent_id, segment, region, created_at) "
        "  VALUES (1, 'Arrears', 'E&W', 'then');"
        "INSERT INTO cases(casegroup_id, receiving_parent_id, created_at) VALUES (1, 2, 'then');"
        "INSERT INTO ledger_accounts(client_id, bancs_number, created_at) "
        "  VALUES (1, 'BN1', 'then');"
        "INSERT INTO dues(account_id, casegroup_id, case_id, owed_to, state, amount, "
        "  created_at) VALUES (1, 1, 1, 'RP', 'active', 8000, '2026-01-01T00:00:00Z');"
        "INSERT INTO payments(account_id, amount, received_on, created_at) "
        "  VALUES (1, 3000, '2026-02-01', 'then');");
  }
  Database db(dir.path() / "x.db", OpenMode::existing);
  migrate(db);
  Engine engine(db, clock, Home{kSourceDir});
  CHECK(engine.ledger.balance(1, std::nullopt, std::nullopt) == 5000);
  CHECK(engine.ledger.dues(1).front().due_on == "2026-01-01");
  auto st = db.prepare("SELECT count(*) FROM settings WHERE key = 'allocate_recorded_payments'");
  st.step();
  CHECK(st.integer(0) == 0);
  // Opening again allocates nothing more.
  Engine again(db, clock, Home{kSourceDir});
  CHECK(again.ledger.balance(1, std::nullopt, std::nullopt) == 5000);
}

// For any sequence of dues, charges, payments, returns, write-offs and reversals, what is
// owed and not written off equals what fell due, less what payments paid, less what was
// written off, plus what was reversed: to the penny, and no row is ever paid more than it is.
TEST_CASE("outstanding = dues - allocations - write-offs + reversals, for any sequence") {
  for (unsigned seed = 1; seed <= 12; ++seed) {
    CAPTURE(seed);
    TestEngine t;
    const auto f = t.family();
    auto& ledger = t.engine.ledger;
    LocalBancs bancs(t.db, t.clock);
    const Id account = ledger.account_of_casegroup(f.casegroup).id;
    std::mt19937 rng(seed);
    auto upto = [&](Pence n) { return std::uniform_int_distribution<Pence>(1, n)(rng); };

    Pence raised = 0, received = 0, written_off = 0, reversed = 0;
    std::vector<std::pair<Id, Pence>> payments;             // not yet returned
    std::vector<std::pair<std::string, Pence>> write_offs;  // journal, left to reverse
    for (int step = 0; step < 60; ++step) {
      CAPTURE(step);
      const std::string date =
          "2026-0" + std::to_string(1 + step % 9) + "-1" + std::to_string(step % 10);
      switch (upto(7)) {
        case 1:
        case 2: {
          const Pence amount = upto(40000);
          const auto which = upto(3);  // arrears to the RP, to the SoS, or RP maintenance
          NewDue d = which == 2 ? due(f.casegroup, std::nullopt, "SOS_GB", amount, date.c_str())
                                : due(f.casegroup, f.case_id, "RP", amount, date.c_str());
          if (which == 3) d.kind = "maintenance";
          ledger.add_due(d);
          raised += amount;
          break;
        }
        case 3: {
          const Pence amount = upto(3000);
          ledger.add_charge(f.casegroup, upto(2) == 1 ? "collection" : "enforcement", amount);
          raised += amount;
          break;
        }
        case 4: {
          const Pence amount = upto(30000);
          payments.emplace_back(ledger.record_payment(account, amount, "2026-01-01", {}, {}),
                                amount);
          received += amount;
          break;
        }
        case 5: {
          if (payments.empty()) break;
          const auto at = payments.begin() + (upto(payments.size()) - 1);
          ledger.return_payment(at->first, "2026-02-01", "returned");
          received -= at->second;
          payments.erase(at);
          break;
        }
        case 6: {
          const Pence arrears = ledger.balance(f.casegroup, std::nullopt, std::string("active"));
          const Pence charges = ledger.charges_outstanding(f.casegroup);
          if (arrears == 0) break;
          const Pence a = upto(arrears), c = charges ? upto(charges) - 1 : 0;
          const std::string journal = "JN-" + std::to_string(step);
          ledger.write_off(f.casegroup, journal, "2026-03-01", a, c);
          write_offs.emplace_back(journal, a + c);
          written_off += a + c;
          break;
        }
        case 7: {
          if (write_offs.empty()) break;
          auto& [journal, left] = write_offs[upto(write_offs.size()) - 1];
          if (left == 0) break;
          const Pence amount = upto(left);
          REQUIRE(bancs.reverse_write_off(account, journal, "2026-03-01", amount).ok);
          bancs.unsuspend(account, journal);  // refused (and harmless) when only charges came back
          left -= amount;
          reversed += amount;
          break;
        }
      }

      Pence live = 0, allocated = 0;
      bool active_unpaid = false;
      for (const Due& d : ledger.dues(f.casegroup)) {
        REQUIRE(d.paid >= 0);
        REQUIRE(d.outstanding() >= 0);
        allocated += d.paid;
        if (d.state != "written_off") live += d.outstanding();
        if (d.state == "active" && d.outstanding() > 0) active_unpaid = true;
      }
      for (const Charge& c : ledger.charges(f.casegroup)) {
        REQUIRE(c.outstanding() >= 0);
        allocated += c.paid;
        if (c.state != "written_off") live += c.outstanding();
        if (c.state == "active" && c.outstanding() > 0) active_unpaid = true;
      }
      const Pence credit = ledger.credit(account);
      REQUIRE(credit >= 0);
      REQUIRE(allocated + credit == received);
      REQUIRE(live == raised - allocated - written_off + reversed);
      // Money is never left idle while something active is owed.
      REQUIRE((credit == 0 || !active_unpaid));
      for (const auto& [id, amount] : payments) REQUIRE(ledger.payment(id).allocated <= amount);
    }
  }
}

}  // namespace casekit::test
