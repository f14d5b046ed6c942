// procedures/phase2_transition.lua and `import dw` against sources 002 and 003, branch by
// branch: each test feeds extract rows through the importer and checks what the source says
// must (and must not) happen.
#include <sstream>

#include "engine/runtime/script_runner.hpp"
#include "engine/schedule/schedules.hpp"
#include "engine/transition/dw_extract.hpp"
#include "engine/transition/dw_generate.hpp"
#include "engine/transition/dw_import.hpp"
#include "tests/durable_support.hpp"
#include "tests/dw_support.hpp"

using namespace casekit;
using namespace casekit::test;
using nlohmann::json;

namespace {

struct Transition {
  DurableEngine d;

  Transition() {
    d.engine.users.add("carl", "caseworker", std::string("Financial Transition"));
    d.engine.users.add("tina", "team_leader", std::string("Financial Transition"));
  }

  DwImportCounts import_text(const std::string& text) {
    std::istringstream in(text);
    DwImportOptions options;
    options.batch_rows = 7;  // several batches even in a short test
    return import_dw_extract(d.engine, d.runtime, in, options);
  }
  DwImportCounts import(const std::vector<json>& rows) {
    std::string text;
    for (const auto& r : rows) text += r.dump() + "\n";
    return import_text(text);
  }

  Casegroup casegroup(const std::string& csa_ref) {
    const auto id = d.engine.casegroups.find_by_csa_ref(csa_ref);
    REQUIRE(id);
    return d.engine.casegroups.get(*id);
  }
  Id client(const std::string& nino) {
    const auto id = d.engine.casegroups.find_client_by_nino(nino);
    REQUIRE(id);
    return *id;
  }
  // "owed_to/state/case=amount" for each due, in id order.
  std::vector<std::string> dues(Id casegroup) {
    std::vector<std::string> out;
    for (const auto& due : d.engine.ledger.dues(casegroup)) {
      out.push_back(due.owed_to + "/" + due.state + "/" +
                    (due.case_id ? std::to_string(*due.case_id) : "-") + "=" +
                    std::to_string(due.amount));
    }
    return out;
  }
  std::vector<ServiceRequest> srs(Id casegroup, const std::string& sub_area) {
    SrFilter f;
    f.casegroup_id = casegroup;
    f.sub_area = sub_area;
    return d.engine.srs.list(f);
  }
  std::vector<WorkItem> open_items(const std::string& inbox) {
    return d.engine.work_items.list(inbox, false);
  }
  std::vector<Letter> letters() { return d.engine.letters.list(std::nullopt, 1000); }
  std::string result_of(Id casegroup) {
    auto st = d.db.prepare(
        "SELECT coalesce(i.result, i.status) FROM dw_rows r JOIN instances i "
        "ON i.id = r.instance_id WHERE r.csa_ref = (SELECT csa_ref FROM casegroups WHERE id = ?1)");
    st.bind(1, casegroup);
    REQUIRE(st.step());
    return st.text(0);
  }
  // Every domain table (and with `bookkeeping`, the exceptions and the rows seen), for
  // "nothing changed" checks.
  std::string domain(bool bookkeeping = true) {
    std::string out;
    for (const char* t :
         {"clients", "addresses", "casegroups", "casegroup_flags", "cases", "ledger_accounts",
          "dues", "service_requests", "step_plans", "sr_step_marks", "sr_steps", "sr_notes",
          "letters", "work_items", "instances",
          "(SELECT instance_id, first_seq, last_seq, commands, wait_result, resolved_at FROM "
          "instance_activations)"}) {
      out += std::string(t) + ":\n" + d.dump(t);
    }
    if (bookkeeping)
      out += "exceptions:\n" + d.dump("exceptions") + "dw_rows:\n" + d.dump("dw_rows");
    return out;
  }
};

}  // namespace

