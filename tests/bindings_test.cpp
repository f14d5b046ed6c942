// Each binding with a good call and with bad arguments. Errors must name the function,
// the argument and the script line.
#include "bindings/journal.hpp"
#include "bindings/lua_json.hpp"
#include "bindings/modules.hpp"
#include "test_support.hpp"

using namespace casekit;
using casekit::test::TestEngine;

namespace {

// Lua that builds one family; later snippets reach it with case.get(1) / case.client(n).
constexpr const char* kFamily = R"lua(
local pp = case.create_client{name = "Sam Payer", nino = "AB123456C", dob = "1980-02-03",
  address = {line1 = "1 High St", town = "Leeds", postcode = "LS1 1AA"}}
local rp = case.create_client{name = "Alex Receiver", nino = "CD654321A",
  address = {line1 = "2 Low Rd", postcode = "YO1 1BB", status = "confirmed"}}
local cg = case.create_casegroup{paying_parent = pp, csa_ref = "CSA-0000001", segment = "Arrears",
  arrears_only = true, region = "Scotland", review_date = "2027-05-01"}
cg:add_case{receiving_parent = rp, csa_scheme = "2003", csa_case_ref = "C-1"}
payment.open_account{client = pp, method = "SO"}
)lua";

struct BadCall {
  const char* code;
  const char* message;
};

void check_errors(TestEngine& t, std::initializer_list<BadCall> calls) {
  for (const auto& c : calls) {
    INFO(c.code);
    const std::string message = t.error_of(c.code);
    CHECK_THAT(message, Catch::StartsWith("test.lua:1:"));
    CHECK_THAT(message, Catch::Contains(c.message));
  }
}

}  // namespace

