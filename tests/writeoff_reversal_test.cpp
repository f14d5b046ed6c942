// procedures/writeoff_reversal.lua against source 004, branch by branch, with BaNCS
// answering ok and (through the failing adapter) ERR.
#include "engine/domain/bancs.hpp"
#include "tests/durable_support.hpp"

using namespace casekit;
using namespace casekit::test;

namespace {

constexpr Pence kRpActive = 100000;   // owed to the receiving parent
constexpr Pence kSosActive = 20000;   // owed to the Secretary of State
constexpr Pence kCharge = 5000;       // collection charge
constexpr Pence kWrittenOff = 80000;  // arrears written off under JN-1 (plus the charge)

struct Reversal {
  DurableEngine d;
  Family f = d.family();
  Id instance = 0;

  Reversal() {
    for (const char* u : {"carl", "cora"})
      d.engine.users.add(u, "caseworker", std::string("Arrears"));
    for (const char* u : {"tina", "tom"})
      d.engine.users.add(u, "team_leader", std::string("Arrears"));
    d.engine.users.add("sue", "senior_manager", std::string("Arrears"));
    d.engine.ledger.add_due({f.casegroup, f.case_id, "RP", "active", kRpActive, {}, {}});
    d.engine.ledger.add_due({f.casegroup, std::nullopt, "SOS_GB", "active", kSosActive, {}, {}});
    d.engine.ledger.add_charge(f.casegroup, "collection", kCharge);
    d.engine.ledger.write_off(f.casegroup, "JN-1", "2026-06-01", kWrittenOff, kCharge);
  }

  void start() { instance = d.runtime.start("writeoff_reversal", f.casegroup, {}, "carl"); }

  WorkItem open_item() {
    const auto items = d.engine.work_items.list(std::nullopt, false);
    REQUIRE(items.size() == 1);
    return items[0];
  }
  void complete(const std::string& outcome, std::map<std::string, std::string> fields,
                const std::string& user) {
    d.runtime.complete_task(open_item().id, outcome, fields, user);
  }
  void details(const std::string& by = "carl", std::map<std::string, std::string> more = {}) {
    std::map<std::string, std::string> fields = {{"journal_number", "JN-1"},
                                                 {"write_off_date", "2026-06-01"}};
    for (auto& [k, v] : more) fields[k] = v;
    complete("CMG error", fields, by);
  }
  ServiceRequest reversal_sr() {
    SrFilter f2;
    f2.casegroup_id = f.casegroup;
    f2.sub_area = "Reverse write off arrears";
    const auto found = d.engine.srs.list(f2);
    REQUIRE(found.size() == 1);
    return found[0];
  }
  std::optional<std::string> field(const std::string& name) {
    return d.engine.srs.field(reversal_sr().id, name);
  }
  std::vector<std::string> notes() {
    std::vector<std::string> out;
    for (const auto& n : d.engine.srs.notes(reversal_sr().id)) out.push_back(n.body);
    return out;
  }
  Pence balance(const std::string& state) {
    return d.engine.ledger.balance(f.casegroup, std::nullopt, state);
  }
  std::optional<std::string> result() { return d.instance(instance).result; }
  std::int64_t suspend_rows() {
    return d.count(
        "SELECT count(*) FROM payment_requests WHERE kind = 'Suspend - write off liability'");
  }
};

}  // namespace