TEST_CASE("phase 2: a casegroup with arrears and no case gets an arrears-only case") {
  Transition t;
  json row = dw_row("CSA-0000001");
  row["paying_parent"]["benefit"] = "UC";
  const auto counts = t.import({row});
  CHECK(counts.read == 1);
  CHECK(counts.transitioned == 1);
  CHECK(counts.exceptions == 0);

  const Casegroup g = t.casegroup("CSA-0000001");
  CHECK(g.arrears_only);
  CHECK(g.region == "E&W");
  CHECK(g.segment == "Arrears");
  const Client pp = t.d.engine.casegroups.client(g.paying_parent_id);
  CHECK(pp.nino == "AB000000A");
  CHECK(pp.employment_status == "employed");
  CHECK(pp.benefit_status == "UC");
  REQUIRE(pp.address);
  CHECK(pp.address->postcode == "LS1 1AA");
  const auto cases = t.d.engine.casegroups.cases(g.id);
  REQUIRE(cases.size() == 1);
  CHECK(cases[0].receiving_parent_id == t.client("AB000001A"));
  CHECK(cases[0].csa_scheme == "CSA");
  CHECK(cases[0].csa_case_ref == "CSA-0000001");
  CHECK(t.d.engine.ledger.account_of_casegroup(g.id).mop == "SO");

  // The set-up steps of 002, recorded by the system on the set-up SR.
  const auto setup = t.srs(g.id, "Arrears only case set up");
  REQUIRE(setup.size() == 1);
  CHECK(setup[0].status == "Closed");
  std::vector<std::string> steps;
  for (const auto& s : t.d.engine.srs.steps(setup[0].id)) steps.push_back(s.name + ":" + s.status);
  CHECK(steps == std::vector<std::string>{"Create contact details for the clients:done",
                                          "Verify applicant and input interest flags on CIS:done",
                                          "Verify other party and input interest flags on CIS:done",
                                          "Validate method of payment:done",
                                          "Create new casegroup / link to existing casegroup:done",
                                          "Establish maintenance region:done",
                                          "Retrieve paying parent benefit details from CIS:done"});
  // CMS's interest flags on CIS: the receiving parent as applicant, the paying parent as
  // the other party.
  CHECK(t.d.count("SELECT count(*) FROM cis_interests WHERE casegroup_id = " +
                  std::to_string(g.id) + " AND ((role = 'applicant' AND client_id = " +
                  std::to_string(t.client("AB000001A")) + ") OR (role = 'other_party' AND " +
                  "client_id = " + std::to_string(g.paying_parent_id) + "))") == 2);
  const std::string case_id = std::to_string(cases[0].id);
  CHECK(t.dues(g.id) == std::vector<std::string>{"RP/active/" + case_id + "=125000",
                                                 "RP/deferred/" + case_id + "=2500"});
  CHECK_FALSE(g.flags.size());
}

TEST_CASE("phase 2: dues mirror the balances in all six categories") {
  Transition t;
  json row = dw_row("CSA-0000002");
  row["region"] = "NI";
  row["receiving_parents"][0]["arrears"] = {{"active", 100}, {"suspended", 200}, {"deferred", 300}};
  row["receiving_parents"].push_back(dw_rp("AB000003A", 0, 4000, 0));
  row["sos"] = {{"jurisdiction", "NI"}, {"active", 11}, {"suspended", 22}, {"deferred", 33}};
  t.import({row});
  const Casegroup g = t.casegroup("CSA-0000002");
  const auto cases = t.d.engine.casegroups.cases(g.id);
  REQUIRE(cases.size() == 2);
  const std::string c1 = std::to_string(cases[0].id);
  const std::string c2 = std::to_string(cases[1].id);
  CHECK(t.dues(g.id) == std::vector<std::string>{
                            "RP/active/" + c1 + "=100", "RP/suspended/" + c1 + "=200",
                            "RP/deferred/" + c1 + "=300", "RP/suspended/" + c2 + "=4000",
                            "SOS_NI/active/-=11", "SOS_NI/suspended/-=22", "SOS_NI/deferred/-=33"});
  // Benefit details were not needed: the step is skipped.
  const auto setup = t.srs(g.id, "Arrears only case set up");
  REQUIRE(setup.size() == 1);
  CHECK(t.d.engine.srs.steps(setup[0].id).back().status == "skipped");
}

