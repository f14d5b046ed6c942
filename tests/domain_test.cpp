#include <fstream>

#include "engine/core/error.hpp"
#include "test_support.hpp"

using namespace casekit;
using casekit::test::TestEngine;

TEST_CASE("the SR catalogue validates Process / Area / Sub Area and keeps its spelling") {
  TestEngine t;
  const auto& cat = t.engine.sr_catalogue;
  const auto type = cat.find("arrears", "ARREARS MANAGEMENT", "action missed payment");
  REQUIRE(type);
  CHECK(type->sub_area == "Action Missed Payment");
  CHECK_FALSE(cat.find("Arrears", "Arrears Management", "Make Tea"));
  CHECK_THROWS_WITH(
      cat.require("Arrears", "Arrears Management", "Make Tea"),
      Catch::Contains("sub areas of that area are") && Catch::Contains("Action Missed Payment"));
  CHECK(cat.status("in progress") == std::optional<std::string>("In Progress"));
  CHECK_FALSE(cat.status("Sleeping"));
}

TEST_CASE("a broken catalogue names its file and line") {
  casekit::test::TempDir dir;
  const auto file = dir.path() / "sr_catalogue.toml";
  {
    std::ofstream out(file);
    out << "statuses = [\"Open\"]\n[[sr]]\nprocess = \"A\"\narea = \n";
  }
  CHECK_THROWS_WITH(SrCatalogue::load(file), Catch::Contains("sr_catalogue.toml:4"));
  {
    std::ofstream out(file);
    out << "statuses = [\"Open\"]\n[[sr]]\nprocess = \"A\"\narea = \"B\"\n";
  }
  CHECK_THROWS_WITH(SrCatalogue::load(file), Catch::Contains("missing 'sub_area'"));
}

TEST_CASE("an inbox's minutes_per_item is a whole number of minutes") {
  casekit::test::TempDir dir;
  const auto file = dir.path() / "inboxes.toml";
  const auto write = [&](const std::string& minutes) {
    std::ofstream out(file);
    out << "[caseworker]\nroles = [\"caseworker\"]\n" << minutes;
  };
  write("minutes_per_item = 25\n");
  CHECK(InboxCatalogue::load(file).require("caseworker").minutes_per_item == 25);
  write("");
  CHECK_FALSE(InboxCatalogue::load(file).require("caseworker").minutes_per_item);
  for (const char* bad : {"minutes_per_item = 0\n", "minutes_per_item = 2.5\n",
                          "minutes_per_item = \"20\"\n", "minutes_per_item = 10001\n"}) {
    write(bad);
    CHECK_THROWS_WITH(InboxCatalogue::load(file),
                      Catch::Contains("inboxes.toml:1") && Catch::Contains("minutes_per_item"));
  }
}

TEST_CASE("clients, casegroups and cases") {
  TestEngine t;
  const auto f = t.family();
  const Casegroup g = t.engine.casegroups.get(f.casegroup);
  CHECK(g.segment == "Maintenance");
  CHECK(g.region == "E&W");
  CHECK(g.csa_ref == std::optional<std::string>("CSA-0000001"));
  CHECK(t.engine.casegroups.find_by_csa_ref("CSA-0000001") == f.casegroup);
  CHECK(t.engine.casegroups.cases(f.casegroup).size() == 1);
  CHECK(t.engine.casegroups.client(f.paying_parent).address->postcode ==
        std::optional<std::string>("LS1 1AA"));

  SECTION("bad values are refused with the allowed ones listed") {
    CHECK_THROWS_WITH(t.engine.casegroups.set_segment(f.casegroup, "Limbo"),
                      Catch::Contains("Enforcement"));
    CHECK_THROWS_WITH(t.engine.casegroups.set_flag(f.casegroup, "sparkly", true),
                      Catch::Contains("unknown flag 'sparkly'"));
    CHECK_THROWS_AS(t.engine.casegroups.get(999), Error);
    CHECK_THROWS_WITH(t.family("CSA-0000001"), Catch::Contains("already exists"));
  }
  SECTION("flags set and clear idempotently") {
    t.engine.casegroups.set_flag(f.casegroup, "transition_complete", true);
    t.engine.casegroups.set_flag(f.casegroup, "transition_complete", true);
    CHECK(t.engine.casegroups.flags(f.casegroup) ==
          std::vector<std::string>{"transition_complete"});
    t.engine.casegroups.set_flag(f.casegroup, "transition_complete", false);
    CHECK(t.engine.casegroups.flags(f.casegroup).empty());
  }
  SECTION("a new correspondence address replaces the old one") {
    t.engine.casegroups.set_address(f.paying_parent, Address{"PO Box 1", {}, {}, {}, "DLO"});
    CHECK(t.engine.casegroups.client(f.paying_parent).address->status == "DLO");
  }
}

