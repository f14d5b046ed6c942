// procedures/direct_payment_claim.lua against source 000, step 5, branch by branch.
#include "tests/durable_support.hpp"

using namespace casekit;
using namespace casekit::test;
using namespace std::chrono_literals;

namespace {

struct Claim {
  DurableEngine d;
  Family f = d.family();
  Id sr = 0;
  Id instance = 0;

  Claim() {
    d.engine.users.add("carl", "caseworker", std::string("Arrears"));
    // 500.00 owed to the receiving parent, 300.00 to the Secretary of State.
    d.engine.ledger.add_due({f.casegroup, f.case_id, "RP", "active", 50000, {}, {}});
    d.engine.ledger.add_due({f.casegroup, {}, "SOS_GB", "active", 30000, {}, {}});
    NewServiceRequest r;
    r.process = "Arrears";
    r.area = "Arrears Management";
    r.sub_area = "Action Missed Payment";
    r.status = "In Progress";
    r.casegroup_id = f.casegroup;
    sr = d.engine.srs.create(r);
    instance =
        d.runtime.start("direct_payment_claim", f.casegroup, {{"sr", std::to_string(sr)}}, "carl");
  }

  // The open work item's id and title.
  std::pair<Id, std::string> open_item() {
    const auto items = d.engine.work_items.list(std::nullopt, false);
    REQUIRE(items.size() == 1);
    return {items[0].id, items[0].spec.title};
  }
  void complete(const std::string& outcome, std::map<std::string, std::string> fields = {}) {
    d.runtime.complete_task(open_item().first, outcome, fields, "carl");
  }
  std::vector<std::string> notes() {
    std::vector<std::string> out;
    for (const auto& n : d.engine.srs.notes(sr)) out.push_back(n.body);
    return out;
  }
  std::string status() { return d.engine.srs.get(sr).status; }
  Pence owed(const std::string& to) {
    return d.engine.ledger.balance(f.casegroup, to, std::string("active"));
  }
  std::optional<std::string> result() { return d.instance(instance).result; }
};

}  // namespace

TEST_CASE("direct payment claim: the receiving parent confirms, and Direct Pay is offered") {
  Claim c;
  CHECK_THAT(c.notes()[0], Catch::Contains("evidence (e.g. bank statements) within 14 days"));
  CHECK_THAT(c.open_item().second, Catch::Contains("Call the receiving parent"));
  CHECK_THROWS_WITH(c.complete("confirmed"), Catch::Contains("needs field 'amount'"));
  // More than the receiving parent is owed, or a date to come: recorded nowhere, asked again.
  c.complete("confirmed", {{"amount", "50001"}, {"paid_on", "2026-11-18"}});
  CHECK_THAT(c.notes().back(), Catch::Contains("is more than the £500.00 owed"));
  c.complete("confirmed", {{"amount", "12000"}, {"paid_on", "2026-11-21"}});
  CHECK_THAT(c.notes().back(), Catch::Contains("paid_on must be the date"));
  CHECK(c.owed("RP") == 50000);
  c.complete("confirmed", {{"amount", "12000"}, {"paid_on", "2026-11-18"}});
  // The payment reaches the ledger, and pays the receiving parent only.
  CHECK(c.owed("RP") == 38000);
  CHECK(c.owed("SOS_GB") == 30000);
  const auto payments =
      c.d.engine.ledger.payments(c.d.engine.ledger.account_of_casegroup(c.f.casegroup).id, {});
  REQUIRE(payments.size() == 1);
  CHECK(payments[0].method == "direct");
  CHECK(payments[0].case_id == c.f.case_id);
  CHECK(payments[0].allocated == 12000);
  // Source 000 step 5: "If they confirm receipt ... Ask if they wish to change service type
  // to direct pay": the receiving parent is asked.
  CHECK_THAT(c.open_item().second,
             Catch::Contains("Call the receiving parent: do they wish to change service type"));
  c.complete("agreed");
  CHECK(c.result() == R"("confirmed")");
  CHECK(c.notes().back() ==
        "Receiving parent agreed to change service type to Direct Pay: refer to Change - "
        "Service Type - To Direct Pay");
  CHECK(c.status() == "In Progress");  // never put to Wait: no verification needed
}