TEST_CASE("phase 2: an existing case gets the CSA details and the dues, and no new case") {
  Transition t;
  // CMS already has this paying parent with this receiving parent.
  NewClient pp{"AB000000A", "Paul Payer", {},
               {},          {},           Address{"1 High Street", {}, {}, {}, "confirmed"}};
  NewClient rp{
      "AB000001A", "Rita Receiver", {}, {}, {}, Address{"2 Mill Lane", {}, {}, {}, "confirmed"}};
  const Id pp_id = t.d.engine.casegroups.create_client(pp);
  const Id rp_id = t.d.engine.casegroups.create_client(rp);
  NewCasegroup ng;
  ng.paying_parent_id = pp_id;
  const Id group = t.d.engine.casegroups.create(ng);
  const Id case_id = t.d.engine.casegroups.add_case(group, rp_id);
  t.d.engine.ledger.open_account(pp_id, std::nullopt, "DD");

  t.import({dw_row("CSA-0000003")});
  CHECK(t.d.count("SELECT count(*) FROM casegroups") == 1);
  CHECK(t.d.count("SELECT count(*) FROM cases") == 1);
  CHECK(t.d.count("SELECT count(*) FROM clients") == 2);
  const Case c = t.d.engine.casegroups.get_case(case_id);
  CHECK(c.csa_case_ref == "CSA-0000003");
  CHECK(c.csa_scheme == "CSA");
  CHECK(t.dues(group).size() == 2);
  CHECK(t.srs(group, "Arrears only case set up").empty());  // nothing was built
  // The account is kept, with the method of payment the CSA had.
  CHECK(t.d.engine.ledger.account_of_casegroup(group).mop == "SO");
  CHECK_FALSE(t.d.engine.casegroups.get(group).arrears_only);
}

TEST_CASE("phase 2: a new receiving parent is linked into the paying parent's casegroup") {
  Transition t;
  t.import({dw_row("CSA-0000004", "AB000000A", "AB000001A")});
  t.import({dw_row("CSA-0000005", "AB000000A", "AB000009A")});
  const Casegroup g = t.casegroup("CSA-0000004");
  CHECK(t.d.count("SELECT count(*) FROM casegroups") == 1);
  const auto cases = t.d.engine.casegroups.cases(g.id);
  REQUIRE(cases.size() == 2);
  CHECK(cases[1].receiving_parent_id == t.client("AB000009A"));
  CHECK(cases[1].csa_case_ref == "CSA-0000005");
  CHECK(t.srs(g.id, "Arrears only case set up").size() == 2);
  CHECK(t.dues(g.id).size() == 4);
}

TEST_CASE("phase 2: no arrears marks an existing casegroup Transition Complete") {
  Transition t;
  t.import({dw_row("CSA-0000006")});
  const Id group = t.casegroup("CSA-0000006").id;
  const auto dues_before = t.dues(group);
  const auto letters_before = t.letters().size();
  json nothing = dw_row("CSA-0000007");
  nothing["receiving_parents"][0]["arrears"] = {{"active", 0}, {"suspended", 0}, {"deferred", 0}};
  t.import({nothing});
  CHECK(t.d.engine.casegroups.has_flag(group, "transition_complete"));
  CHECK(t.dues(group) == dues_before);
  CHECK(t.letters().size() == letters_before);  // no values were added, so no notices
  CHECK(t.d.engine.casegroups.cases(group)[0].csa_case_ref == "CSA-0000007");
}

TEST_CASE("phase 2: no arrears and no case builds nothing") {
  Transition t;
  json nothing = dw_row("CSA-0000008");
  nothing["receiving_parents"][0]["arrears"] = {{"active", 0}, {"suspended", 0}, {"deferred", 0}};
  const auto counts = t.import({nothing});
  CHECK(counts.transitioned == 1);
  CHECK(t.d.count("SELECT count(*) FROM clients") == 0);
  CHECK(t.d.count("SELECT count(*) FROM casegroups") == 0);
  CHECK(t.d.count("SELECT count(*) FROM instances WHERE result = '\"nothing to transition\"'") ==
        1);
}

TEST_CASE("phase 2: both parents are told the values added") {
  Transition t;
  json row = dw_row("CSA-0000009");
  row["receiving_parents"].push_back(dw_rp("AB000003A", 0, 0, 0));  // owed nothing: no notice
  row["sos"]["active"] = 5000;
  t.import({row});
  const auto letters = t.letters();
  REQUIRE(letters.size() == 2);
  CHECK(letters[0].template_code == "CKTR001");
  CHECK(letters[0].recipient_id == t.client("AB000000A"));
  CHECK_THAT(letters[0].body, Catch::Contains("You owe £1,325.00 in arrears"));
  CHECK_THAT(letters[0].body, Catch::Contains("owed to Rita Receiver 01: £1,275.00 (£1,250.00 "
                                              "active, £25.00 deferred)"));
  CHECK_THAT(letters[0].body, Catch::Contains("owed to the Secretary of State: £50.00"));
  CHECK(letters[1].template_code == "CKTR002");
  CHECK(letters[1].recipient_id == t.client("AB000001A"));
  CHECK_THAT(letters[1].body, Catch::Contains("owes you £1,275.00"));
  CHECK_THAT(letters[1].body, Catch::Contains("CSA-0000009"));
}