TEST_CASE("write-off reversal: approved, reversed, unsuspended, a new schedule issued") {
  Reversal r;
  r.d.engine.ledger.issue_schedule({r.f.casegroup, 0, 10000, "monthly", 4, "2026-07-01", {}});
  NewServiceRequest w;
  w.process = "Arrears";
  w.area = "Arrears Management";
  w.sub_area = "Write off arrears";
  w.casegroup_id = r.f.casegroup;
  const Id write_off_sr = r.d.engine.srs.create(w);
  CHECK(r.balance("written_off") == kWrittenOff);
  CHECK(r.balance("active") == kRpActive + kSosActive - kWrittenOff);

  r.start();
  const ServiceRequest s = r.reversal_sr();
  CHECK(s.process == "Arrears");
  CHECK(s.status == "In Progress");
  CHECK(r.d.engine.srs.steps(s.id).size() == 8);
  CHECK(r.open_item().spec.outcomes ==
        std::vector<std::string>{"CMG error", "Maladministration", "3rd party information"});
  r.details("carl", {{"related_srs", std::to_string(write_off_sr)}});

  CHECK(r.field("journal_number") == "JN-1");
  CHECK(r.field("write_off_date") == "2026-06-01");
  CHECK(r.reversal_sr().reason == "CMG error");
  CHECK(r.d.engine.srs.related(s.id) == std::vector<Id>{write_off_sr});
  // Display: one Suspend - write off liability row with BaNCS's figures.
  REQUIRE(r.suspend_rows() == 1);
  CHECK(r.d.count("SELECT amount FROM payment_requests") == kWrittenOff + kCharge);
  CHECK(r.d.count("SELECT rp_written_off FROM payment_requests") == kWrittenOff);
  CHECK(r.d.count("SELECT cmg_written_off FROM payment_requests") == kCharge);
  CHECK(r.reversal_sr().status == "Pending Approval");
  CHECK(r.reversal_sr().sub_status == "Pending Approval TL");
  const WorkItem approval = r.open_item();
  CHECK(approval.spec.inbox == "team_leader");
  CHECK(approval.spec.submitted_by == "carl");
  CHECK(approval.spec.not_by == std::vector<std::string>{"carl"});  // started and entered
  CHECK(r.field("submitted_by") == "carl");

  r.complete("approved", {}, "tina");
  CHECK(r.field("bancs_status") == "ok");
  CHECK(r.field("bancs_message") == "written off arrears reversed in BaNCS");
  CHECK(r.field("reverse_write_off_date") == "2026-11-20");
  CHECK(r.field("reverse_journal_number") == "RV-JN-1");
  CHECK(r.field("reason_code") == "Reverse write off arrears");
  // Reversed, then unsuspended by the child SR: all the arrears are active again, and the
  // charge with them.
  CHECK(r.balance("written_off") == 0);
  CHECK(r.balance("suspended") == 0);
  CHECK(r.balance("active") == kRpActive + kSosActive);
  CHECK(r.d.count("SELECT count(*) FROM charges WHERE state = 'active'") == 1);
  const auto children = r.d.engine.srs.children(s.id);
  REQUIRE(children.size() == 1);
  CHECK(children[0].sub_area == "Unsuspend liabilities");
  CHECK(children[0].status == "Closed");
  // No schedule yet: that comes from the negotiation after the client contact.
  CHECK(r.d.engine.ledger.current_schedule(r.f.casegroup)->version == 1);

  // Step 14, with the optional free-text letter: the only letter the procedure sends, once a
  // senior manager has signed it off.
  r.complete("wishes to negotiate", {{"letter_text", "Your arrears have been reinstated."}},
             "carl");
  CHECK(r.d.engine.letters.list(std::nullopt, 10).empty());
  CHECK(r.reversal_sr().status != "Closed");
  for (const WorkItem& item : r.d.engine.work_items.list(std::nullopt, false)) {
    if (item.spec.kind == "letter_sign_off")
      r.d.runtime.complete_task(item.id, "signed off", {}, "sue");
  }
  const auto letters = r.d.engine.letters.list(std::nullopt, 10);
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].template_code == "CMEL9271");
  CHECK(letters[0].recipient_id == r.f.paying_parent);
  CHECK_THAT(letters[0].body, Catch::Contains("Your arrears have been reinstated."));
  CHECK(r.reversal_sr().status == "Closed");
  CHECK(r.result() == "\"reversed\"");
  // The new schedule is arrears negotiation's, with its debt steer and 40% check.
  const auto notes = r.notes();
  REQUIRE(notes.size() >= 2);
  CHECK_THAT(notes[notes.size() - 2],
             Catch::Contains("New schedule for £1,200.00 of active arrears to replace schedule "
                             "version 1: negotiated by arrears negotiation"));
  CHECK(notes.back() == "CMEL9271 to " + r.d.engine.casegroups.client(r.f.paying_parent).name +
                            " signed off by sue");
  const Instance negotiation = r.d.instance(r.instance + 1);
  CHECK(negotiation.procedure == "arrears_negotiation");
  CHECK(negotiation.status == "waiting");
}