TEST_CASE("direct payment claim: denied, the SR waits for evidence, acceptable evidence arrives") {
  Claim c;
  c.complete("denied");
  CHECK(c.status() == "Wait");
  CHECK_THROWS_WITH(c.complete("acceptable"), Catch::Contains("needs field 'evidence'"));
  c.complete(
      "acceptable",
      {{"evidence", "bank statement March"}, {"amount", "20000"}, {"paid_on", "2026-11-02"}});
  CHECK(c.status() == "In Progress");
  CHECK(c.owed("RP") == 30000);
  // "If acceptable evidence is received from the paying parent, call them and ask".
  CHECK_THAT(c.open_item().second, Catch::Contains("Call the paying parent"));
  c.complete("declined");
  CHECK(c.result() == R"("evidenced")");
  const auto notes = c.notes();
  CHECK(notes[notes.size() - 2] == "Acceptable evidence received: bank statement March");
  CHECK(notes.back() == "Paying parent declined a change to Direct Pay");
}

TEST_CASE("direct payment claim: no contact and no evidence in 14 days returns to negotiation") {
  Claim c;
  c.complete("no_contact");
  const Id evidence_item = c.open_item().first;
  c.d.advance(13 * 24h);
  CHECK(c.d.instance(c.instance).status == "waiting");
  c.d.advance(24h);
  CHECK(c.result() == R"("negotiate")");
  CHECK(c.notes().back() == "No evidence within 14 days; continue negotiation");
  CHECK(c.d.engine.work_items.get(evidence_item).status == "cancelled");
  CHECK_THROWS_WITH(
      c.d.runtime.complete_task(evidence_item, "acceptable", {{"evidence", "x"}}, "carl"),
      "work item " + std::to_string(evidence_item) + " is already cancelled");
}

TEST_CASE("direct payment claim: evidence that is not acceptable returns to negotiation") {
  Claim c;
  c.complete("denied");
  c.complete("not_acceptable");
  CHECK(c.result() == R"("negotiate")");
  CHECK(c.notes().back() == "Evidence not acceptable; continue negotiation");
  CHECK(c.status() == "In Progress");
  CHECK(c.owed("RP") == 50000);  // nothing recorded
}

TEST_CASE("direct payment claim: the SR must be an Action Missed Payment SR of the casegroup") {
  DurableEngine d;
  const Family ours = d.family("CSA-0000001");
  const Family theirs = d.family("CSA-0000002");
  d.engine.users.add("carl", "caseworker", std::string("Arrears"));
  NewServiceRequest r;
  r.process = "Arrears";
  r.area = "Arrears Management";
  r.sub_area = "Action Missed Payment";
  r.casegroup_id = theirs.casegroup;
  const Id their_sr = d.engine.srs.create(r);
  r.sub_area = "Arrears Review";
  r.casegroup_id = ours.casegroup;
  const Id review_sr = d.engine.srs.create(r);

  for (const Id sr : {their_sr, review_sr}) {
    const Id id = d.runtime.start("direct_payment_claim", ours.casegroup,
                                  {{"sr", std::to_string(sr)}}, "carl");
    const Instance i = d.instance(id);
    CHECK(i.status == "failed");
    CHECK_THAT(i.error.value_or(""),
               Catch::Contains("SR " + std::to_string(sr) +
                               " is not an Action Missed Payment SR of casegroup " +
                               std::to_string(ours.casegroup)));
    CHECK(d.engine.srs.notes(sr).empty());  // nothing done on an SR that is not the claim's
  }
  const Instance none =
      d.instance(d.runtime.start("direct_payment_claim", ours.casegroup, {}, "carl"));
  CHECK_THAT(none.error.value_or(""), Catch::Contains("params.sr"));
  CHECK(d.engine.work_items.list(std::nullopt, false).empty());
}