TEST_CASE("phase 2: a write-off request with arrears still owed raises an SR and a work item") {
  Transition t;
  json row = dw_row("CSA-0000010");
  row["receiving_parents"][0]["writeoff_requested"] = true;
  row["receiving_parents"].push_back(dw_rp("AB000003A", 0, 0, 0, true));  // nothing owed: no SR
  t.import({row});
  const Casegroup g = t.casegroup("CSA-0000010");
  const auto investigations = t.srs(g.id, "Investigate write off request");
  REQUIRE(investigations.size() == 1);
  CHECK(investigations[0].case_id == t.d.engine.casegroups.cases(g.id)[0].id);
  CHECK_THAT(*investigations[0].reason, Catch::Contains("£1,275.00 is still owed"));
  auto items = t.open_items("caseworker");
  REQUIRE(items.size() == 1);
  CHECK(items[0].spec.sr_id == investigations[0].id);
  // 003: the action is determined once the investigation is done.
  CHECK(t.srs(g.id, "Action Missed Payment").empty());
  CHECK(t.result_of(g.id) == "waiting");

  CHECK_THROWS_WITH(t.d.runtime.complete_task(items[0].id, "arrears stand", {}, "carl"),
                    Catch::Contains("note"));
  t.d.runtime.complete_task(items[0].id, "arrears stand", {{"note", "RP wants them collected"}},
                            "carl");
  const auto closed = t.d.engine.srs.get(investigations[0].id);
  CHECK(closed.status == "Closed");
  CHECK(closed.resolution_code == "arrears stand");
  CHECK(t.srs(g.id, "Action Missed Payment").size() == 1);
  CHECK(t.result_of(g.id) == "\"negotiation\"");
}

TEST_CASE("phase 2: enforcement ongoing moves the casegroup to Enforcement for the case owner") {
  Transition t;
  json row = dw_row("CSA-0000011");
  row["enforcement_ongoing"] = true;
  t.import({row});
  const Casegroup g = t.casegroup("CSA-0000011");
  CHECK(g.segment == "Enforcement");
  CHECK(t.srs(g.id, "Action Missed Payment").empty());
  // 003: a prompt for the case owner at the transfer, the Reassessment Team's search for a
  // liability order in force, then the case owner's Enforcement Actions (Legacy) Input.
  auto prompt = t.open_items("case_owner");
  REQUIRE(prompt.size() == 1);
  CHECK_THAT(prompt[0].spec.title, Catch::Contains("Check Tallyman and the CSA"));
  CHECK(!prompt[0].spec.instance_id);  // nothing waits on the prompt
  const auto lo = t.open_items("reassessment_team");
  REQUIRE(lo.size() == 1);
  t.d.runtime.complete_task(lo[0].id, "no liability order", {}, "carl");
  auto items = t.open_items("case_owner");
  REQUIRE(items.size() == 2);
  CHECK(items[1].spec.kind == "enforcement_actions_input");
  t.d.runtime.complete_task(items[1].id, "input complete", {}, "carl");
  CHECK(t.result_of(g.id) == "\"enforcement\"");
  t.d.runtime.complete_task(prompt[0].id, "records updated", {}, "carl");
}

TEST_CASE("phase 2: an active CSA case gets an Arrears Management SR routed to negotiation") {
  Transition t;
  t.import({dw_row("CSA-0000012")});
  const Casegroup g = t.casegroup("CSA-0000012");
  const auto amp = t.srs(g.id, "Action Missed Payment");
  REQUIRE(amp.size() == 1);
  CHECK(amp[0].reason == "Automated Financial Transition");
  CHECK(amp[0].owner_team == "Arrears");
  // procedures/arrears_negotiation.lua took it up: on an arrears-only casegroup it asks
  // first for the receiving parent's payment details (000, Scheduling Arrears Only Case
  // Groups), then negotiates a schedule.
  CHECK(amp[0].status == "In Progress");
  CHECK(t.result_of(g.id) == "\"negotiation\"");
  const auto details = t.open_items("caseworker");
  REQUIRE(details.size() == 1);
  CHECK(details[0].spec.kind == "receiving_parent_payment_details");
  CHECK(details[0].team == "Arrears");  // the Arrears team's work from here
  t.d.engine.users.add("anna", "caseworker", std::string("Arrears"));
  t.d.runtime.complete_task(details[0].id, "held", {}, "anna");
  CHECK(t.srs(g.id, "Action Missed Payment")[0].sub_status == "Pending Negotiation");
}