TEST_CASE("a name search finds the same casegroups whether the name is common or rare") {
  // The search walks the casegroups for a name more clients have than a threshold, and looks
  // the name up first for a rarer one. With the threshold at 0 every name is "common", so the
  // two ways can be compared on the same store, page by page.
  TestEngine t;
  const char* names[] = {"Amelia Smith", "Oliver Smithers", "Isla Jones", "Ömer Smith",
                         "Smith Okafor"};
  std::vector<Id> groups;
  for (int i = 0; i < 40; ++i) {
    NewClient pp;
    pp.name = names[i % 5];
    const Id payer = t.engine.casegroups.create_client(pp);
    NewCasegroup g;
    g.csa_ref = "CSA-" + std::to_string(1000 + i);
    g.paying_parent_id = payer;
    groups.push_back(t.engine.casegroups.create(g));
    if (i % 7 == 0) {  // a receiving parent by the name, on a casegroup whose payer has another
      NewClient rp;
      rp.name = "Zara Smith";
      t.engine.casegroups.add_case(groups.back(), t.engine.casegroups.create_client(rp));
    }
  }
  const auto pages = [&](const std::string& name) {
    std::vector<std::vector<Id>> out;
    CasegroupFilter f;
    f.name = name;
    f.limit = 4;
    for (int guard = 0; guard < 50; ++guard) {
      std::vector<Id> page;
      for (const auto& g : t.engine.casegroups.list(f)) page.push_back(g.id);
      if (page.empty()) break;
      out.push_back(page);
      f.after_id = page.back();
    }
    return out;
  };
  for (const std::string name :
       {"smi", "SMITH", "omer", "amelia smith", "jones", "zara", "smithers", "nobody"}) {
    INFO(name);
    t.engine.casegroups.set_common_name(Casegroups::kCommonName);
    const auto looked_up = pages(name);
    t.engine.casegroups.set_common_name(0);
    const auto walked = pages(name);
    CHECK(walked == looked_up);
  }
  // What they agree on is right: "smi" is every Smith, Smithers and Okafor's "Smith" first
  // name, and the casegroups with a receiving parent Zara Smith.
  t.engine.casegroups.set_common_name(0);
  std::vector<Id> smi;
  for (const auto& page : pages("smi")) smi.insert(smi.end(), page.begin(), page.end());
  std::vector<Id> expected;
  for (int i = 0; i < 40; ++i) {
    if (i % 5 != 2 || i % 7 == 0) expected.push_back(groups[i]);
  }
  CHECK(smi == expected);
  CHECK(pages("jones").size() == 2);  // 8 casegroups, 4 a page
}

TEST_CASE("dues mirror balances by owed-to and state, in pence") {
  TestEngine t;
  const auto f = t.family();
  auto& ledger = t.engine.ledger;
  ledger.add_due({f.casegroup, f.case_id, "RP", "active", 125000, "CSA", {}});
  ledger.add_due({f.casegroup, f.case_id, "RP", "deferred", 2500, "CSA", {}});
  ledger.add_due({f.casegroup, std::nullopt, "SOS_GB", "suspended", 700, "CSA", {}});
  CHECK(ledger.balance(f.casegroup, std::nullopt, std::nullopt) == 128200);
  CHECK(ledger.balance(f.casegroup, std::string("RP"), std::nullopt) == 127500);
  CHECK(ledger.balance(f.casegroup, std::nullopt, std::string("suspended")) == 700);
  CHECK_THROWS_WITH(ledger.add_due({f.casegroup, std::nullopt, "RP", "active", 1, {}, {}}),
                    Catch::Contains("needs its case"));
  CHECK_THROWS_WITH(ledger.add_due({f.casegroup, f.case_id, "RP", "active", -1, {}, {}}),
                    Catch::Contains("must not be negative"));
  CHECK_THROWS_WITH(ledger.add_due({f.casegroup, f.case_id, "HMRC", "active", 1, {}, {}}),
                    Catch::Contains("unknown owed_to"));
  const Id due = ledger.dues(f.casegroup).front().id;
  ledger.set_due_state(due, "written_off");
  CHECK(ledger.balance(f.casegroup, std::nullopt, std::string("written_off")) == 125000);
}