TEST_CASE("write-off reversal: journal number and write-off date are required") {
  Reversal r;
  r.start();
  const auto item = r.open_item();
  CHECK_THROWS_WITH(
      r.d.runtime.complete_task(item.id, "CMG error", {{"write_off_date", "2026-06-01"}}, "carl"),
      Catch::Contains("journal_number"));
  CHECK(r.open_item().id == item.id);  // refused, nothing moved on
  // A date that is no date is sent back with the reason.
  r.complete("CMG error", {{"journal_number", "JN-1"}, {"write_off_date", "2026-02-30"}}, "carl");
  CHECK_THAT(r.notes().back(), Catch::Contains("write-off date '2026-02-30' is not a date"));
  CHECK(r.open_item().spec.kind == "reversal_details");
  CHECK_FALSE(r.field("journal_number"));
  // So is a related SR that is not a part payment or write-off SR.
  r.details("carl", {{"related_srs", "999"}});
  CHECK_THAT(r.notes().back(), Catch::Contains("SR 999 is not a part payment or write off"));
  CHECK(r.suspend_rows() == 0);
}

TEST_CASE("write-off reversal: the amount never exceeds what was written off with charges") {
  Reversal r;
  r.start();
  r.details("carl", {{"amount", std::to_string(kWrittenOff + kCharge + 1)}});
  CHECK_THAT(r.notes().back(), Catch::Contains("Amount £850.01 is more than was written off "
                                               "(£850.00 including collection and enforcement "
                                               "charges)"));
  CHECK(r.open_item().spec.kind == "reversal_details");
  // A part of it is fine: only that part is reversed.
  r.details("carl", {{"amount", "30000"}});
  r.complete("approved", {}, "tina");
  CHECK(r.balance("written_off") == kWrittenOff - 30000);
  CHECK(r.balance("active") == kRpActive + kSosActive - kWrittenOff + 30000);
  r.complete("no contact", {}, "carl");
  CHECK(r.result() == "\"reversed\"");
}

TEST_CASE("write-off reversal: a failed display keeps one row, updated in place on retry") {
  Reversal r;
  LocalBancs local(r.d.db, r.d.clock);
  FailingBancs failing(local, {{"display_written_off", "BaNCS timed out"}});
  r.d.engine.bancs.use(&failing);
  r.start();
  r.details();
  REQUIRE(r.suspend_rows() == 1);
  CHECK(r.d.count("SELECT amount IS NULL FROM payment_requests") == 1);
  CHECK(r.d.count("SELECT bancs_status = 'ERR' FROM payment_requests") == 1);
  CHECK_THAT(r.notes().back(), Catch::Contains("Display written off arrears failed: BaNCS "
                                               "timed out"));
  r.complete("retry", {}, "carl");  // still failing
  CHECK(r.suspend_rows() == 1);
  r.d.engine.bancs.use(nullptr);
  r.complete("retry", {}, "carl");
  CHECK(r.suspend_rows() == 1);
  CHECK(r.d.count("SELECT amount FROM payment_requests") == kWrittenOff + kCharge);
  CHECK(r.d.count("SELECT bancs_status = 'ok' FROM payment_requests") == 1);
  CHECK(r.open_item().spec.inbox == "team_leader");
}