TEST_CASE("phase 2: arrears negotiation is started where it exists") {
  Transition t;
  t.d.procedure("arrears_negotiation", R"(return procedure{name = "arrears_negotiation",
      run = function(ctx)
        local given = {}
        for k, v in pairs(ctx.params) do given[#given + 1] = k .. "=" .. v end
        return table.concat(given, ",")
      end})");
  t.import({dw_row("CSA-0000013")});
  const Casegroup g = t.casegroup("CSA-0000013");
  const auto amp = t.srs(g.id, "Action Missed Payment");
  REQUIRE(amp.size() == 1);
  auto st = t.d.db.prepare(
      "SELECT casegroup_id, result FROM instances WHERE procedure = 'arrears_negotiation'");
  REQUIRE(st.step());
  CHECK(st.integer(0) == g.id);
  // Only the SR is handed over: its reason says why it is negotiated.
  CHECK(st.text(1) == "\"sr=" + std::to_string(amp[0].id) + "\"");
  CHECK(amp[0].reason == "Automated Financial Transition");
}

TEST_CASE("phase 2: an inactive CSA case is left arrears-only, not proactively worked") {
  Transition t;
  json row = dw_row("CSA-0000014");
  row["csa_case_active"] = false;
  t.import({row});
  const Casegroup g = t.casegroup("CSA-0000014");
  CHECK(g.segment == "Arrears");
  CHECK(t.srs(g.id, "Action Missed Payment").empty());
  CHECK(t.d.engine.work_items.list(std::nullopt, false).empty());
  CHECK(t.result_of(g.id) == "\"arrears only\"");
}

TEST_CASE("phase 2: a bad row goes to the exceptions report and leaves nothing else") {
  Transition t;
  t.import({dw_row("CSA-0000020", "AB000000A", "AB000001A")});
  const std::string before = t.domain(false);
  json bad = dw_row("CSA-0000021", "AB000005A", "AB000006A");
  bad["receiving_parents"][0]["arrears"]["active"] = -10;
  json no_nino = dw_row("CSA-0000022", "AB000007A", "AB000008A");
  no_nino["paying_parent"].erase("nino");
  const auto counts = t.import_text(bad.dump() + "\n" + no_nino.dump() + "\n{\"csa_ref\": oops\n");
  CHECK(counts.read == 3);
  CHECK(counts.exceptions == 3);
  CHECK(counts.transitioned == 0);
  const auto report = t.d.engine.exceptions.report("2026-11-20");
  REQUIRE(report.size() == 3);
  CHECK(report[0].csa_ref == "CSA-0000021");
  CHECK(report[0].reason == "receiving_parents[1].arrears.active: -10 is negative");
  CHECK(report[1].reason == "paying_parent.nino: missing");
  CHECK_FALSE(report[2].csa_ref);
  // Nothing but the exceptions and the record of the rows seen.
  CHECK(t.domain(false) == before);
  CHECK(t.d.count("SELECT count(*) FROM dw_rows WHERE outcome = 'exception'") == 3);
}

TEST_CASE("phase 2: importing the same extract again changes nothing") {
  Transition t;
  std::ostringstream extract;
  generate_dw_extract(extract, {60, 3, 0.1, "2026-11-20"});
  const auto first = t.import_text(extract.str());
  CHECK(first.read == 60);
  CHECK(first.transitioned + first.exceptions == 60);
  CHECK(first.exceptions > 0);
  const std::string before = t.domain();
  // Only the import's own record, its run, is new.
  const char* audit = "SELECT count(*) FROM audit WHERE entity <> 'runs'";
  const auto audit_before = t.d.count(audit);
  const auto second = t.import_text(extract.str());
  CHECK(second.read == 60);
  CHECK(second.duplicates == 60);
  CHECK(second.transitioned == 0);
  CHECK(second.exceptions == 0);
  CHECK(t.domain() == before);
  CHECK(t.d.count(audit) == audit_before);
  CHECK(t.d.count("SELECT count(*) FROM runs WHERE script = 'import dw' AND status = "
                  "'succeeded' AND rows_read = 60") == 2);
}