TEST_CASE("case: good calls") {
  TestEngine t;
  t.run(kFamily);
  const std::string out = t.run(R"lua(
    local cg = case.get(1)
    assert(cg.id == 1 and cg.csa_ref == "CSA-0000001" and cg.segment == "Arrears")
    assert(cg.region == "Scotland" and cg.arrears_only and cg.review_date == "2027-05-01")
    assert(cg.service_type == "Collect & Pay" and cg.annual_review_date == nil)
    assert(case.find{csa_ref = "CSA-0000001"} == cg)
    assert(case.find{csa_ref = "CSA-404"} == nil)
    assert(#case.list{} == 1 and #case.list{segment = "Maintenance"} == 0)
    local pp = cg.paying_parent
    assert(pp.name == "Sam Payer" and pp.nino == "AB123456C" and pp.dob == "1980-02-03")
    assert(pp.address.town == "Leeds" and pp.address.status == "confirmed")
    assert(case.find_client{nino = "CD654321A"}.name == "Alex Receiver")
    assert(case.client(pp.id) == pp)
    local c = cg:cases()[1]
    assert(c.casegroup == cg and c.receiving_parent.name == "Alex Receiver")
    assert(c.status == "Open" and c.csa_scheme == "2003" and c.csa_case_ref == "C-1")
    cg:set_flag("transition_complete")
    assert(cg:has_flag("transition_complete") and cg:flags()[1] == "transition_complete")
    cg:set_flag("transition_complete", false)
    assert(not cg:has_flag("transition_complete"))
    cg:set_segment("Enforcement")
    cg:set_service_type("Direct Pay")
    cg:set_review_date(nil)
    assert(cg.segment == "Enforcement" and cg.service_type == "Direct Pay" and cg.review_date == nil)
    pp:set_employment_status("employed")
    pp:set_benefit_status(nil)
    pp:set_contact_suppressed(true)
    pp:set_deceased(false)
    pp:set_address{line1 = "PO Box 9", status = "DLO"}
    assert(pp.employment_status == "employed" and pp.contact_suppressed and not pp.deceased)
    assert(pp.address.status == "DLO" and pp.address.line1 == "PO Box 9")
    print(tostring(cg), tostring(pp))
  )lua");
  CHECK(out == "Casegroup 1\tClient 1\n");
}

TEST_CASE("case: bad arguments") {
  TestEngine t;
  t.run(kFamily);
  check_errors(
      t,
      {
          {"case.get('1')", "bad argument #1 'id' to 'case.get' (integer expected, got string)"},
          {"case.get(1.5)", "(integer expected, got float)"},
          {"case.get(99)", "case.get: no casegroup with id 99"},
          {"case.find{ref = 'x'}", "unknown field 'ref'; expected: csa_ref"},
          {"case.find('x')", "bad argument #1 'query' to 'case.find' (table expected, got string)"},
          {"case.list{limit = 0}", "field 'limit' (must be between 1 and 10000)"},
          {"case.list{segment = 'Nowhere'}", "unknown segment 'Nowhere'"},
          {"case.client(true)", "bad argument #1 'id' to 'case.client'"},
          {"case.find_client{nino = 5}", "field 'nino' (string expected, got number)"},
          {"case.create_client{}", "field 'name' (string expected, got nil)"},
          {"case.create_client{name = 'X', dob = '1980-13-01'}", "field 'dob' (date YYYY-MM-DD"},
          {"case.create_client{name = 'X', address = {line1 = 'a', status = 'moon'}}",
           "unknown address status 'moon'"},
          {"case.create_client{name = 'X', nino = 'AB123456C'}", "already exists"},
          {"case.create_casegroup{paying_parent = case.get(1)}",
           "field 'paying_parent' (Client or id expected, got Casegroup)"},
          {"case.create_casegroup{paying_parent = 1, region = 'Wales'}", "unknown region 'Wales'"},
          {"case.get(1):set_flag('shiny')", "Casegroup:set_flag: unknown flag 'shiny'"},
          {"case.get(1):set_flag('lock_assignment', 'yes')",
           "bad argument #3 'on' to 'Casegroup:set_flag' (boolean expected, got string)"},
          {"case.get(1):has_flag()", "bad argument #2 'flag'"},
          {"case.get(1):set_segment(7)", "bad argument #2 'segment'"},
          {"case.get(1):set_service_type('Pigeon')", "unknown service type 'Pigeon'"},
          {"case.get(1):set_review_date('soon')", "bad argument #2 'date'"},
          {"case.get(1):add_case{receiving_parent = case.get(1).paying_parent}",
           "cannot be the casegroup's paying parent"},
          {"case.get(1).set_segment(case.client(1), 'Arrears')",
           "bad argument #1 'self' to 'Casegroup:set_segment' (Casegroup expected, got Client)"},
          {"local x = case.get(1).segmnt", "Casegroup has no field or method 'segmnt'"},
          {"case.get(1).segment = 'x'", "Casegroup fields are read-only"},
          {"case.client(1):set_deceased('no')", "bad argument #2 'value'"},
          {"case.client(1):set_address{line2 = 'x'}", "field 'line1' (string expected, got nil)"},
      });
}

TEST_CASE("sr: good calls") {
  TestEngine t;
  t.run(kFamily);
  t.run(R"lua(
    local cg = case.get(1)
    local s = sr.create{process = "arrears", area = "arrears management",
      sub_area = "reverse write off arrears", casegroup = cg, reason = "CMG error"}
    assert(s.process == "Arrears" and s.area == "Arrears Management")
    assert(s.sub_area == "Reverse write off arrears" and s.status == "Open" and s.is_open)
    assert(s.reason == "CMG error" and s.casegroup == cg and s.case == nil and s.parent == nil)
    assert(s.owner_team == "Arrears" and s.created_at == "2026-11-20T09:00:00Z")
    s:set_status("Pending Approval", "Pending Approval TL")
    assert(s.status == "Pending Approval" and s.sub_status == "Pending Approval TL")
    s:set_reason("Maladministration")
    s:set_resolution_code("Reverse write off arrears")
    s:add_note("journal checked")
    assert(s:notes()[1].text == "journal checked" and s:notes()[1].author == "test")
    s:set_field("journal_number", "J-77")
    s:set_field("attempts", 2)
    assert(s:field("journal_number") == "J-77" and s:fields().attempts == "2")
    s:set_field("attempts", nil)
    assert(s:field("attempts") == nil)
    s:add_step("Display written off arrears")
    s:add_step("Team leader approval")
    s:complete_step("Display written off arrears")
    s:skip_step("Team leader approval")
    local steps = s:steps()
    assert(steps[1].status == "done" and steps[2].status == "skipped" and steps[2].seq == 2)
    local child = sr.create{process = "Payments", area = "Manage liabilities",
      sub_area = "Unsuspend liabilities", parent = s, case = cg:cases()[1]}
    assert(child.parent == s and child.casegroup == cg and s:children()[1] == child)
    local other = sr.create{process = "Arrears", area = "Arrears Management",
      sub_area = "Write off arrears", casegroup = cg.id}
    s:relate(other)
    assert(other:related()[1] == s)
    assert(sr.get(s.id) == s)
    assert(#sr.find{casegroup = cg, open = true} == 3)
    assert(#sr.find{sub_area = "write off arrears"} == 1)
    s:close("Complete", "Reverse write off arrears")
    assert(not s.is_open and s.closed_at ~= nil and s.resolution_code == "Reverse write off arrears")
    assert(#sr.find{casegroup = cg, open = true} == 2)
    assert(#sr.find{status = "Closed"} == 1)
  )lua");
}

TEST_CASE("sr: bad arguments") {
  TestEngine t;
  t.run(kFamily);
  t.run("sr.create{process='Arrears', area='Arrears Management', sub_area='Arrears Review'}");
  check_errors(
      t,
      {
          {"sr.create{process='Arrears', area='Arrears Management', sub_area='Tea'}",
           "sr.create: unknown SR type 'Arrears / Arrears Management / Tea'"},
          {"sr.create{process='Arrears', area='X'}", "field 'sub_area' (string expected, got nil)"},
          {"sr.create{process='Arrears', area='Arrears Management', sub_area='Arrears Review', "
           "casegroup = 'one'}",
           "field 'casegroup' (Casegroup or id expected, got string)"},
          {"sr.create{process='Arrears', area='Arrears Management', sub_area='Arrears Review', "
           "status = 'Closed'}",
           "cannot be created with status 'Closed'"},
          {"sr.create{process='Arrears', area='Arrears Management', sub_area='Arrears Review', "
           "colour = 'red'}",
           "unknown field 'colour'"},
          {"sr.get(-1)", "sr.get: no SR with id -1"},
          {"sr.get()", "bad argument #1 'id' to 'sr.get' (integer expected, got no value)"},
          {"sr.find{open = 'yes'}", "field 'open' (boolean expected, got string)"},
          {"sr.find{status = 'Snoozing'}", "unknown SR status 'Snoozing'"},
          {"sr.get(1):set_status('Dozing')", "SR:set_status: unknown SR status 'Dozing'"},
          {"sr.get(1):set_status(1)", "bad argument #2 'status' to 'SR:set_status'"},
          {"sr.get(1):close()", "bad argument #2 'sub_status' to 'SR:close'"},
          {"sr.get(1):add_note('')", "an SR note cannot be empty"},
          {"sr.get(1):add_note()", "bad argument #2 'text'"},
          {"sr.get(1):set_field('x', {})", "bad argument #3 'value'"},
          {"sr.get(1):field()", "bad argument #2 'name'"},
          {"sr.get(1):complete_step('Nope')", "has no activity step 'Nope'"},
          {"sr.get(1):relate(sr.get(1))", "cannot be related to itself"},
          {"sr.get(1):relate('x')", "bad argument #2 'other' to 'SR:relate' (SR or id expected"},
          {"sr.get(1):set_reason(false)", "bad argument #2 'reason'"},
          {"sr.get(1):set_resolution_code(3)", "bad argument #2 'code'"},
          {"sr.get(1):add_step('')", "needs a name"},
          {"sr.get(1):skip_step()", "bad argument #2 'name'"},
          {"sr.get(1).children(case.get(1))", "(SR expected, got Casegroup)"},
      });
  t.run("sr.get(1):close('Cancelled')");
  check_errors(t, {{"sr.get(1):set_status('In Progress')", "SR 1 is closed"},
                   {"sr.get(1):add_step('x')", "SR 1 is closed"}});
}

TEST_CASE("payment: good calls") {
  TestEngine t;
  t.run(kFamily);
  t.run(R"lua(
    local cg = case.get(1)
    local c = cg:cases()[1]
    local acct = payment.account(cg)
    assert(acct.bancs_number == "BN00000001" and acct.method == "SO" and acct.method_status == "active")
    assert(acct.client == cg.paying_parent and payment.account(1) == acct)
    local d = payment.add_due{casegroup = cg, case = c, owed_to = "RP", amount = 125000, origin = "CSA"}
    payment.add_due{casegroup = cg, owed_to = "SOS_GB", state = "deferred", amount = 2500}
    assert(math.type(d) == "integer")
    assert(payment.balance{casegroup = cg} == 127500)
    assert(payment.balance{casegroup = cg, owed_to = "RP"} == 125000)
    assert(payment.balance{casegroup = cg, state = "deferred"} == 2500)
    local dues = payment.dues(cg)
    assert(#dues == 2 and dues[1].case == c and dues[1].state == "active" and dues[2].case == nil)
    payment.set_due_state(d, "suspended")
    assert(payment.balance{casegroup = cg, state = "suspended"} == 125000)
    assert(math.type(payment.add_charge{casegroup = cg, kind = "collection", amount = 400}) == "integer")
    payment.add_charge{casegroup = cg, kind = "enforcement", amount = 3000}
    local charges = payment.charges(cg)
    assert(#charges == 2 and charges[1].kind == "collection" and charges[1].amount == 400)
    assert(charges[2].kind == "enforcement" and charges[2].state == "active")
    payment.record{account = acct, amount = 5000, date = "2026-11-01", method = "SO", reference = "R1"}
    payment.record{account = acct, amount = 2000, date = "2026-11-10"}
    assert(payment.paid{account = acct} == 7000 and payment.paid{account = acct, since = "2026-11-05"} == 2000)
    local s = payment.issue_schedule{casegroup = cg, amount_per_period = 5000, periods = 25,
      first_collection_date = "2026-12-01", acceptable = true}
    assert(s.version == 1 and s.frequency == "monthly" and s.lump_sum == 0 and s.in_place and s.acceptable)
    s = payment.issue_schedule{casegroup = cg, amount_per_period = 4000, periods = 30, lump_sum = 10000,
      frequency = "weekly", first_collection_date = "2026-12-07"}
    assert(s.version == 2 and payment.schedule(cg).version == 2 and payment.schedule(cg).acceptable == nil)
    acct:set_method("DD", "suspended")
    assert(acct.method == "DD" and acct.method_status == "suspended")
    acct:set_method(nil)
    assert(acct.method == nil and acct.method_status == nil)
  )lua");
}

TEST_CASE("payment: bad arguments") {
  TestEngine t;
  t.run(kFamily);
  t.run("case.create_casegroup{paying_parent = case.client(2)}");
  check_errors(
      t,
      {
          {"payment.account(2)",
           "payment.account: the paying parent of casegroup 2 has no ledger account"},
          {"payment.account('x')",
           "bad argument #1 'casegroup' to 'payment.account' (Casegroup or id expected"},
          {"payment.open_account{client = case.client(1)}", "already has a ledger account"},
          {"payment.open_account{client = case.client(2), method = 'Cheque'}",
           "unknown method of payment 'Cheque'"},
          {"payment.add_due{casegroup = 1, owed_to = 'RP', amount = 100}", "needs its case"},
          {"payment.add_due{casegroup = 1, case = 1, owed_to = 'RP', amount = 12.5}",
           "field 'amount' (pence must be an integer, got float 12.5"},
          {"payment.add_due{casegroup = 1, case = 1, owed_to = 'RP', amount = 2.0}",
           "pence must be an integer, got float 2"},
          {"payment.add_due{casegroup = 1, case = 1, owed_to = 'RP', amount = '100'}",
           "field 'amount' (integer expected, got string)"},
          {"payment.add_due{casegroup = 1, case = 1, owed_to = 'RP', amount = -1}",
           "must not be negative"},
          {"payment.add_due{casegroup = 1, owed_to = 'SOS_XX', amount = 1}",
           "unknown owed_to 'SOS_XX'"},
          {"payment.add_due{casegroup = 1, case = 1, owed_to = 'RP', state = 'frozen', amount = 1}",
           "unknown due state 'frozen'"},
          {"payment.dues()", "bad argument #1 'casegroup' to 'payment.dues'"},
          {"payment.charges(99)", "payment.charges: no casegroup with id 99"},
          {"payment.dues(99)", "payment.dues: no casegroup with id 99"},
          {"payment.charges('CSA-1')",
           "bad argument #1 'casegroup' to 'payment.charges' (Casegroup or id expected, got "
           "string)"},
          {"payment.balance{casegroup = 1, state = 'x'}", "unknown due state 'x'"},
          {"payment.set_due_state(99, 'active')", "no due with id 99"},
          {"payment.add_charge{casegroup = 1, kind = 'late', amount = 1}",
           "unknown charge kind 'late'"},
          {"payment.record{account = 1, amount = 0, date = '2026-11-01'}", "must be positive"},
          {"payment.record{account = 1, amount = 10}",
           "field 'date' (date YYYY-MM-DD expected, got nil)"},
          {"payment.record{account = 99, amount = 10, date = '2026-11-01'}",
           "no ledger account with id 99"},
          {"payment.paid{account = 1, since = 'yesterday'}", "field 'since' (date YYYY-MM-DD"},
          {"payment.issue_schedule{casegroup = 1, amount_per_period = 100, first_collection_date = "
           "'2026-12-01'}",
           "field 'periods' (integer expected, got nil)"},
          {"payment.issue_schedule{casegroup = 1, amount_per_period = 100, periods = 2, "
           "first_collection_date = '2026-12-01', frequency = 'daily'}",
           "unknown frequency 'daily'"},
          {"payment.schedule({})", "bad argument #1 'casegroup' to 'payment.schedule'"},
          {"payment.account(1):set_method('DD', 'paused')",
           "unknown method of payment status 'paused'"},
      });
}

TEST_CASE("money: checked arithmetic") {
  TestEngine t;
  CHECK(t.run("print(money.add(1, 2), money.sub(5, 7), money.mul(2500, 12), money.sum{1, 2, 3}, "
              "money.div_ceil(100001, 5000), money.format(125050))") ==
        "3\t-2\t30000\t6\t21\t£1,250.50\n");
  check_errors(
      t, {
             {"money.add(math.maxinteger, 1)", "money.add: money overflow in add"},
             {"money.sub(math.mininteger, 1)", "money overflow in sub"},
             {"money.mul(math.maxinteger, 2)", "money overflow in mul"},
             {"money.add(1.5, 1)", "bad argument #1 'a' to 'money.add' (pence must be an integer"},
             {"money.add(1, '1')",
              "bad argument #2 'b' to 'money.add' (integer expected, got string)"},
             {"money.sum{1, 2.5}", "element 2 is not integer pence"},
             {"money.sum(5)", "bad argument #1 'amounts'"},
             {"money.div_ceil(10, 0)",
              "bad argument #2 'divisor' to 'money.div_ceil' (must be positive)"},
             {"money.format(0.5)", "pence must be an integer"},
         });
}

TEST_CASE("letter: send, get, templates") {
  TestEngine t;
  t.run(kFamily);
  const std::string out = t.run(R"lua(
    local cg = case.get(1)
    local s = sr.create{process = "Arrears", area = "Arrears Management",
      sub_area = "Action Missed Payment", casegroup = cg}
    local l = letter.send{template = "CMSL6000", to = cg:cases()[1].receiving_parent, casegroup = cg,
      sr = s, fields = {amount_missed = money.format(5000), due_date = "2026-11-01"}}
    assert(l.status == "queued" and l.template == "CMSL6000" and l.recipient.name == "Alex Receiver")
    assert(letter.get(l.id) == l)
    local lo = letter.send{template = "CMSB046", to = cg.paying_parent,
      fields = {lo_reference = "LO-77"}}
    assert(lo.body:find("always quote this reference: LO-77", 1, true))
    local codes = table.concat(letter.templates(), ",")
    print(codes)
  )lua");
  CHECK(out == "CMSL6000,CMSL6051,CMSL6056,CMEL7402,CMEL9271,CMEL9116,CMSB046,CKTR001,CKTR002\n");
  check_errors(
      t, {
             {"letter.send{template = 'CMSL6000', to = case.client(2), fields = {amount_missed = "
              "'£1'}}",
              "letter.send: letter template CMSL6000: field"},
             {"letter.send{template = 'NOPE', to = 1}", "unknown letter template 'NOPE'"},
             {"letter.send{template = 'CMEL9271', to = case.get(1), fields = {free_text = 'x'}}",
              "field 'to' (Client or id expected, got Casegroup)"},
             {"letter.send{template = 'CMEL9271', to = 1, fields = {free_text = 1.5}}",
              "fields.free_text is a float"},
             {"letter.send{template = 'CMEL9271', to = 1, fields = {'a', 'b'}}", "got a list"},
             {"letter.send{template = 'CMEL9271', to = 1, fields = {free_text = print}}",
              "fields.free_text is a function"},
             {"letter.send{template = 'CMSB046', to = 1, sr = 77, fields = {lo_reference = 'x'}}",
              "no SR with id 77"},
             // Signed off before it is sent (procedures/lib/free_text_letter.lua): the
             // engine refuses it without the sign-off, whoever the script is.
             {"letter.send{template = 'CMEL9271', to = 1, fields = {free_text = 'x'}}",
              "letter.send: letter CMEL9271 is signed off by a senior manager before it is sent"},
             {"letter.send{template = 'CMEL9271', to = 1, fields = {free_text = 'x'}, "
              "signed_off = 99}",
              "no work item 99"},
             {"letter.get(5)", "letter.get: no letter with id 5"},
         });
  CHECK(t.count("letters") == 2);
}

TEST_CASE("clock: engine time and calendar arithmetic") {
  TestEngine t;
  CHECK(
      t.run("print(clock.now(), clock.today(), clock.add_days('2026-12-25', 14), "
            "clock.add_months('2026-01-31', 1), clock.days_between('2026-11-20', '2026-12-04'))") ==
      "2026-11-20T09:00:00Z\t2026-11-20\t2027-01-08\t2026-02-28\t14\n");
  t.clock.set(parse_instant("2027-03-01T12:00:00Z"));
  CHECK(t.run("print(clock.today())") == "2027-03-01\n");
  CHECK(t.run("print(clock.is_date('2028-02-29'), clock.is_date('2026-02-29'), "
              "clock.is_date('2026-2-1'), clock.is_date('2026-02-01x'), clock.is_date(nil), "
              "clock.is_date(20260201))") == "true\tfalse\tfalse\tfalse\tfalse\tfalse\n");
  check_errors(
      t, {
             {"clock.add_days('2026-02-30', 1)", "bad argument #1 'date' to 'clock.add_days'"},
             {"clock.add_days('2026-02-01', 1.5)", "bad argument #2 'days'"},
             {"clock.add_months('2026-02-01', 10^6 // 1)", "bad argument #2 'months'"},
             {"clock.days_between('2026-02-01')", "bad argument #2 'to'"},
         });
}

TEST_CASE("log: messages go to the engine log") {
  TestEngine t;
  CHECK_NOTHROW(t.run("log.debug('d') log.info('i') log.warn('w') log.error('e')"));
  check_errors(
      t, {{"log.info(nil)", "bad argument #1 'message' to 'log.info' (string expected, got nil)"},
          {"log.warn({})", "bad argument #1 'message' to 'log.warn'"}});
}

TEST_CASE("the recorded text of values is what the JSON tree prints, byte for byte") {
  // Histories already stored compare their args as text on replay: the direct writer must
  // print exactly what dump(values_to_json(...)) always printed.
  TestEngine t;
  t.run(kFamily);
  lua::Host host{t.engine, "test", {}};
  Sandbox sandbox({}, {}, &host);
  sandbox.load(R"lua(
    local cg = case.get(1)
    -- Large tables: string keys, a list, mixed keys.
    local function big(kind)
      local t = {}
      for i = 1, 100 do t[kind == "k" and ("k" .. i) or i] = {i, cg} end
      if kind == 2.5 then t[2.5] = "x" end
      return t
    end
    return {
      {}, {1, 2, 3}, {a = 1, b = {c = true, d = false}}, {z = 1, Z = 2, ["a b"] = "x", ["\0"] = 3},
      "plain", 'quote " and \\ back', "tab\tnew\nline\1\31\127", "caf\xc3\xa9 \xe2\x82\xac",
      "bad \xff\xfe utf8", "sixteen bytes ok\"", "eight ok\\tail", "0123456789abcdef\1" .. "x",
      "01234567" .. "\127\128" .. "abcdef", "exactly sixteen!", 0, -7, math.maxinteger, math.mininteger, 1.5, -0.25, 1e300, 0/0,
      1/0, true, false, cg, {cg, {sr = cg}}, {[1] = "a", [3] = "c"}, {[1] = "a", x = "b"},
      {[2.5] = 1}, {[true] = 1}, {nested = {deeper = {{1}, {2, {x = "y"}}}}},
      select(2, pcall(case.get, 999)),
      big("k"), big(nil), big(2.5),
    }
  )lua",
               "values.lua");
  sandbox.call(0, 1);
  lua_State* L = sandbox.state();
  const int list = lua_gettop(L);
  const auto n = static_cast<int>(luaL_len(L, list));
  for (int i = 1; i <= n; ++i) {
    lua_settop(L, list);
    lua_rawgeti(L, list, i);
    lua_pushinteger(L, i);  // two values, as a call's arguments are
    INFO(i);
    CHECK(lua::values_to_text(L, list + 1) == lua::dump(lua::values_to_json(L, list + 1)));
  }
  // Replaying pushes recorded text back as values: recording those again gives the same
  // text (engine objects, errors and tables with other keys come back as they were).
  for (int i = 1; i <= n; ++i) {
    lua_settop(L, list);
    lua_rawgeti(L, list, i);
    lua_pushinteger(L, i);
    const std::string recorded = lua::values_to_text(L, list + 1);
    lua_settop(L, list);
    INFO(recorded);
    CHECK(lua::push_json_values(L, recorded) == 2);
    CHECK(lua::values_to_text(L, list + 1) == recorded);
  }
  lua_settop(L, list);
  CHECK(lua::push_json_values(L, "[1,null,null]") == 3);
  CHECK(lua_tointeger(L, list + 1) == 1);
  CHECK((lua_isnil(L, list + 2) && lua_isnil(L, list + 3)));
  lua_settop(L, list);
  CHECK(lua::values_to_text(L, list + 1) == "[]");
  // What cannot be recorded is refused the same way.
  lua_pushcfunction(L, [](lua_State*) { return 0; });
  CHECK_THROWS_WITH(lua::values_to_text(L, list + 1), Catch::Contains("a function"));
  CHECK_THROWS_WITH(lua::values_to_json(L, list + 1), Catch::Contains("a function"));
}

namespace {

// Every key of the table at `index`, recursively, in the order lua_next visits them.
std::string visit_order(lua_State* L, int index) {
  index = lua_absindex(L, index);
  if (!lua_istable(L, index)) return "";
  std::string order = "{";
  lua_pushnil(L);
  while (lua_next(L, index)) {
    lua_pushvalue(L, -2);
    order += luaL_tolstring(L, -1, nullptr);
    lua_pop(L, 2);
    order += ":" + visit_order(L, -1) + ",";
    lua_pop(L, 1);
  }
  return order + "}";
}

}  // namespace

TEST_CASE("a tree parsed in the text's order builds what the text builds, in the same order") {
  // The import hands each extract row's tree to its instance's first activation, and a
  // replay builds ctx.input from the stored text: the two must give the same tables, filled
  // in the same order, so that pairs() walks them alike.
  TestEngine t;
  t.run(kFamily);
  lua::Host host{t.engine, "test", {}};
  Sandbox sandbox({}, {}, &host);
  lua_State* L = sandbox.state();
  std::string many_keys = "{";
  for (int i = 40; i > 0; --i)
    many_keys += "\"k" + std::to_string(i * 7 % 41) + "\":" + std::to_string(i) + ",";
  many_keys += "\"last\":[1,2,{\"z\":0,\"a\":1}]}";
  for (
      const std::string& text : {
          std::string(R"({"input":{"csa_ref":"CSA-1","b":2,"a":1},"params":{}})"),
          many_keys,
          std::string(R"({"dup":1,"x":2,"dup":3})"),
          std::string(R"([1,-2,3.5,1e300,18446744073709551615,-0,true,false,null,"caf\u00e9 \n"])"),
          std::string(
              R"({"o":{"$object":"Casegroup","id":1},"e":{"$error":{"code":"NOT_FOUND","message":"m"}},"p":{"$pairs":[[true,1],[2.5,"x"]]}})"),
          std::string(R"({"empty":{},"list":[],"nested":{"deeper":[[1],[2,{"x":"y"}]]}})"),
      }) {
    INFO(text);
    const int top = lua_gettop(L);
    lua::push_json_text(L, text);
    REQUIRE(lua::push_json_tree(L, nlohmann::ordered_json::parse(text)));
    REQUIRE(lua_gettop(L) == top + 2);
    CHECK(visit_order(L, top + 1) == visit_order(L, top + 2));
    lua_pushvalue(L, top + 1);
    const std::string from_text = lua::values_to_text(L, top + 3);
    lua_settop(L, top + 2);
    CHECK(lua::values_to_text(L, top + 2) == from_text);
    lua_settop(L, top);
  }
  // Nested deeper than the walker goes: nothing is pushed, and the text builds it instead.
  const std::string deep = std::string(300, '[') + std::string(300, ']');
  const int top = lua_gettop(L);
  CHECK_FALSE(lua::push_json_tree(L, nlohmann::ordered_json::parse(deep)));
  CHECK(lua_gettop(L) == top);
  lua::push_json_text(L, deep);
  CHECK(lua_istable(L, -1));
  lua_settop(L, top);
}

TEST_CASE("binding errors carry a code that scripts can branch on") {
  TestEngine t;
  CHECK(t.run(R"lua(
    local ok, err = pcall(case.get, 42)
    print(ok, err.code, err.message, tostring(err))
    ok, err = pcall(case.get, "x")
    print(err.code)
  )lua") ==
        "false\tNOT_FOUND\tcase.get: no casegroup with id 42\ttest.lua:2: case.get: no "
        "casegroup with id 42\nBAD_ARGUMENT\n");
}

TEST_CASE("every module function and type is declared with a signature and a doc") {
  for (const lua::Module* m : lua::all_modules()) {
    for (const auto& f : m->functions) {
      INFO(m->name << "." << f.name);
      CHECK(std::string(f.signature).rfind(std::string(m->name) + ".", 0) == 0);
      CHECK(std::string(f.doc).size() > 5);
    }
    for (const lua::Type* type : m->types) {
      for (const auto& p : type->properties) CHECK(std::string(p.doc).size() > 3);
      for (const auto& meth : type->methods) CHECK(std::string(meth.doc).size() > 5);
    }
  }
}