TEST_CASE("payments and versioned schedules") {
  TestEngine t;
  const auto f = t.family();
  auto& ledger = t.engine.ledger;
  const Id account = ledger.account_of_casegroup(f.casegroup).id;
  ledger.record_payment(account, 5000, "2026-11-01", std::string("SO"), std::nullopt);
  ledger.record_payment(account, 2500, "2026-11-15", std::nullopt, std::nullopt);
  CHECK(ledger.paid(account, std::nullopt) == 7500);
  CHECK(ledger.paid(account, std::string("2026-11-10")) == 2500);
  CHECK_THROWS_AS(ledger.record_payment(account, 0, "2026-11-01", {}, {}), Error);
  CHECK_THROWS_AS(ledger.record_payment(account, 5, "2026-13-01", {}, {}), Error);

  const Schedule v1 =
      ledger.issue_schedule({f.casegroup, 0, 5000, "monthly", 25, "2026-12-01", true});
  const Schedule v2 =
      ledger.issue_schedule({f.casegroup, 10000, 4000, "monthly", 29, "2027-01-01", true});
  CHECK(v1.version == 1);
  CHECK(v2.version == 2);
  // Each version notes the last payment recorded before it; only later ones count towards it.
  const Id before = *v2.payments_before;
  CHECK(v1.payments_before == before);
  const Id later = ledger.record_payment(account, 4000, "2026-11-10", {}, {});
  CHECK(later > before);
  CHECK(ledger.paid(account, std::nullopt, before) == 4000);
  CHECK(ledger.paid(account, std::string("2026-11-12"), before) == 0);
  CHECK(ledger.current_schedule(f.casegroup)->version == 2);
  const auto all = ledger.schedules(f.casegroup);
  REQUIRE(all.size() == 2);
  CHECK_FALSE(all[0].in_place);
  CHECK(all[1].in_place);
}