TEST_CASE("phase 2: an import is a run whose progress is kept with each batch") {
  Transition t;
  std::ostringstream extract;
  generate_dw_extract(extract, {25, 4, 0.0, "2026-11-20"});
  // An import killed part way left its run running; the next one says so.
  t.d.engine.db.exec(
      "INSERT INTO runs(script, trigger, started_at, status, rows_read, progress_at) VALUES "
      "('import dw', 'manual', '2026-11-19T09:00:00Z', 'running', 7, '2026-11-19T09:00:01Z')");
  Schedules schedules(t.d.engine, {}, {}, &t.d.runtime);
  std::vector<std::pair<std::int64_t, std::string>> seen;
  DwImportOptions options;
  options.batch_rows = 10;
  options.progress_every = 1;
  options.total_rows = 25;
  options.progress = [&](const DwImportCounts&) {
    // What another process sees between batches; the clock moves a second a batch.
    const Run run = schedules.runs(std::nullopt, 1).front();
    seen.emplace_back(run.rows_read.value_or(-1), run.status);
    t.d.clock.set(t.d.clock.now() + std::chrono::seconds(1));
  };
  std::istringstream in(extract.str());
  const auto counts = import_dw_extract(t.d.engine, t.d.runtime, in, options);
  CHECK(counts.transitioned == 25);
  CHECK(seen == std::vector<std::pair<std::int64_t, std::string>>{
                    {10, "running"}, {20, "running"}, {25, "running"}});
  const auto runs = schedules.runs(std::nullopt, 2);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].status == "succeeded");
  CHECK(runs[0].rows_total == 25);
  CHECK(runs[0].message == "read 25 rows: 25 transitioned, 0 exceptions, 0 duplicates, 0 failed");
  const auto progress = to_json(runs[0])["progress"];
  CHECK(progress["rows_read"] == 25);
  CHECK(progress["rows_per_second"] == 12.5);  // 25 rows, the last batch 2 s after the start
  CHECK(runs[1].status == "failed");
  CHECK_THAT(runs[1].message.value_or(""), Catch::Contains("stopped before the end"));
}

TEST_CASE("phase 2: a corrected row for a casegroup that was an exception is taken in") {
  Transition t;
  json row = dw_row("CSA-0000030");
  json bad = row;
  bad["region"] = "Wales";
  CHECK(t.import({bad}).exceptions == 1);
  const auto fixed = t.import({bad, row});
  CHECK(fixed.duplicates == 1);
  CHECK(fixed.transitioned == 1);
  CHECK(t.casegroup("CSA-0000030").region == "E&W");
}

TEST_CASE("phase 2: a row whose transition fails is counted, and the rest of its batch lands") {
  // A transition that stops with an incident leaves nothing of its casegroup behind; the
  // other rows of its batch are transitioned once each.
  Transition t;
  const auto file = t.d.engine.home.procedures() / "phase2_transition.lua";
  std::string source = read_script(file);
  const std::string start = "    local row = ctx.input\n";
  REQUIRE(source.find(start) != std::string::npos);
  source.replace(
      source.find(start), start.size(),
      start + "    if row.csa_ref:match(\"[38]$\") then error(\"cannot transition\") end\n");
  write_file(file, source);
  std::vector<json> rows;
  for (int i = 0; i < 10; ++i) {
    const std::string n = std::to_string(10 + i);
    rows.push_back(dw_row("CSA-00000" + n, "AB1000" + n + "A", "AB2000" + n + "A"));
  }
  const auto counts = t.import(rows);  // batches of 7: a failure in each
  CHECK(counts.read == 10);
  CHECK(counts.failed == 2);
  CHECK(counts.transitioned == 8);
  CHECK(t.d.count("SELECT count(*) FROM incidents") == 2);
  CHECK_FALSE(t.d.engine.casegroups.find_by_csa_ref("CSA-0000013"));
  CHECK_FALSE(t.d.engine.casegroups.find_by_csa_ref("CSA-0000018"));
  CHECK(t.d.count("SELECT count(*) FROM casegroups") == 8);
  CHECK(t.d.count("SELECT count(*) FROM instances WHERE procedure = 'arrears_negotiation'") == 8);
}