TEST_CASE("write-off reversal: a failed reversal sets ERR and leaves the SR open to retry") {
  Reversal r;
  LocalBancs local(r.d.db, r.d.clock);
  FailingBancs failing(local, {{"reverse_write_off", "journal locked by another process"}});
  r.start();
  r.details();
  r.d.engine.bancs.use(&failing);
  r.complete("approved", {}, "tina");
  CHECK(r.field("bancs_status") == "ERR");
  CHECK(r.field("bancs_message") == "journal locked by another process");
  CHECK_FALSE(r.field("reverse_journal_number"));
  CHECK(r.reversal_sr().status == "In Progress");
  CHECK(r.balance("written_off") == kWrittenOff);  // nothing moved
  CHECK_THAT(r.open_item().spec.title, Catch::Contains("ERR: journal locked"));
  r.d.engine.bancs.use(nullptr);
  r.complete("retry", {}, "carl");
  CHECK(r.field("bancs_status") == "ok");
  CHECK(r.balance("written_off") == 0);
  CHECK(r.balance("active") == kRpActive + kSosActive);
}

TEST_CASE("write-off reversal: the submitter cannot approve, and a rejection needs reasons") {
  Reversal r;
  r.start();
  r.details("tina");  // a team leader may do the caseworker's step, but then not approve it
  const auto approval = r.open_item();
  CHECK_THROWS_WITH(r.d.runtime.complete_task(approval.id, "approved", {}, "tina"),
                    Catch::Contains("submitted"));
  CHECK_THROWS_WITH(r.d.runtime.complete_task(approval.id, "rejected", {}, "tom"),
                    Catch::Contains("reasons"));
  CHECK_THROWS(r.d.runtime.complete_task(approval.id, "approved", {}, "carl"));  // not a TL
  r.complete("rejected", {{"reasons", "journal number does not match the write-off SR"}}, "tom");
  CHECK_THAT(r.notes().back(),
             Catch::Contains("Rejected by the team leader: journal number does not match"));
  CHECK(r.open_item().spec.kind == "rejected_reversal");
  CHECK(r.balance("written_off") == kWrittenOff);

  SECTION("amended and resubmitted, then approved") {
    r.complete("amend and resubmit", {}, "carl");
    r.details("carl");
    CHECK(r.suspend_rows() == 1);  // displayed again, same row
    // carl submitted this time, but tina entered the first details: neither may approve.
    const auto again = r.open_item();
    CHECK(again.spec.submitted_by == "carl");
    CHECK(again.spec.not_by == std::vector<std::string>{"carl", "tina"});
    CHECK_THROWS_WITH(r.d.runtime.complete_task(again.id, "approved", {}, "tina"),
                      Catch::Contains("entered or amended"));
    r.complete("approved", {}, "tom");
    CHECK(r.balance("written_off") == 0);
    r.complete("wishes to negotiate", {}, "carl");
    CHECK(r.result() == "\"reversed\"");
    CHECK(r.d.engine.letters.list(std::nullopt, 10).empty());  // no letter without free text
  }
  SECTION("closed") {
    r.complete("close", {}, "carl");
    CHECK(r.reversal_sr().status == "Closed");
    CHECK(r.reversal_sr().resolution_code == "Rejected");
    CHECK(r.result() == "\"rejected\"");
    CHECK(r.balance("written_off") == kWrittenOff);
  }
}

TEST_CASE("write-off reversal: a journal the ledger does not know is sent back before BaNCS") {
  Reversal r;
  r.start();
  r.complete("Maladministration", {{"journal_number", "JN-404"}, {"write_off_date", "2026-06-01"}},
             "carl");
  CHECK_THAT(r.notes().back(), Catch::Contains("journal JN-404 is not a write-off of this "
                                               "casegroup"));
  CHECK(r.open_item().spec.kind == "reversal_details");            // amend and resubmit
  CHECK(r.d.count("SELECT count(*) FROM payment_requests") == 0);  // BaNCS was not asked
  r.details();
  CHECK(r.open_item().spec.inbox == "team_leader");
  // The ledger refuses a write-off larger than what is there, and changes nothing.
  CHECK_THROWS_WITH(
      r.d.engine.ledger.write_off(r.f.casegroup, "JN-2", "2026-07-01", kRpActive + kSosActive, 0),
      Catch::Contains("less active arrears"));
}