// Schema 35: an activity plan is kept once for every SR that has it, and only the steps
// taken are rows; SRs given steps before keep a row for each step.
TEST_CASE("activity plans are kept once and only steps taken are stored") {
  TestEngine t;
  const auto f = t.family();
  auto& srs = t.engine.srs;
  const auto amp = [&] {
    return srs.create({"Arrears",
                       "Arrears management",
                       "Action Missed Payment",
                       "Open",
                       {},
                       {},
                       f.casegroup,
                       {},
                       {}});
  };
  const auto text = [&](const std::string& sql) {
    auto st = t.db.prepare(sql);
    REQUIRE(st.step());
    return st.text(0);
  };
  const Id a = amp(), b = amp();
  srs.add_steps(a, {"Check address", "Search CRA", "Call paying parent"}, "pending");
  srs.add_steps(b, {"Check address", "Search CRA", "Call paying parent"}, "pending");
  CHECK(t.count("step_plans") == 1);
  CHECK(text("SELECT names FROM step_plans") ==
        R"(["Check address","Search CRA","Call paying parent"])");
  CHECK(t.count("sr_step_marks") == 0);
  CHECK(t.count("sr_steps") == 0);

  t.clock.set(parse_instant("2026-11-21T10:00:00Z"));
  srs.set_step(a, "Search CRA", "done");
  srs.set_step(a, "Call paying parent", "skipped");
  CHECK(t.count("sr_step_marks") == 2);
  auto steps = srs.steps(a);
  REQUIRE(steps.size() == 3);
  CHECK(steps[0].name == "Check address");
  CHECK(steps[0].status == "pending");
  CHECK_FALSE(steps[0].completed_at);
  CHECK(steps[1].seq == 2);
  CHECK(steps[1].status == "done");
  CHECK(steps[1].completed_at == std::optional<std::string>("2026-11-21T10:00:00Z"));
  CHECK(steps[2].status == "skipped");
  CHECK(srs.steps(b)[1].status == "pending");  // the plan is shared, the marks are not

  // Back to pending leaves no row; appending names a new plan and keeps the old one.
  srs.set_step(a, "Call paying parent", "pending");
  CHECK(t.count("sr_step_marks") == 1);
  srs.add_steps(a, {"Negotiate"}, "done");
  CHECK(t.count("step_plans") == 2);
  steps = srs.steps(a);
  REQUIRE(steps.size() == 4);
  CHECK(steps[2].status == "pending");
  CHECK(steps[3].name == "Negotiate");
  CHECK(steps[3].status == "done");
  CHECK(srs.steps(b).size() == 3);

  // Bad input changes nothing.
  CHECK_THROWS_WITH(srs.add_steps(a, {"Wait", "Search CRA"}, "pending"),
                    Catch::Contains("already has the activity step 'Search CRA'"));
  CHECK_THROWS_WITH(srs.add_steps(a, {"Wait", "Wait"}, "pending"),
                    Catch::Contains("already has the activity step 'Wait'"));
  CHECK_THROWS_WITH(srs.add_steps(a, {""}, "pending"), Catch::Contains("needs a name"));
  CHECK_THROWS_WITH(srs.add_steps(a, {"Wait"}, "finished"),
                    Catch::Contains("activity step status"));
  CHECK_THROWS_WITH(srs.set_step(a, "Nope", "done"), Catch::Contains("has no activity step"));
  CHECK_THROWS_WITH(srs.set_step(b, "Negotiate", "done"), Catch::Contains("has no activity step"));
  CHECK(srs.steps(a).size() == 4);
  CHECK(t.count("step_plans") == 2);
  // A kept plan never changes: another SR may have it.
  CHECK_THROWS_WITH(t.db.exec("UPDATE step_plans SET names = '[]'"),
                    Catch::Contains("never changes"));
  // The casegroup's trail names the steps a plan number and a step's place stand for.
  const auto trail = t.engine.reads.trail(f.casegroup, 1000, std::nullopt);
  bool named_step = false, named_plan = false;
  for (const auto& c : trail["changes"]) {
    if (c["entity"] == "sr_step_marks" && c["entity_id"] == a && c["action"] == "insert" &&
        c["after"]["seq"] == 2) {
      CHECK(c["step"] == "Search CRA");
      named_step = true;
    }
    if (c["entity"] == "service_requests" && c["entity_id"] == a && c.contains("steps") &&
        c["steps"].size() == 4) {
      CHECK(c["steps"][3] == "Negotiate");
      named_plan = true;
    }
  }
  CHECK(named_step);
  CHECK(named_plan);
  // A plan that is not a list of names is one clear error.
  t.db.exec("DROP TRIGGER step_plans_kept");
  t.db.exec("UPDATE step_plans SET names = '{\"x\":1}' WHERE id = 1");
  CHECK_THROWS_WITH(srs.steps(b), Catch::Contains("activity plan is not a list of step names"));
  CHECK_THROWS_WITH(t.engine.reads.trail(f.casegroup, 1000, std::nullopt),
                    Catch::Contains("activity plan 1 is not a list of step names"));
}

TEST_CASE("an SR given steps before schema 35 keeps a row for each") {
  TestEngine t;
  const auto f = t.family();
  auto& srs = t.engine.srs;
  const Id id = srs.create({"Arrears",
                            "Arrears management",
                            "Action Missed Payment",
                            "Open",
                            {},
                            {},
                            f.casegroup,
                            {},
                            {}});
  t.db.exec("INSERT INTO sr_steps(sr_id, seq, name, status) VALUES (" + std::to_string(id) +
            ", 1, 'Check address', 'pending'), (" + std::to_string(id) +
            ", 2, 'Search CRA', 'pending')");
  srs.set_step(id, "Search CRA", "done");
  srs.add_steps(id, {"Call paying parent"}, "skipped");
  const auto steps = srs.steps(id);
  REQUIRE(steps.size() == 3);
  CHECK(steps[1].status == "done");
  CHECK(steps[2].name == "Call paying parent");
  CHECK(steps[2].status == "skipped");
  CHECK(t.count("sr_steps") == 3);
  CHECK(t.count("step_plans") == 0);
  CHECK(t.count("sr_step_marks") == 0);
}