TEST_CASE("phase 2: a row that starts with a byte order mark is taken in") {
  // JSON allows the mark only at the start of a document: the instance's input, which
  // wraps the row, is written again instead of copied as it came.
  Transition t;
  const auto counts = t.import_text("\xEF\xBB\xBF" + dw_row("CSA-0000040").dump() + "\n");
  CHECK(counts.transitioned == 1);
  CHECK(counts.failed == 0);
  CHECK(t.casegroup("CSA-0000040").region == "E&W");
}

TEST_CASE("phase 2: every transitioned casegroup's dues equal its extract balances") {
  Transition t;
  std::ostringstream extract;
  generate_dw_extract(extract, {250, 11, 0.05, "2026-11-20"});
  const auto counts = t.import_text(extract.str());
  CHECK(counts.failed == 0);
  std::istringstream lines(extract.str());
  std::string line;
  int checked = 0;
  while (std::getline(lines, line)) {
    const auto parsed = parse_dw_row(line);
    const auto* row = std::get_if<DwRow>(&parsed);
    if (!row || row->total() == 0) continue;
    // The casegroup the row's dues went to: its own, or the paying parent's earlier one.
    auto st =
        t.d.db.prepare("SELECT c.casegroup_id FROM cases c WHERE c.csa_case_ref = ?1 LIMIT 1");
    st.bind(1, row->csa_ref);
    REQUIRE(st.step());
    const Id group = st.integer(0);
    const std::string origin = "CSA transition " + row->csa_ref;
    const auto sum = [&](const std::string& owed_to, const std::string& state,
                         std::optional<std::string> nino) {
      auto q = t.d.db.prepare(
          "SELECT coalesce(sum(d.amount), 0) FROM dues d LEFT JOIN cases c ON c.id = d.case_id "
          "LEFT JOIN clients r ON r.id = c.receiving_parent_id WHERE d.casegroup_id = ?1 AND "
          "d.origin = ?2 AND d.owed_to = ?3 AND d.state = ?4 AND (?5 IS NULL OR r.nino = ?5)");
      q.bind_all(group, origin, owed_to, state, nino);
      q.step();
      return q.integer(0);
    };
    for (std::size_t i = 0; i < row->receiving_parents.size(); ++i) {
      const std::string nino = row->json["receiving_parents"][i]["nino"];
      const auto& a = row->receiving_parents[i];
      CHECK(sum("RP", "active", nino) == a.active);
      CHECK(sum("RP", "suspended", nino) == a.suspended);
      CHECK(sum("RP", "deferred", nino) == a.deferred);
    }
    const std::string sos = "SOS_" + row->json["sos"]["jurisdiction"].get<std::string>();
    CHECK(sum(sos, "active", std::nullopt) == row->sos.active);
    CHECK(sum(sos, "suspended", std::nullopt) == row->sos.suspended);
    CHECK(sum(sos, "deferred", std::nullopt) == row->sos.deferred);
    ++checked;
  }
  CHECK(checked > 200);
}

TEST_CASE("phase 2: the exceptions job gives the team leader one work item a day") {
  Transition t;
  json bad = dw_row("CSA-0000040");
  bad["region"] = "Wales";
  t.import({bad, dw_row("CSA-0000041")});
  const auto script = t.d.engine.home.scripts() / "allocate_transition_exceptions.lua";
  exec_script(t.d.engine, script, {}, [](std::string_view) {});
  exec_script(t.d.engine, script, {}, [](std::string_view) {});
  const auto items = t.open_items("team_leader");
  REQUIRE(items.size() == 1);
  CHECK(items[0].spec.kind == "allocate_exceptions");
  CHECK_THAT(items[0].spec.title, Catch::Contains("Allocate 1 transition exception of 2026-11-20 "
                                                  "(CSA-0000040)"));
  // A caseworker cannot take the team leader's allocation.
  CHECK_THROWS(t.d.runtime.complete_task(items[0].id, "allocated", {}, "carl"));
  t.d.runtime.complete_task(items[0].id, "allocated", {}, "tina");
  // Another day without exceptions: nothing new.
  t.d.clock.set(t.d.clock.now() + std::chrono::days(1));
  exec_script(t.d.engine, script, {}, [](std::string_view) {});
  CHECK(t.open_items("team_leader").empty());
}