TEST_CASE("service requests: status, notes, fields, activity plan, links") {
  TestEngine t;
  const auto f = t.family();
  auto& srs = t.engine.srs;
  const Id id = srs.create({"Arrears",
                            "Arrears management",
                            "Reverse write off arrears",
                            "Open",
                            {},
                            std::string("CMG error"),
                            f.casegroup,
                            {},
                            {}});
  const ServiceRequest r = srs.get(id);
  CHECK(r.area == "Arrears Management");
  CHECK(r.owner_team == std::optional<std::string>("Arrears"));
  srs.set_status(id, "pending approval", std::string("Pending Approval TL"));
  CHECK(srs.get(id).status == "Pending Approval");
  srs.add_note(id, "tester", "checked journal");
  srs.set_field(id, "journal_number", std::string("J-1"));
  srs.set_field(id, "journal_number", std::string("J-2"));
  CHECK(srs.field(id, "journal_number") == std::optional<std::string>("J-2"));
  srs.add_step(id, "Display written off arrears");
  srs.add_step(id, "Approve");
  srs.set_step(id, "Approve", "done");
  const auto steps = srs.steps(id);
  REQUIRE(steps.size() == 2);
  CHECK(steps[1].seq == 2);
  CHECK(steps[1].status == "done");
  const Id child = srs.create({"Payments",
                               "Manage liabilities",
                               "Unsuspend liabilities",
                               "Open",
                               {},
                               {},
                               f.casegroup,
                               {},
                               id});
  CHECK(srs.children(id).front().id == child);
  const Id other = srs.create(
      {"Arrears", "Arrears Management", "Write off arrears", "Open", {}, {}, f.casegroup, {}, {}});
  srs.relate(id, other);
  CHECK(srs.related(other) == std::vector<Id>{id});
  srs.close(id, "Complete", std::string("Reverse write off arrears"));
  CHECK_FALSE(srs.get(id).open());
  CHECK_THROWS_WITH(srs.set_status(id, "In Progress", {}), Catch::Contains("is closed"));
  CHECK_THROWS_WITH(srs.set_status(other, "Sleeping", {}), Catch::Contains("unknown SR status"));
  CHECK_THROWS_WITH(srs.create({"Arrears", "Nope", "Nope", "Open", {}, {}, {}, {}, {}}),
                    Catch::Contains("unknown SR type"));
  CHECK_THROWS_AS(srs.create({"Arrears",
                              "Arrears Management",
                              "Arrears Review",
                              "Open",
                              {},
                              {},
                              f.casegroup,
                              999,
                              {}}),
                  Error);
}

TEST_CASE("exceptions are reported by day") {
  TestEngine t;
  t.engine.exceptions.record(std::string("CSA-1"), "missing NINO");
  const auto today = t.engine.exceptions.report("2026-11-20");
  REQUIRE(today.size() == 1);
  CHECK(today[0].reason == "missing NINO");
  CHECK(t.engine.exceptions.report("2026-11-21").empty());
}

TEST_CASE("a direct payment pays only its case's dues to the receiving parent, or nothing") {
  TestEngine t;
  const auto f = t.family();
  auto& ledger = t.engine.ledger;
  ledger.add_due({f.casegroup, f.case_id, "RP", "active", 20000, {}, std::string("2026-10-01")});
  ledger.add_due({f.casegroup, f.case_id, "RP", "suspended", 5000, {}, {}});
  ledger.add_due({f.casegroup, {}, "SOS_GB", "active", 30000, {}, {}});
  const Id account = ledger.account_of_casegroup(f.casegroup).id;
  CHECK_THROWS_WITH(ledger.record_direct_payment(f.case_id, 20001, "2026-11-01", {}),
                    "a direct payment of £200.01 is more than the £200.00 owed to the receiving "
                    "parent of case " +
                        std::to_string(f.case_id));
  CHECK_THROWS_WITH(ledger.record_direct_payment(999, 100, "2026-11-01", {}),
                    "no case with id 999");
  CHECK_THROWS_AS(ledger.record_direct_payment(f.case_id, 0, "2026-11-01", {}), Error);
  CHECK(ledger.payments(account, {}).empty());
  ledger.record_direct_payment(f.case_id, 15000, "2026-11-01", std::string("SR 1"));
  CHECK(ledger.balance(f.casegroup, std::string("RP"), std::string("active")) == 5000);
  CHECK(ledger.balance(f.casegroup, std::string("SOS_GB"), std::nullopt) == 30000);
  CHECK(ledger.credit(account) == 0);
  // A general payment afterwards goes on in the usual order, the direct one untouched.
  ledger.record_payment(account, 10000, "2026-11-02", {}, {});
  CHECK(ledger.balance(f.casegroup, std::string("RP"), std::string("active")) == 0);
  CHECK(ledger.balance(f.casegroup, std::string("SOS_GB"), std::nullopt) == 25000);
}
