-- Scenario tests for procedures/arrears_negotiation.lua (source 000) and the missed-payment
-- monitor that starts it: run with
--   casekit test procedures/tests/arrears_negotiation_test.lua
-- The clock starts at 2026-11-20T09:00:00Z.

-- A paying parent owing 1,200.00 to each of two receiving parents, with an account paying by
-- `o.method` (default SO). Options: address status, arrears_only, employment_status,
-- service_type, arrears (per receiving parent), rps (how many).
local function family(t, o)
  o = o or {}
  local n = #case.list {} -- scenarios that need several families number them
  if n == 0 then t.user("carl", "caseworker", "Arrears") end
  local pp = case.create_client {
    name = "Sam Payer", nino = string.format("AB%02d0000A", n),
    employment_status = o.employment_status == nil and "employed" or o.employment_status or nil,
    address = not o.no_address and
      { line1 = "1 High Street", postcode = "LS1 1AA", status = o.address or "confirmed" } or nil,
  }
  local cg = case.create_casegroup { paying_parent = pp, arrears_only = o.arrears_only or false,
                                     service_type = o.service_type,
                                     annual_review_date = o.annual_review or "2027-05-20" }
  local account = payment.open_account { client = pp, method = o.method or "SO" }
  for i = 1, o.rps or 2 do
    local rp = case.create_client { name = "Receiver " .. i,
      nino = string.format("AB%02d000%dB", n, i),
      address = { line1 = i .. " Low Road", postcode = "LS2 2BB" } }
    local c = cg:add_case { receiving_parent = rp }
    payment.add_due { casegroup = cg, case = c, owed_to = "RP", amount = o.arrears or 120000 }
  end
  return cg, account
end

local function amp(cg)
  return sr.find { casegroup = cg, sub_area = "Action Missed Payment" }
end

-- An Action Missed Payment SR as the monitor raises it, for `shortfall` pence.
local function missed_payment_sr(cg, shortfall)
  local s = sr.create { process = "Arrears", area = "Arrears Management",
                        sub_area = "Action Missed Payment", casegroup = cg, reason = "Missed Payment" }
  s:set_field("shortfall", shortfall)
  return s
end

-- Starts a negotiation. An arrears-only casegroup's first asks for the receiving parents'
-- payment details before anything else; they are held here (their own scenario is
-- "arrears-only: the receiving parents' payment details before negotiation").
local function start(t, cg, params)
  local id = t.start("arrears_negotiation", { casegroup = cg, params = params, as = "carl" })
  if #t.tasks { kind = "receiving_parent_payment_details" } > 0 then
    t.complete { kind = "receiving_parent_payment_details", outcome = "held", as = "carl" }
  end
  return id
end

local function complete(t, kind, outcome, fields)
  t.complete { kind = kind, outcome = outcome, fields = fields, as = "carl" }
end

-- Agree a schedule on the negotiate_schedule item, judged acceptable (step 9) unless said.
local function agree(t, fields)
  fields.first_collection_date = fields.first_collection_date or "2026-12-01"
  fields.schedule_acceptable = fields.schedule_acceptable or "yes"
  complete(t, "negotiate_schedule", "agreed", fields)
end

local function letters_to(template)
  local n, id = 0, 1
  while true do
    local ok, l = pcall(letter.get, id)
    if not ok then return n end
    if l.template == template then n = n + 1 end
    id = id + 1
  end
end

-- ---- the monitor ---------------------------------------------------------------------------

scenario("missed-payment monitor: one SR and CMSL6000 per receiving parent, once; negotiation starts", function(t)
  local cg = family(t)
  payment.issue_schedule { casegroup = cg, amount_per_period = 10000, periods = 12,
                           first_collection_date = "2026-11-01" }
  t.run_script("missed_payment_monitor.lua")
  t.run_script("missed_payment_monitor.lua")
  local raised = amp(cg)
  t.eq(#raised, 1, "Action Missed Payment SRs")
  t.eq(raised[1].reason, "Missed Payment")
  t.eq(raised[1]:field("shortfall"), "10000")
  t.eq(letters_to("CMSL6000"), 2, "CMSL6000 letters")
  t.eq(letter.get(1).recipient.name, "Receiver 1")
  t.eq(#t.tasks { kind = "missed_payment_call" }, 1, "the call is waiting")
  t.eq(raised[1].status, "In Progress")
  t.eq(raised[1]:field("missed_collection"), "2026-11-01")
  -- Dealt with and closed: the same missed collection raises nothing again; the next does.
  raised[1]:close("Complete")
  t.run_script("missed_payment_monitor.lua")
  t.eq(#amp(cg), 1, "closed SR for the same collection")
  t.advance { days = 12 } -- 2026-12-02: the December collection is one day overdue
  t.run_script("missed_payment_monitor.lua")
  t.eq(#amp(cg), 1, "inside the five days' grace, not yet missed")
  t.advance { days = 4 } -- 2026-12-06: five days on, the December collection is missed
  t.run_script("missed_payment_monitor.lua")
  t.eq(#amp(cg), 2, "a new SR for the next missed collection")
end)

scenario("missed-payment monitor: a collection is missed five days after it falls due, not before", function(t)
  local cg = family(t)
  -- 2026-11-20 is the first collection: due today, so not missed at 06:00 or at any time today.
  payment.issue_schedule { casegroup = cg, amount_per_period = 10000, periods = 12,
                           first_collection_date = "2026-11-20" }
  t.run_script("missed_payment_monitor.lua")
  t.eq(#amp(cg), 0, "not missed on the day it falls due")
  t.advance { days = 4 } -- 2026-11-24: four days on, still within the grace
  t.run_script("missed_payment_monitor.lua")
  t.eq(#amp(cg), 0, "no SR inside the grace")
  t.eq(letters_to("CMSL6000"), 0, "no CMSL6000 inside the grace")
  t.advance { days = 1 } -- 2026-11-25: five days and nothing paid
  t.run_script("missed_payment_monitor.lua")
  t.eq(#amp(cg), 1, "missed once the grace has passed")
  t.eq(amp(cg)[1]:field("missed_collection"), "2026-11-20")
end)

-- On an open case the paying parent pays ongoing maintenance as well as the arrears
-- instalment; a collection pays the maintenance first (docs/money.md). Paying the
-- maintenance alone is an arrears collection missed, not a collection paid.
scenario("missed-payment monitor: on an open case a collection pays maintenance first; maintenance alone misses the arrears", function(t)
  local cg, account = family(t, { rps = 1 })
  local c = cg:cases()[1]
  payment.set_maintenance { case = c, amount = 20000, first_due = "2026-12-01" }
  payment.issue_schedule { casegroup = cg, amount_per_period = 5000, periods = 24,
                           first_collection_date = "2026-12-01" }
  t.advance { days = 11 } -- 2026-12-01: maintenance 200.00 and arrears 50.00 both fall due
  payment.record { account = account, amount = 25000, date = clock.today(), method = "SO" }
  t.advance { days = 6 }
  t.run_script("missed_payment_monitor.lua")
  t.eq(#amp(cg), 0, "maintenance and the arrears instalment both paid")
  local maintenance = {}
  for _, d in ipairs(payment.dues(cg)) do
    if d.kind == "maintenance" then maintenance[#maintenance + 1] = d end
  end
  t.eq(#maintenance, 1)
  t.eq(maintenance[1].paid, 20000, "the collection paid the maintenance first")
  t.eq(payment.balance { casegroup = cg, state = "active" }, 120000 - 5000)
  t.advance { days = 25 } -- 2027-01-01: only the maintenance is paid
  payment.record { account = account, amount = 20000, date = clock.today(), method = "SO" }
  t.advance { days = 6 }
  t.run_script("missed_payment_monitor.lua")
  local raised = amp(cg)
  t.eq(#raised, 1, "the arrears instalment was missed")
  t.eq(raised[1]:field("missed_collection"), "2027-01-01")
  t.eq(raised[1]:field("shortfall"), "5000")
end)

-- Step 8: the Lump Sum Payment Amount records "the one-off payment taken"; the schedule
-- spreads the balance it left. Only payments recorded after the schedule count towards it.
scenario("missed-payment monitor: a lump sum taken before the schedule is not expected again", function(t)
  local cg, account = family(t)
  payment.record { account = account, amount = 30000, date = "2026-11-17", method = "card" }
  t.advance { days = 0 }
  -- Issued today (2026-11-20), three days after the card payment; collections from 2026-12-01.
  payment.issue_schedule { casegroup = cg, lump_sum = 30000, amount_per_period = 10000,
                           periods = 21, first_collection_date = "2026-12-01" }
  t.eq(payment.schedule(cg).issued_on, "2026-11-20")
  t.advance { days = 11 }
  payment.record { account = account, amount = 10000, date = "2026-12-01", method = "SO" }
  t.advance { days = 6 } -- 2026-12-07: the first collection is past its grace, and was paid
  t.run_script("missed_payment_monitor.lua")
  t.eq(#amp(cg), 0, "the first collection was paid; the lump sum is not asked for again")
  t.eq(letters_to("CMSL6000"), 0, "no CMSL6000 to the receiving parents")
end)

scenario("missed-payment monitor: a card payment on the day of the schedule does not pay its first collection", function(t)
  local cg, account = family(t)
  payment.record { account = account, amount = 30000, date = "2026-11-20", method = "card" }
  payment.issue_schedule { casegroup = cg, lump_sum = 30000, amount_per_period = 10000,
                           periods = 21, first_collection_date = "2026-12-01" }
  t.advance { days = 17 } -- 2026-12-07: the first collection is past its grace, unpaid
  t.run_script("missed_payment_monitor.lua")
  t.eq(#amp(cg), 1, "the card payment is in the balance the schedule spreads, not a collection")
  t.eq(amp(cg)[1]:field("shortfall"), "10000")
  t.eq(letters_to("CMSL6000"), 2)
end)

scenario("missed-payment monitor: nothing is raised for a Direct Pay casegroup", function(t)
  local cg = family(t, { service_type = "Direct Pay" })
  payment.issue_schedule { casegroup = cg, amount_per_period = 10000, periods = 24,
                           first_collection_date = "2026-11-01" }
  t.run_script("missed_payment_monitor.lua")
  t.eq(#amp(cg), 0, "the money goes to the receiving parent, outside the ledger")
  t.eq(letters_to("CMSL6000"), 0)
end)

scenario("missed-payment monitor: a returned Direct Debit leaves the collection missed", function(t)
  local cg, account = family(t, { method = "DD" })
  payment.issue_schedule { casegroup = cg, amount_per_period = 10000, periods = 12,
                           first_collection_date = "2026-11-20" }
  local paid = payment.record { account = account, amount = 10000, date = "2026-11-20",
                                method = "DD" }
  t.eq(payment.balance { casegroup = cg }, 230000, "the DD paid 100.00 of 2,400.00")
  payment.return_payment { payment = paid, date = "2026-11-23", reason = "DD recalled (ARUDD 1)" }
  t.eq(payment.balance { casegroup = cg }, 240000, "owed again once it came back")
  t.advance { days = 5 }
  t.run_script("missed_payment_monitor.lua")
  t.eq(#amp(cg), 1, "the recalled collection is missed")
  t.eq(amp(cg)[1]:field("shortfall"), "10000")
end)

scenario("missed-payment monitor: Disable Missed Payment Monitor raises nothing", function(t)
  local cg = family(t)
  payment.issue_schedule { casegroup = cg, amount_per_period = 10000, periods = 12,
                           first_collection_date = "2026-11-01" }
  cg:set_flag("disable_missed_payment_monitor")
  t.run_script("missed_payment_monitor.lua")
  t.eq(#amp(cg), 0)
  t.eq(letters_to("CMSL6000"), 0)
end)

-- ---- checks before work ---------------------------------------------------------------------

scenario("DLO or NFA address: noted, closed and cancelled", function(t)
  for _, status in ipairs({ "DLO", "NFA" }) do
    local cg = family(t, { address = status })
    cg.paying_parent:set_address { line1 = "x", postcode = "LS1 1AA", status = status }
    local id = start(t, cg, { reason = "Negotiation Requested" })
    local s = amp(cg)[1]
    t.eq(s.status, "Closed")
    t.eq(s.sub_status, "Cancelled")
    t.expect(string.find(s:notes()[1].text, status, 1, true), "note names " .. status)
    t.eq(t.instance(id).result, "cancelled_no_address")
    cg.paying_parent:set_address { line1 = "1 High Street", postcode = "LS1 1AA" }
  end
end)

scenario("a receiving parent's DLO or NFA address: closed and cancelled too", function(t)
  local cg = family(t, { rps = 1 })
  local rp = cg:cases()[1].receiving_parent
  rp:set_address { line1 = "1 Low Road", postcode = "LS2 2BB", status = "NFA" }
  local id = start(t, cg, { reason = "Negotiation Requested" })
  local s = amp(cg)[1]
  t.eq(s.sub_status, "Cancelled")
  t.eq(s:notes()[1].text, "Receiving parent Receiver 1's correspondence address is marked "
    .. "NFA: SR closed and cancelled")
  t.eq(t.instance(id).result, "cancelled_no_address")
  -- Only the linked case's receiving parent counts when a case is negotiated.
  local cg2 = family(t)
  cg2:cases()[1].receiving_parent:set_address { line1 = "1 Low Road", postcode = "LS2 2BB",
                                                status = "DLO" }
  start(t, cg2, { reason = "Negotiation Requested", case = tostring(cg2:cases()[2].id) })
  t.eq(amp(cg2)[1].status, "In Progress", "the other case's receiving parent is not this SR's")
end)

scenario("JPAC address: no arrears action on active duty", function(t)
  local cg = family(t, { address = "JPAC" })
  local id = start(t, cg, { reason = "Missed Payment" })
  local s = amp(cg)[1]
  t.eq(s:field("active_duty"), "yes")
  t.eq(s.resolution_code, "No Arrears Action - Active Duty")
  t.eq(t.instance(id).result, "active_duty")
  t.eq(#t.tasks {}, 0, "no work items")
end)

scenario("arrears-only: suppression removed, DFB replaced, CRA searched on a confirmed address", function(t)
  local cg, account = family(t, { arrears_only = true, method = "DFB" })
  cg:cases()[1].receiving_parent:set_contact_suppressed(true)
  start(t, cg, { reason = "Automated Financial Transition" })
  t.eq(cg:cases()[1].receiving_parent.contact_suppressed, false)
  complete(t, "new_method_of_payment", "DD")
  t.eq(payment.account(cg).method, "DD")
  local steps = amp(cg)[1]:steps()
  t.eq(steps[2].name, "Search CRA")
  t.eq(steps[2].status, "done")
  complete(t, "receiving_parent_payment_details", "held")
  t.eq(#t.tasks { kind = "negotiate_schedule" }, 1, "transition goes straight to negotiation")
end)

scenario("no confirmed address: the CRA search is not made", function(t)
  local cg = family(t, { no_address = true })
  start(t, cg, { reason = "Negotiation Requested" })
  t.eq(amp(cg)[1]:steps()[2].status, "skipped")
end)

local function notes_with(s, text)
  local found = {}
  for _, n in ipairs(s:notes()) do
    if string.find(n.text, text, 1, true) then found[#found + 1] = n.text end
  end
  return found
end

-- "Select the Search CRA button, this will generate the information": the agency is asked,
-- and what it returned is on the SR; a refusal leaves the step undone, with why.
scenario("Search CRA: the agency is searched at a confirmed address; a refusal leaves the step undone", function(t)
  local cg = family(t)
  start(t, cg, { reason = "Negotiation Requested" })
  local s = amp(cg)[1]
  t.eq(s:steps()[2].status, "done")
  t.eq(notes_with(s, "CRA searched:")[1],
       "CRA searched: credit information for Sam Payer at 1 High Street, LS1 1AA")
  local other = family(t)
  t.cra_fail("search", "CRA service unavailable")
  start(t, other, { reason = "Negotiation Requested" })
  local refused = amp(other)[1]
  t.eq(refused:steps()[2].status, "skipped")
  t.eq(notes_with(refused, "CRA search refused")[1], "CRA search refused: CRA service unavailable")
  t.eq(#t.tasks { kind = "negotiate_schedule" }, 2, "negotiation goes on without the CRA data")
end)

-- The agency itself refuses an address that is not confirmed ("Failure to do so will result
-- in an error message and no financial data will be returned").
scenario("the CRA returns no financial data without a confirmed address", function(t)
  local cg = family(t, { address = "DLO" })
  local found = cra.search(cg.paying_parent)
  t.eq(found.ok, false)
  t.eq(found.message, "no Confirmed Permanent Residential address for Sam Payer: the CRA "
    .. "returned no financial data")
  t.refuses(function() cra.search(9999) end, "9999")
end)

-- Determine Reason step 1: "Check the paying parent benefit status using CIS".
scenario("Determine Reason 1: the benefit status is checked on CIS, and a CIS failure is noted", function(t)
  local cg = family(t)
  cg.paying_parent:set_benefit_status("JSA")
  start(t, cg, { reason = "Missed Payment" })
  local s = amp(cg)[1]
  t.eq(notes_with(s, "benefit")[1], "Paying parent's benefit status (CIS): benefit in payment: JSA")
  local other = family(t)
  t.cis_fail("benefit_details", "CIS down")
  start(t, other, { reason = "Missed Payment" })
  t.eq(notes_with(amp(other)[1], "benefit")[1],
       "CIS benefit check failed (CIS down); benefit status on record: none")
  t.eq(#t.tasks { kind = "missed_payment_call" }, 2, "the call goes ahead either way")
end)

-- Scheduling Arrears Only Case Groups: "Method of Payment To and bank details of the Receiving
-- Parent are required before attempting negotiation with the Paying Parent and then
-- scheduling the arrears."
scenario("arrears-only: the receiving parents' payment details before negotiation, before the first schedule only", function(t)
  local cg = family(t, { arrears_only = true })
  local id = t.start("arrears_negotiation", { casegroup = cg, as = "carl",
                                              params = { reason = "Negotiation Requested" } })
  local items = t.tasks {}
  t.eq(#items, 1, "nothing else is asked first")
  t.eq(items[1].kind, "receiving_parent_payment_details")
  t.expect(string.find(items[1].title, "Method of Payment To and bank details of Receiver 1 and "
    .. "Receiver 2", 1, true), items[1].title)
  complete(t, "receiving_parent_payment_details", "obtained", { note = "sort code taken" })
  t.eq(#t.tasks { kind = "negotiate_schedule" }, 1, "then the negotiation")
  agree(t, { amount_per_period = "10000" })
  complete(t, "employer_interface", "issued")
  t.eq(t.fulfil_letters(), 3)
  local s = amp(cg)[1]
  t.expect(#notes_with(s, "Method of Payment To and bank details obtained (carl)") == 1,
           "noted on the SR")
  -- A later negotiation, with a schedule in place, does not ask again.
  t.eq(t.instance(id).status, "waiting")
  t.start("arrears_negotiation", { casegroup = cg, as = "carl",
                                   params = { reason = "Negotiation Requested" } })
  t.eq(#t.tasks { kind = "receiving_parent_payment_details" }, 0)
  t.eq(#t.tasks { kind = "negotiate_schedule" }, 1)
end)

-- Not arrears-only: the casegroup's receiving parents are paid already, nothing is asked.
scenario("not arrears-only: no question about the receiving parents' payment details", function(t)
  local cg = family(t)
  t.start("arrears_negotiation", { casegroup = cg, as = "carl",
                                   params = { reason = "Negotiation Requested" } })
  t.eq(#t.tasks { kind = "receiving_parent_payment_details" }, 0)
  t.eq(#t.tasks { kind = "negotiate_schedule" }, 1)
end)

-- "SR generated due to a missed initial payment": the Initial Payment reason is a missed
-- payment, so it goes to Determine Reason for Missed Payment, not straight to negotiation.
scenario("Initial Payment: a missed initial payment goes to Determine Reason and the call", function(t)
  local cg = family(t)
  start(t, cg, { reason = "Initial Payment" })
  local s = amp(cg)[1]
  t.eq(s.reason, "Initial Payment")
  t.eq(#t.tasks { kind = "missed_payment_call" }, 1)
  t.eq(#t.tasks { kind = "negotiate_schedule" }, 0)
  t.eq(s:steps()[3].name, "Determine reason for missed payment")
  t.eq(s:steps()[3].status, "done")
end)

-- Arrears-only on DFB: the paying parent cannot be reached to agree a new method, so DFB
-- stays (noted), and the negotiation goes on.
scenario("arrears-only DFB, no contact: DFB stays and is noted", function(t)
  local cg = family(t, { arrears_only = true, method = "DFB" })
  start(t, cg, { reason = "Automated Financial Transition" })
  complete(t, "new_method_of_payment", "no contact")
  t.eq(payment.account(cg).method, "DFB")
  local notes = amp(cg)[1]:notes()
  local found = false
  for _, n in ipairs(notes) do
    found = found or n.text == "New method of payment not agreed: paying parent not contacted; "
      .. "DFB stays"
  end
  t.expect(found, "noted on the SR")
end)

scenario("arrears-only without employment status: got through an Arrears Review SR, no error SR", function(t)
  local cg = family(t, { arrears_only = true, employment_status = false })
  start(t, cg, { reason = "Automated Financial Transition" })
  local review = sr.find { casegroup = cg, sub_area = "Arrears Review" }[1]
  t.eq(review.status, "In Progress")
  t.eq(review.parent.id, amp(cg)[1].id, "created from the Action Missed Payment SR")
  t.eq(#t.tasks { kind = "negotiate_schedule" }, 0, "nothing is scheduled before the status")
  complete(t, "get_employment_status", "recorded", { employment_status = "retired" })
  t.eq(cg.paying_parent.employment_status, nil, "an unknown status is not recorded")
  complete(t, "get_employment_status", "recorded", { employment_status = "self-employed" })
  t.eq(cg.paying_parent.employment_status, "self-employed")
  t.eq(review.sub_status, "Cancelled")
  t.eq(#t.tasks { kind = "negotiate_schedule" }, 1)
  t.eq(#sr.find { casegroup = cg, sub_area = "Arrears Trigger" }, 0,
       "no Error / Technical Arrears Trigger SR: the failure the six steps avoid")
end)

scenario("arrears-only, first schedule: the Employer Interface is issued by hand first, once", function(t)
  local cg = family(t, { arrears_only = true })
  start(t, cg, { reason = "Negotiation Requested" })
  agree(t, { amount_per_period = "10000" })
  local item = t.tasks { kind = "employer_interface" }[1]
  t.expect(item and string.find(item.title, "Employer Interface", 1, true), "asked before scheduling")
  t.eq(payment.schedule(cg), nil, "not scheduled until it is issued")
  complete(t, "employer_interface", "issued")
  t.eq(cg:has_flag("employer_interface_issued"), true)
  t.eq(payment.schedule(cg).version, 1)
  t.fulfil_letters()
  t.eq(amp(cg)[1].status, "Closed")
  -- The next negotiation on this casegroup is not its first schedule.
  t.advance { days = 3 }
  start(t, cg, { reason = "Negotiation Requested" })
  agree(t, { amount_per_period = "12000" })
  t.eq(#t.tasks { kind = "employer_interface" }, 0)
  t.eq(payment.schedule(cg).version, 2)
end)

scenario("not arrears-only: no Employer Interface step", function(t)
  local cg = family(t)
  start(t, cg, { reason = "Negotiation Requested" })
  agree(t, { amount_per_period = "10000", ogm = "0" })
  t.eq(#t.tasks { kind = "employer_interface" }, 0)
  t.eq(payment.schedule(cg).version, 1)
end)

-- ---- renegotiation ----------------------------------------------------------------------------

scenario("renegotiation on an SR not generated today: closed Cancelled, a new SR, old instance superseded", function(t)
  local cg = family(t)
  local old = start(t, cg, { reason = "Missed Payment" })
  t.eq(#t.tasks { kind = "missed_payment_call" }, 1)
  t.advance { days = 1 }
  local new = start(t, cg, { reason = "Negotiation Requested" })
  local srs = amp(cg)
  t.eq(#srs, 2)
  t.eq(srs[1].sub_status, "Cancelled")
  t.eq(srs[2].reason, "Negotiation Requested")
  t.eq(srs[2].status, "In Progress")
  -- The old SR's call went with it: its instance stopped at once, and nobody is left a call
  -- to make on a closed SR. The new SR's negotiation is the only step open.
  t.eq(t.instance(old).result, "superseded")
  t.eq(#t.tasks { kind = "missed_payment_call" }, 0)
  local open = t.tasks {}
  t.eq(#open, 1)
  t.eq(open[1].kind, "negotiate_schedule")
  t.eq(open[1].sr, srs[2].id)
  t.eq(t.instance(new).status, "waiting")
end)

scenario("an SR closed by hand while its negotiation waits on a person: the step is cancelled, the instance stops", function(t)
  local cg = family(t)
  local id = start(t, cg, { reason = "Missed Payment" })
  local call = t.tasks { kind = "missed_payment_call" }[1]
  local s = amp(cg)[1]
  s:close("Cancelled")
  t.advance { days = 0 }
  t.eq(t.instance(id).result, "superseded")
  t.eq(#t.tasks {}, 0)
  t.refuses(function() complete(t, "missed_payment_call", "not willing") end,
            "0 open work items match")
  t.refuses(function()
    t.complete { id = call.id, outcome = "not willing", as = "carl" }
  end, "cancelled")
end)

scenario("renegotiation on an SR generated today: that SR goes on being worked", function(t)
  local cg = family(t)
  start(t, cg, { reason = "Missed Payment" })
  local second = start(t, cg, { reason = "Negotiation Requested" })
  local srs = amp(cg)
  t.eq(#srs, 1)
  t.eq(srs[1].is_open, true)
  t.eq(t.instance(second).result, "in_hand")
  complete(t, "missed_payment_call", "negotiation requested")
  t.eq(#t.tasks { kind = "negotiate_schedule" }, 1)
end)

-- ---- direct debit failures ------------------------------------------------------------------

scenario("DD failure code 4: DD suspended (ARUDD file), new MOPF and a new schedule", function(t)
  for _, code in ipairs({ "4", "9", "A", "B" }) do
    local cg, account = family(t, { method = "DD" })
    start(t, cg, { reason = "ARUDD", dd_reason_code = code })
    local amend = sr.find { casegroup = cg, sub_area = "Amend existing MOPF" }[1]
    t.eq(amend.reason, "ARUDD file", "code " .. code)
    t.eq(payment.account(cg).method_status, "suspended")
    complete(t, "new_method_of_payment", "SO")
    t.eq(payment.account(cg).method, "SO")
    t.eq(payment.account(cg).method_status, "active")
    t.eq(#t.tasks { kind = "negotiate_schedule" }, 1)
    complete(t, "negotiate_schedule", "refused")
    complete(t, "negotiation_unsuccessful", "Addition of Residual Arrears")
  end
end)

scenario("DD failure code 2: suspended and a death of client SR unless a recent one exists", function(t)
  local cg = family(t, { method = "DD" })
  start(t, cg, { reason = "ADDACS", dd_reason_code = "2" })
  t.eq(payment.account(cg).method_status, "suspended")
  local amend = sr.find { casegroup = cg, sub_area = "Amend existing MOPF" }[1]
  t.eq(amend.reason, nil, "code 2 is not an ARUDD file suspension")
  t.eq(#sr.find { casegroup = cg, sub_area = "Death of client" }, 1)
  t.eq(#t.tasks { kind = "missed_payment_call" }, 1, "then the call")
  -- Again within 90 days: no second death SR (and the DD is already suspended).
  payment.account(cg):set_method("DD", "active")
  t.advance { days = 89 }
  local cg2 = cg
  sr.find { casegroup = cg2, sub_area = "Action Missed Payment" }[1]:close("Cancelled")
  start(t, cg2, { reason = "ADDACS", dd_reason_code = "2" })
  t.eq(#sr.find { casegroup = cg2, sub_area = "Death of client" }, 1)
end)

scenario("DD failure codes 1 and 3: suspend; already suspended raises Change MOPF unless open", function(t)
  local cg = family(t, { method = "DD" })
  start(t, cg, { reason = "ARUDD", dd_reason_code = "1" })
  t.eq(payment.account(cg).method_status, "suspended")
  t.eq(#sr.find { casegroup = cg, sub_area = "Change MOPF" }, 0, "first time: suspended only")
  amp(cg)[1]:close("Cancelled")
  start(t, cg, { reason = "ARUDD", dd_reason_code = "3" })
  t.eq(#sr.find { casegroup = cg, sub_area = "Change MOPF" }, 1, "already suspended: CofC SR")
  amp(cg)[2]:close("Cancelled")
  start(t, cg, { reason = "ARUDD", dd_reason_code = "3" })
  t.eq(#sr.find { casegroup = cg, sub_area = "Change MOPF" }, 1, "not while one is open")
  -- Each SR closed by hand took its open step with it: only the last SR's is left.
  t.eq(#t.tasks { kind = "new_method_of_payment" }, 1)
  t.eq(t.tasks { kind = "new_method_of_payment" }[1].sr, amp(cg)[3].id)
end)

-- ---- the call -------------------------------------------------------------------------------

scenario("contact failed: Contact Failed, Arrears Action Pending, an Arrears Review SR", function(t)
  local cg = family(t)
  local id = start(t, cg, { reason = "Missed Payment" })
  complete(t, "missed_payment_call", "contact failed")
  local s = amp(cg)[1]
  t.eq(s.sub_status, "Arrears Action Pending")
  complete(t, "negotiation_unsuccessful", "No contact made - Missed Initial Payment")
  local review = s:children()[1]
  t.eq(review.sub_area, "Arrears Review")
  t.eq(review.reason, "No contact made - Missed Initial Payment")
  t.eq(s.status, "Closed")
  t.eq(t.instance(id).result, "arrears_review")
end)

scenario("direct payment claimed and confirmed by the receiving parent: Direct Pay offered", function(t)
  local cg = family(t)
  local id = start(t, cg, { reason = "Missed Payment" })
  complete(t, "missed_payment_call", "direct payment claimed")
  -- Two receiving parents and an SR on neither case: the caseworker names the case paid.
  complete(t, "confirm_direct_payment", "confirmed", { amount = "10000", paid_on = "2026-11-15" })
  t.eq(#t.tasks { kind = "confirm_direct_payment" }, 1, "asked again: which case?")
  local second = cg:cases()[2]
  complete(t, "confirm_direct_payment", "confirmed",
           { amount = "10000", paid_on = "2026-11-15", case = tostring(second.id) })
  local item = t.tasks { kind = "offer_direct_pay" }[1]
  t.expect(item.title:find("Call the receiving parent", 1, true), item.title)
  complete(t, "offer_direct_pay", "agreed")
  t.eq(amp(cg)[1].resolution_code, "Direct Payment Made")
  t.eq(t.instance(id).result, "direct_payment")
  -- The payment reached the ledger, for the second receiving parent only.
  local paid = {}
  for _, d in ipairs(payment.dues(cg)) do paid[d.case.id] = d.paid end
  t.eq(paid[cg:cases()[1].id], 0)
  t.eq(paid[second.id], 10000)
  t.eq(payment.payments { account = payment.account(cg) }[1].method, "direct")
end)

-- Step 5 then the next collection: the confirmed direct payment counts towards the
-- schedule, so the monitor raises no new SR and sends no CMSL6000.
scenario("a confirmed direct payment counts towards the missed collection", function(t)
  local cg = family(t, { rps = 1 })
  payment.issue_schedule { casegroup = cg, amount_per_period = 10000, periods = 12,
                           first_collection_date = "2026-11-01" }
  t.advance { days = 0 }
  t.run_script("missed_payment_monitor.lua")
  t.eq(#amp(cg), 1, "the 2026-11-01 collection was missed")
  t.eq(letters_to("CMSL6000"), 1)
  complete(t, "missed_payment_call", "direct payment claimed")
  complete(t, "confirm_direct_payment", "confirmed", { amount = "10000", paid_on = "2026-11-01" })
  complete(t, "offer_direct_pay", "declined")
  t.eq(amp(cg)[1].status, "Closed")
  -- The next collection is paid as scheduled; the one before was paid directly.
  t.advance { days = 11 }
  payment.record { account = payment.account(cg), amount = 10000, date = "2026-12-01",
                   method = "SO" }
  t.advance { days = 6 } -- 2026-12-07: past the December collection's grace
  t.run_script("missed_payment_monitor.lua")
  t.eq(#amp(cg), 1, "no new SR: both collections are paid, one of them directly")
  t.eq(letters_to("CMSL6000"), 1)
end)

scenario("direct payment claimed, no evidence in 14 days: back to the call", function(t)
  local cg = family(t)
  start(t, cg, { reason = "Missed Payment" })
  complete(t, "missed_payment_call", "direct payment claimed")
  complete(t, "confirm_direct_payment", "denied")
  t.eq(amp(cg)[1].status, "Wait")
  t.advance { days = 14 }
  t.eq(#t.tasks { kind = "missed_payment_call" }, 1)
end)

scenario("card payment in full: One-off Payment SR, Full Payment Made", function(t)
  local cg = family(t)
  local s = missed_payment_sr(cg, 10000)
  local id = start(t, cg, { sr = tostring(s.id) })
  complete(t, "missed_payment_call", "card payment", { missed_payment_reason = "bank error" })
  t.eq(s.sub_status, "Pending Payment")
  complete(t, "card_payment", "successful", { amount = "10000" })
  t.eq(sr.find { casegroup = cg, sub_area = "One-off Payment" }[1].sub_status, "Complete")
  t.eq(s.resolution_code, "Full Payment Made")
  t.eq(t.instance(id).result, "paid")
end)

-- Step 9: "If the paying parent claims to have made the payment, it may have allocated to the
-- suspense account ... ask ... (BPAS) Managing Exceptions team to search for the payment".
scenario("step 9: a payment the paying parent says they made is found in suspense: paid in full", function(t)
  local cg, account = family(t)
  local s = missed_payment_sr(cg, 10000)
  local id = start(t, cg, { sr = tostring(s.id) })
  complete(t, "missed_payment_call", "says they paid")
  local search = t.tasks { kind = "bpas_search" }
  t.eq(#search, 1)
  t.expect(string.find(search[1].title, "BPAS Managing Exceptions", 1, true), search[1].title)
  t.refuses(function() complete(t, "bpas_search", "found", { payment_details = "SO 3 Nov" }) end,
            "amount")
  complete(t, "bpas_search", "found", { payment_details = "SO 3 Nov, ref 1234", amount = "10000" })
  t.eq(payment.paid { account = account }, 10000, "recorded on the paying parent's account")
  t.eq(s.resolution_code, "Full Payment Made")
  t.eq(t.instance(id).result, "paid")
end)

scenario("step 9: not found in suspense: noted, and the outcome of the call is recorded", function(t)
  local cg, account = family(t)
  local s = missed_payment_sr(cg, 10000)
  start(t, cg, { sr = tostring(s.id) })
  complete(t, "missed_payment_call", "says they paid")
  complete(t, "bpas_search", "not found", { payment_details = "cheque, 1 Nov" })
  t.eq(payment.paid { account = account }, 0)
  local noted = false
  for _, n in ipairs(s:notes()) do
    noted = noted or n.text == "BPAS did not find the payment in the suspense account (cheque, 1 Nov)"
  end
  t.expect(noted, "noted on the SR")
  t.eq(#t.tasks { kind = "negotiation_outcome" }, 1, "then the outcome of negotiation")
end)

-- Gather Information: a paying parent still paying on a CSA case with the named receiving
-- parent; "where [the Data Warehouse look up] hasn't [been triggered], refer the case to the
-- 1993/2003 Rules Reassessment Team Dual Liability single point of contact".
scenario("still paying the CSA: look up not triggered, referred to the Dual Liability SPOC; the call goes on", function(t)
  local cg = family(t)
  local s = missed_payment_sr(cg, 10000)
  start(t, cg, { sr = tostring(s.id) })
  complete(t, "missed_payment_call", "still paying the CSA")
  complete(t, "data_warehouse_lookup", "not triggered")
  local referral = t.tasks { kind = "dual_liability" }
  t.eq(#referral, 1)
  t.eq(referral[1].inbox, "reassessment_team")
  t.eq(referral[1].sr, s.id)
  t.eq(#t.tasks { kind = "missed_payment_call" }, 1, "back to the call")
  -- Triggered already: noted, no referral.
  complete(t, "missed_payment_call", "still paying the CSA")
  complete(t, "data_warehouse_lookup", "triggered")
  t.eq(#t.tasks { kind = "dual_liability" }, 1, "no second referral")
  t.eq(#t.tasks { kind = "missed_payment_call" }, 1)
end)

scenario("DD represent paid within five days: Direct Debit Represent", function(t)
  local cg, account = family(t, { method = "DD" })
  local s = missed_payment_sr(cg, 10000)
  local id = start(t, cg, { sr = tostring(s.id) })
  complete(t, "missed_payment_call", "DD represent")
  t.eq(s.status, "Wait")
  t.eq(#sr.find { casegroup = cg, sub_area = "Represent Direct Debit" }, 1)
  t.advance { days = 2 }
  payment.record { account = account, amount = 10000, date = clock.today(), method = "DD" }
  t.advance { days = 3 }
  t.eq(s.resolution_code, "Direct Debit Represent")
  t.eq(t.instance(id).result, "paid")
end)

scenario("DD represent not paid: record the outcome; Part pay goes to negotiation", function(t)
  local cg = family(t, { method = "DD" })
  local id = start(t, cg, { reason = "Missed Payment" })
  complete(t, "missed_payment_call", "DD represent")
  t.advance { days = 5 }
  complete(t, "negotiation_outcome", "Full pay made")
  t.expect(#t.tasks { kind = "negotiation_outcome" } == 1, "full pay refused: nothing paid")
  complete(t, "negotiation_outcome", "Part pay")
  local s = amp(cg)[1]
  t.eq(s.resolution_code, "Part Pay Made")
  t.eq(s.sub_status, "Pending Negotiation")
  t.eq(#t.tasks { kind = "negotiate_schedule" }, 1)
end)

scenario("non-immediate payment not received: call back, no payment, No pay, NFA when transferred", function(t)
  local cg = family(t)
  local id = start(t, cg, { reason = "Missed Payment" })
  complete(t, "missed_payment_call", "non-immediate payment")
  t.eq(amp(cg)[1].status, "Wait")
  t.advance { days = 5 }
  complete(t, "call_back", "no payment made")
  complete(t, "negotiation_outcome", "No pay")
  local s = amp(cg)[1]
  t.eq(s.resolution_code, "Disclosure Appropriate")
  t.eq(s.sub_status, "Arrears Action Pending")
  complete(t, "negotiation_unsuccessful", "Not For Addition of Residual Arrears")
  complete(t, "call_transferred", "yes")
  t.eq(s.resolution_code, "Neg Unsuccessful NFA")
  t.eq(s.status, "Closed")
  t.eq(t.instance(id).result, "neg_unsuccessful_nfa")
end)

scenario("a failed card payment: the One-off Payment SR cancelled, then the outcome", function(t)
  local cg = family(t)
  local s = missed_payment_sr(cg, 10000)
  start(t, cg, { sr = tostring(s.id) })
  complete(t, "missed_payment_call", "card payment")
  complete(t, "card_payment", "failed")
  t.eq(sr.find { casegroup = cg, sub_area = "One-off Payment" }[1].sub_status, "Cancelled")
  local notes = s:notes()
  t.eq(notes[#notes].text, "Card payment failed")
  t.eq(payment.paid { account = payment.account(cg), since = "2026-01-01" }, 0)
  t.eq(#t.tasks { kind = "negotiation_outcome" }, 1, "nothing paid: the outcome is asked")
  t.eq(s.is_open, true)
end)

scenario("DD represent on an account not paying by direct debit: back to the call", function(t)
  local cg = family(t, { method = "SO" })
  local s = missed_payment_sr(cg, 10000)
  start(t, cg, { sr = tostring(s.id) })
  complete(t, "missed_payment_call", "DD represent")
  t.eq(#sr.find { casegroup = cg, sub_area = "Represent Direct Debit" }, 0)
  local notes = s:notes()
  t.eq(notes[#notes].text, "DD represent needs a direct debit method of payment")
  t.eq(#t.tasks { kind = "missed_payment_call" }, 1, "the call is asked again")
  t.eq(s.status, "In Progress")
end)

scenario("an unknown DD reason code: no direct debit action, the call goes ahead", function(t)
  local cg, account = family(t, { method = "DD" })
  start(t, cg, { reason = "ARUDD", dd_reason_code = "Z" })
  local s = amp(cg)[1]
  t.eq(s:field("dd_reason_code"), "Z")
  t.eq(account.method_status, "active", "not suspended")
  t.eq(#sr.find { casegroup = cg, sub_area = "Amend existing MOPF" }, 0)
  local noted = false
  for _, n in ipairs(s:notes()) do
    noted = noted or n.text == "Reason code Z needs no direct debit action"
  end
  t.expect(noted, "the code is noted as needing no action")
  t.eq(#t.tasks { kind = "missed_payment_call" }, 1)
end)

scenario("part pay + negotiation reached: Part Pay Made, then the schedule is negotiated", function(t)
  local cg, account = family(t, { method = "DD" })
  local s = missed_payment_sr(cg, 10000)
  local id = start(t, cg, { sr = tostring(s.id) })
  complete(t, "missed_payment_call", "DD represent")
  t.advance { days = 2 }
  payment.record { account = account, amount = 4000, date = clock.today(), method = "DD" }
  t.advance { days = 3 }
  complete(t, "negotiation_outcome", "Part pay + negotiation reached")
  t.eq(s.resolution_code, "Part Pay Made")
  t.eq(s:field("negotiation_outcome"), "Part pay + negotiation reached")
  -- 2,400.00 owed less the 40.00 part payment.
  local item = t.tasks { kind = "negotiate_schedule" }[1]
  t.expect(string.find(item.title, "£2,360.00 to schedule", 1, true), item.title)
  agree(t, { amount_per_period = "10000" })
  t.eq(payment.schedule(cg).periods, 24)
  t.eq(t.instance(id).status, "waiting", "on the letters")
end)

scenario("part pay + promise to pay: waits five days for the further payment", function(t)
  local cg, account = family(t)
  local s = missed_payment_sr(cg, 10000)
  local id = start(t, cg, { sr = tostring(s.id) })
  complete(t, "missed_payment_call", "card payment")
  complete(t, "card_payment", "successful", { amount = "4000" })
  complete(t, "negotiation_outcome", "Part pay + promise to pay")
  t.eq(s.status, "Wait")
  payment.record { account = account, amount = 6000, date = clock.today(), method = "cheque" }
  t.advance { days = 5 }
  t.eq(s.resolution_code, "Full Payment Made")
  t.eq(t.instance(id).result, "paid")
end)

scenario("a part payment lowers what is negotiated, and the schedule spreads the rest", function(t)
  local cg, account = family(t)
  -- 2,400.00 owed; 400.00 paid before the call leaves 2,000.00 to schedule.
  payment.record { account = account, amount = 40000, date = clock.today(), method = "cheque" }
  t.eq(payment.balance { casegroup = cg, state = "active" }, 200000)
  local dues = payment.dues(cg)
  t.eq(dues[1].paid, 40000, "the oldest due, to the first receiving parent, is paid first")
  t.eq(dues[2].paid, 0)
  start(t, cg, { reason = "Negotiation Requested" })
  agree(t, { amount_per_period = "10000", schedule_in_place = "yes" })
  local s = amp(cg)[1]
  t.eq(s:field("negotiated_payment_amount"), "200000")
  t.eq(s:field("negotiated_periods"), "20", "2,000.00 at 100.00 a month")
  t.eq(payment.schedule(cg).periods, 20)
end)

scenario("allowable change of circumstances: a CofC SR, and negotiation continues", function(t)
  local cg = family(t)
  start(t, cg, { reason = "Missed Payment" })
  complete(t, "missed_payment_call", "not willing",
           { change_of_circumstances = "lost job" })
  local cofc = sr.find { casegroup = cg, sub_area = "Allowable change" }
  t.eq(#cofc, 1)
  t.eq(cofc[1].status, "In Progress")
  complete(t, "negotiation_outcome", "Allowable change of circ pending",
           { change_of_circumstances = "new partner" })
  t.eq(#sr.find { casegroup = cg, sub_area = "Allowable change" }, 2)
  t.eq(#t.tasks { kind = "negotiate_schedule" }, 1)
end)

-- Step 21's outcome "Negotiation requested": no payment taken, the paying parent asks to
-- negotiate; the SR goes to Negotiate New Arrears Payment Schedule with nothing resolved.
scenario("step 21: the outcome Negotiation requested goes to negotiating a schedule", function(t)
  local cg = family(t)
  local s = missed_payment_sr(cg, 10000)
  start(t, cg, { sr = tostring(s.id) })
  complete(t, "missed_payment_call", "not willing")
  complete(t, "negotiation_outcome", "Negotiation requested")
  t.eq(s:field("negotiation_outcome"), "Negotiation requested")
  t.eq(s.resolution_code, nil, "no Part Pay Made or Disclosure Appropriate")
  t.eq(#t.tasks { kind = "negotiate_schedule" }, 1)
  t.eq(s.is_open, true)
end)

-- ---- a new schedule ---------------------------------------------------------------------------

scenario("24 monthly collections: Negotiation Satisfactory, letters, closed once fulfilled", function(t)
  local cg = family(t)
  payment.issue_schedule { casegroup = cg, amount_per_period = 5000, periods = 2,
                           first_collection_date = "2026-10-01" }
  local id = start(t, cg, { reason = "Negotiation Requested" })
  -- 2,400.00 over 24 months is 100.00 a month.
  agree(t, { amount_per_period = "10000", schedule_in_place = "yes" })
  local s = amp(cg)[1]
  t.eq(s:field("negotiation_outcome"), "Negotiation Satisfactory")
  t.eq(s:field("negotiated_periods"), "24")
  t.eq(s:field("schedule_version"), "2", "the promise to pay bumps the version")
  t.eq(payment.schedule(cg).version, 2)
  t.eq(payment.schedule(cg).periods, 24)
  t.eq(letters_to("CMSL6056"), 1)
  t.eq(letters_to("CMSL6051"), 2, "one to each receiving parent")
  t.eq(letter.get(1).recipient.name, "Sam Payer")
  t.expect(string.find(letter.get(1).body, "£100.00 monthly for 24 payments", 1, true),
           "CMSL6056 has the schedule")
  t.eq(s.is_open, true, "open until the letters are fulfilled")
  t.advance { days = 1 }
  t.eq(s.is_open, true)
  t.eq(t.fulfil_letters(), 3)
  t.eq(s.status, "Closed", "fulfilling the letters wakes the instance at once")
  t.eq(s.sub_status, "Complete")
  t.eq(t.instance(id).status, "waiting", "for the consecutive payment reviews")
end)

-- Step 26: "Call the receiving parent when the schedule has been set up."
scenario("step 26: the receiving parents are called once the schedule is set up; nothing waits on the call", function(t)
  local cg = family(t)
  local id = start(t, cg, { reason = "Negotiation Requested" })
  t.eq(#t.tasks { kind = "call_receiving_parent" }, 0, "not before the schedule")
  agree(t, { amount_per_period = "10000", schedule_in_place = "yes" })
  local calls = t.tasks { kind = "call_receiving_parent" }
  t.eq(#calls, 1)
  t.eq(calls[1].sr, amp(cg)[1].id)
  t.expect(string.find(calls[1].title, "Call Receiver 1 and Receiver 2: the arrears schedule has "
    .. "been set up (24 monthly collections of £100.00 from 2026-12-01)", 1, true), calls[1].title)
  t.eq(letters_to("CMSL6051"), 2, "the letters do not wait for the call")
  t.eq(t.fulfil_letters(), 3)
  t.eq(amp(cg)[1].status, "Closed")
  t.eq(t.instance(id).status, "waiting", "for the consecutive payment reviews, not the call")
  complete(t, "call_receiving_parent", "called", { note = "told them both" })
  t.eq(#t.tasks { kind = "call_receiving_parent" }, 0)
end)

scenario("letters still queued after 30 days: a person keeps waiting, then they go", function(t)
  local cg = family(t)
  start(t, cg, { reason = "Negotiation Requested" })
  agree(t, { amount_per_period = "10000" })
  local s = amp(cg)[1]
  t.advance { days = 29 }
  t.eq(#t.tasks { kind = "letters_not_fulfilled" }, 0)
  t.advance { days = 1 }
  t.eq(#t.tasks { kind = "letters_not_fulfilled" }, 1, "on the 30th day")
  t.eq(s.is_open, true)
  complete(t, "letters_not_fulfilled", "keep waiting")
  t.eq(#t.tasks { kind = "letters_not_fulfilled" }, 0, "not asked again at once")
  t.advance { days = 10 }
  t.eq(s.is_open, true)
  t.eq(t.fulfil_letters(), 3)
  t.eq(s.status, "Closed")
  t.eq(s.sub_status, "Complete")
end)

scenario("letters still queued after 30 days: sent clerically, the SR closes", function(t)
  local cg = family(t)
  start(t, cg, { reason = "Negotiation Requested" })
  agree(t, { amount_per_period = "10000" })
  local s = amp(cg)[1]
  t.advance { days = 30 }
  complete(t, "letters_not_fulfilled", "sent clerically")
  t.eq(s.status, "Closed")
  t.eq(s.sub_status, "Complete")
  local noted = false
  for _, n in ipairs(s:notes()) do
    noted = noted or n.text == "3 negotiation outcome letters sent clerically"
  end
  t.expect(noted, "the clerical sending is noted on the SR")
end)

scenario("25 monthly collections: Breaches Debt Steer; not accepted is unsuccessful", function(t)
  local cg = family(t)
  local id = start(t, cg, { reason = "Negotiation Requested" })
  -- 2,400.00 / 96.00 = 25
  agree(t, { amount_per_period = "9600", schedule_acceptable = "no" })
  local s = amp(cg)[1]
  t.eq(s:field("negotiation_outcome"), "Breaches Debt Steer")
  t.eq(s.sub_status, "Arrears Action Pending")
  t.eq(payment.schedule(cg), nil)
  complete(t, "negotiation_unsuccessful", "Not For Addition of Residual Arrears")
  complete(t, "call_transferred", "no")
  t.eq(t.instance(id).result, "neg_unsuccessful")
end)

scenario("beyond 24 months accepted as a recorded discretionary decision", function(t)
  local cg = family(t)
  start(t, cg, { reason = "Negotiation Requested" })
  agree(t, { amount_per_period = "9600" })
  t.eq(payment.schedule(cg), nil, "refused without the decision note")
  agree(t, { amount_per_period = "9600",
             decision_note = "welfare of the child: low income, sustainable" })
  local s = amp(cg)[1]
  t.eq(s:field("negotiation_outcome"), "Breaches Debt Steer")
  t.eq(payment.schedule(cg).periods, 25)
end)

scenario("periods round up, and weekly schedules are measured in months too", function(t)
  local cg = family(t, { rps = 1, arrears = 100001 })
  start(t, cg, { reason = "Negotiation Requested" })
  -- 1,000.01 at 10.00 a week: 101 weeks (rounded up), inside 24 months.
  agree(t, { amount_per_period = "1000", frequency = "weekly" })
  t.eq(payment.schedule(cg).periods, 101)
  t.eq(amp(cg)[1]:field("negotiation_outcome"), "Negotiation Satisfactory")
  local cg2 = family(t, { rps = 1, arrears = 106000 })
  start(t, cg2, { reason = "Negotiation Requested" })
  -- 106 weekly collections: the last is 735 days after the first, past 24 months (730).
  agree(t, { amount_per_period = "1000", frequency = "weekly", schedule_acceptable = "no" })
  t.eq(amp(cg2)[1]:field("negotiation_outcome"), "Breaches Debt Steer")
end)

-- "Within 24 months" of the agreement (step 10), and the first collection may not be pushed
-- away to stretch them (ours: at most two months from the agreement).
scenario("24 months count from the agreement, not from the first collection", function(t)
  local cg = family(t)
  start(t, cg, { reason = "Negotiation Requested" })
  -- 24 monthly collections from 2027-01-01: the last on 2028-12-01, inside 24 months of the
  -- first collection but not of the agreement on 2026-11-20.
  agree(t, { amount_per_period = "10000", first_collection_date = "2027-01-01",
             decision_note = "affordable only over this term" })
  t.eq(amp(cg)[1]:field("negotiation_outcome"), "Breaches Debt Steer")
  t.eq(payment.schedule(cg).periods, 24)
end)

scenario("23 monthly collections from 2027-01-01 end inside 24 months of the agreement", function(t)
  local cg = family(t)
  start(t, cg, { reason = "Negotiation Requested" })
  agree(t, { amount_per_period = "10435", first_collection_date = "2027-01-01" })
  t.eq(payment.schedule(cg).periods, 23)
  t.eq(amp(cg)[1]:field("negotiation_outcome"), "Negotiation Satisfactory")
end)

scenario("a first collection more than two months away is refused", function(t)
  local cg = family(t)
  start(t, cg, { reason = "Negotiation Requested" })
  -- Five years away, a short schedule would otherwise score Negotiation Satisfactory.
  agree(t, { amount_per_period = "120000", first_collection_date = "2031-11-01" })
  t.eq(payment.schedule(cg), nil)
  local notes = amp(cg)[1]:notes()
  t.expect(notes[#notes].text:find("within 2 months of today", 1, true), notes[#notes].text)
  agree(t, { amount_per_period = "120000", first_collection_date = "2027-01-20" })
  t.eq(payment.schedule(cg).first_collection_date, "2027-01-20", "two months to the day is in")
end)

scenario("step 9: every schedule is judged acceptable or not, inside 24 months too", function(t)
  local cg = family(t)
  local id = start(t, cg, { reason = "Negotiation Requested" })
  complete(t, "negotiate_schedule", "agreed",
           { amount_per_period = "20000", first_collection_date = "2026-12-01" })
  t.eq(payment.schedule(cg), nil, "not issued without the caseworker's judgement")
  local notes = amp(cg)[1]:notes()
  t.expect(string.find(notes[#notes].text, "schedule_acceptable (yes or no) is required", 1,
                       true), notes[#notes].text)
  agree(t, { amount_per_period = "20000", schedule_acceptable = "no" })
  local s = amp(cg)[1]
  t.eq(s:field("negotiation_outcome"), "Negotiation Satisfactory", "12 months is inside")
  t.eq(s.sub_status, "Arrears Action Pending", "but not acceptable: unsuccessful")
  t.eq(payment.schedule(cg), nil)
  complete(t, "negotiation_unsuccessful", "Refusal to pay - Missed Initial Payment")
  t.eq(t.instance(id).result, "arrears_review")
end)

scenario("refused: No Agreement Reached", function(t)
  local cg = family(t)
  start(t, cg, { reason = "Negotiation Requested" })
  complete(t, "negotiate_schedule", "refused")
  t.eq(amp(cg)[1]:field("negotiation_outcome"), "No Agreement Reached")
  t.eq(amp(cg)[1].sub_status, "Arrears Action Pending")
end)

scenario("no contact on a standing order: the 40% check counts OGM and charges", function(t)
  -- 2,400.00; collections 2026-12-01 .. 2027-05-01 before the review on 2027-05-20: 6.
  local cg = family(t)
  start(t, cg, { reason = "Automated Financial Transition" })
  complete(t, "negotiate_schedule", "no contact",
           { first_collection_date = "2026-12-01", net_income = "100000" })
  t.eq(payment.schedule(cg), nil, "the OGM is needed for the 40% check")
  -- 400.00 of arrears, 50.00 OGM and 10.00 charges a collection: 46% of 1,000.00.
  complete(t, "negotiate_schedule", "no contact",
           { first_collection_date = "2026-12-01", net_income = "100000", ogm = "5000",
             collection_fee = "1000" })
  t.eq(payment.schedule(cg), nil, "over 40% with the OGM and charges")
  complete(t, "debt_steer", "no agreement")
  t.eq(amp(cg)[1]:field("negotiation_outcome"), "No Agreement Reached")
  t.eq(amp(cg)[1].sub_status, "Arrears Action Pending")
end)

scenario("no contact on a standing order: exactly 40% with OGM and charges is allowed", function(t)
  -- 2,400.00; collections 2026-12-01 .. 2027-05-01 before the review on 2027-05-20: 6.
  local cg = family(t)
  start(t, cg, { reason = "Automated Financial Transition" })
  complete(t, "negotiate_schedule", "no contact",
           { first_collection_date = "2026-12-01", net_income = "115000", ogm = "5000",
             collection_fee = "1000" })
  local schedule = payment.schedule(cg)
  t.eq(schedule.periods, 6)
  t.eq(schedule.amount_per_period, 40000, "460.00 is exactly 40% of 1,150.00")
  t.eq(amp(cg)[1]:field("negotiation_outcome"), "Schedule Only")
end)

scenario("no contact on a standing order above 40% of net income: the debt steer", function(t)
  local cg = family(t)
  start(t, cg, { reason = "Automated Financial Transition" })
  complete(t, "negotiate_schedule", "no contact",
           { first_collection_date = "2026-12-01", net_income = "99999", ogm = "0" })
  t.eq(payment.schedule(cg), nil)
  complete(t, "debt_steer", "apply schedule",
           { amount_per_period = "20000", decision_note = "sustainable at 200.00" })
  t.eq(payment.schedule(cg).periods, 12)
  t.eq(payment.schedule(cg).amount_per_period, 20000)
end)

scenario("no contact on another method: a schedule applied needs a discretionary decision", function(t)
  local cg = family(t, { method = "DD" })
  start(t, cg, { reason = "Negotiation Requested" })
  local terms = { amount_per_period = "10000", first_collection_date = "2026-12-01" }
  complete(t, "negotiate_schedule", "no contact", terms)
  t.eq(payment.schedule(cg), nil)
  local notes = amp(cg)[1]:notes()
  t.expect(string.find(notes[#notes].text, "decision_note", 1, true), "the refusal names it")
  terms.decision_note = "income known from CRA"
  complete(t, "negotiate_schedule", "no contact", terms)
  t.eq(payment.schedule(cg).periods, 24)
end)

-- Step 18: "add together the Negotiated Arrears Amount Per Period ... and Regular OGM and
-- Collection Fee amount (calculated at step 5)".
scenario("DEO on an open case: the regular OGM is required, and the fee comes from the ledger", function(t)
  local cg = family(t, { method = "DEO" })
  payment.add_charge { casegroup = cg, kind = "collection", amount = 3000 }
  payment.add_charge { casegroup = cg, kind = "collection", amount = 4000 }
  start(t, cg, { reason = "Negotiation Requested" })
  local terms = { amount_per_period = "10000", max_ndr = "50000", annual_gross_income = "3000000" }
  agree(t, terms)
  t.eq(payment.schedule(cg), nil, "an NDR of the arrears alone leaves out the maintenance")
  local notes = amp(cg)[1]:notes()
  t.expect(notes[#notes].text:find("ogm is required", 1, true), notes[#notes].text)
  terms.ogm = "20000"
  agree(t, terms)
  t.eq(amp(cg)[1]:field("monthly_ndr"), "34000", "100.00 + 200.00 OGM + the 40.00 latest fee")
end)

scenario("DEO on an arrears-only casegroup: no OGM is needed", function(t)
  local cg = family(t, { method = "DEO", arrears_only = true })
  start(t, cg, { reason = "Negotiation Requested" })
  agree(t, { amount_per_period = "10000", max_ndr = "10000", annual_gross_income = "2400000" })
  complete(t, "employer_interface", "issued")
  local s = amp(cg)[1]
  t.eq(s:field("monthly_ndr"), "10000")
end)

scenario("DEO: monthly NDR is arrears per period + OGM + collection fee, at most the max NDR", function(t)
  local cg = family(t, { method = "DEO" })
  start(t, cg, { reason = "Negotiation Requested" })
  local terms = { amount_per_period = "10000", ogm = "20000", collection_fee = "4000",
                  max_ndr = "33999" }
  agree(t, terms)
  t.eq(payment.schedule(cg), nil, "steps 17: the Annual Gross Income is input with the max NDR")
  local notes = amp(cg)[1]:notes()
  t.expect(string.find(notes[#notes].text, "annual_gross_income is required", 1, true),
           notes[#notes].text)
  terms.annual_gross_income = "3600000"
  agree(t, terms)
  t.eq(payment.schedule(cg), nil, "NDR 340.00 over the max 339.99")
  terms.max_ndr = "34000"
  terms.frequency = "weekly"
  agree(t, terms)
  t.eq(payment.schedule(cg), nil, "a DEO's NDR is monthly")
  local notes = amp(cg)[1]:notes()
  t.expect(string.find(notes[#notes].text, "frequency must be monthly", 1, true),
           notes[#notes].text)
  terms.frequency = "monthly"
  agree(t, terms)
  local s = amp(cg)[1]
  t.eq(s:field("monthly_ndr"), "34000")
  t.eq(s:field("max_ndr"), "34000")
  t.eq(s:field("annual_gross_income"), "3600000")
  t.eq(payment.schedule(cg).periods, 24)
end)

-- Steps 15, 20-23: "Where both a DEO and DD or SO MOPF exist ... note the figure in the
-- Collection Amount field of the MOP Payment Details applet (for the row where the Method of
-- Payment is DEO) ... Input the figure ... as the Monthly NDR Amount. Ensure this is not more
-- than the Max NDR amount".
scenario("DEO beside a standing order: the monthly NDR is the DEO row's collection amount, at most the max NDR", function(t)
  local cg = family(t, { method = "DEO" })
  payment.account(cg):set_second_method("SO")
  start(t, cg, { reason = "Negotiation Requested" })
  local terms = { amount_per_period = "10000", max_ndr = "15000", annual_gross_income = "3000000" }
  agree(t, terms)
  t.eq(payment.schedule(cg), nil, "the DEO row's collection amount is needed")
  local notes = amp(cg)[1]:notes()
  t.expect(string.find(notes[#notes].text, "deo_collection_amount is required", 1, true),
           notes[#notes].text)
  terms.deo_collection_amount = "15001"
  agree(t, terms)
  t.eq(payment.schedule(cg), nil, "more than the max NDR")
  terms.deo_collection_amount = "12000"
  agree(t, terms)
  local s = amp(cg)[1]
  t.eq(s:field("monthly_ndr"), "12000", "not arrears + OGM + fee: no OGM was asked for")
  t.expect(payment.schedule(cg), "issued")
  local found = false
  for _, n in ipairs(s:notes()) do
    found = found or n.text == "DEO beside a SO: monthly NDR £120.00, the DEO row's collection "
      .. "amount (steps 20-23)"
  end
  t.expect(found, "the steps 20-23 note")
end)

-- Step 12 and the note under step 20: a Segment 5 compliance opportunity with a DEO and a
-- DD takes the same steps, and its Maximum NDR is the ATNIC calculator's figure.
scenario("Segment 5 compliance opportunity, DEO and DD: steps 20-23, the Maximum NDR from ATNIC", function(t)
  local cg = family(t, { method = "DEO" })
  payment.account(cg):set_second_method("DD")
  cg:cases()[1]:set_compliance_opportunity()
  t.eq(cg:cases()[1].compliance_opportunity, true)
  start(t, cg, { reason = "Negotiation Requested" })
  agree(t, { amount_per_period = "10000", max_ndr = "20000", annual_gross_income = "3000000",
             deo_collection_amount = "18000" })
  local s = amp(cg)[1]
  t.eq(s:field("monthly_ndr"), "18000")
  local found = false
  for _, n in ipairs(s:notes()) do
    found = found or string.find(n.text, "Maximum NDR from the ATNIC calculator", 1, true) ~= nil
  end
  t.expect(found, "the ATNIC note")
end)

scenario("a second method of payment sits only beside a DEO", function(t)
  local cg = family(t, { method = "SO" })
  t.refuses(function() payment.account(cg):set_second_method("DD") end, "not DEO")
  local deo = family(t, { method = "DEO" })
  t.refuses(function() payment.account(deo):set_second_method("DEO") end, "DD, SO")
  t.eq(payment.account(deo).second_method, nil)
end)

-- "Reactivate the BaNCS Account": "Email the Client Fund Account Team (CFAT) ... You can
-- continue progressing the application but you mustn't complete the application before CFAT
-- confirm the account is reactivated."
scenario("an inactive BaNCS account: CFAT emailed at once, the schedule waits for their confirmation", function(t)
  local cg = family(t)
  local account = payment.account(cg)
  account:set_status("inactive")
  start(t, cg, { reason = "Negotiation Requested" })
  local email = t.tasks { kind = "cfat_reactivation" }[1]
  t.expect(email, "the email to CFAT, at once")
  t.expect(string.find(email.title, account.bancs_number, 1, true), email.title)
  t.expect(string.find(email.title, "SCIN", 1, true), email.title)
  -- Progressing goes on meanwhile: the negotiation is asked for before CFAT has answered.
  agree(t, { amount_per_period = "10000" })
  t.eq(payment.schedule(cg), nil, "not issued before CFAT confirm")
  local confirm = t.tasks { kind = "cfat_confirmation" }[1]
  t.expect(confirm, "the schedule waits for CFAT's confirmation")
  t.refuses(function() payment.issue_schedule { casegroup = cg, amount_per_period = 100,
    periods = 1, first_collection_date = "2026-12-01" } end, "CFAT must reactivate it")
  complete(t, "cfat_reactivation", "emailed")
  complete(t, "cfat_confirmation", "reactivated", { note = "CFAT phoned" })
  t.eq(account.status, "active")
  t.expect(payment.schedule(cg), "issued once reactivated")
end)

-- "When creating a new schedule and the following conditions apply, contact AAC to consider
-- whether manual allocation may be appropriate ... Manual Allocation flag must not be set
-- unless directed by AAC."
local function aac_family(t)
  local cg = family(t)
  local co, other = cg:cases()[1], cg:cases()[2]
  co:set_compliance_opportunity()
  payment.add_due { casegroup = cg, case = other, owed_to = "RP", amount = 50000,
                    origin = "CSA transition CSA-7" }
  return cg
end

scenario("AAC: a compliance opportunity beside a case with legacy and 2012 arrears; manual allocation as AAC directs", function(t)
  local cg = aac_family(t)
  start(t, cg, { reason = "Negotiation Requested" })
  agree(t, { amount_per_period = "20000" })
  t.eq(payment.schedule(cg), nil, "AAC first")
  t.eq(cg:has_flag("manual_allocation"), false, "not set unless AAC directs it")
  complete(t, "aac_manual_allocation", "manual allocation directed")
  t.eq(cg:has_flag("manual_allocation"), true)
  t.expect(payment.schedule(cg), "then the schedule")
end)

scenario("AAC: not directed, no flag; and no AAC item when the conditions do not all hold", function(t)
  local cg = aac_family(t)
  start(t, cg, { reason = "Negotiation Requested" })
  agree(t, { amount_per_period = "20000" })
  complete(t, "aac_manual_allocation", "not directed")
  t.eq(cg:has_flag("manual_allocation"), false)
  t.expect(payment.schedule(cg), "issued")
  -- Without the compliance opportunity, nothing to ask AAC.
  local plain = family(t)
  plain:cases()[2]:set_compliance_opportunity(false)
  payment.add_due { casegroup = plain, case = plain:cases()[2], owed_to = "RP", amount = 50000,
                    origin = "CSA transition CSA-8" }
  t.start("arrears_negotiation", { casegroup = plain, params = { reason = "Negotiation Requested" },
                                   as = "carl" })
  complete(t, "negotiate_schedule", "agreed", { amount_per_period = "20000",
    first_collection_date = "2026-12-01", schedule_acceptable = "yes" })
  t.eq(#t.tasks { kind = "aac_manual_allocation" }, 0)
  t.expect(payment.schedule(plain), "issued without AAC")
end)

scenario("an active BaNCS account: no CFAT items", function(t)
  local cg = family(t)
  start(t, cg, { reason = "Negotiation Requested" })
  agree(t, { amount_per_period = "10000" })
  t.eq(#t.tasks { kind = "cfat_reactivation" }, 0)
  t.eq(#t.tasks { kind = "cfat_confirmation" }, 0)
  t.expect(payment.schedule(cg), "issued")
end)

scenario("Direct Pay: the letters are sent clerically, then the SR closes", function(t)
  local cg = family(t, { service_type = "Direct Pay" })
  start(t, cg, { reason = "Negotiation Requested" })
  agree(t, { amount_per_period = "10000" })
  t.eq(letters_to("CMSL6056"), 0)
  complete(t, "clerical_letters", "sent")
  t.eq(amp(cg)[1].sub_status, "Complete")
end)

-- Step 8 (source 000): "Lump Sum Payment Amount - Record the one-off payment taken";
-- "Negotiated Payment Amount - Enter the balance from the Calc and Collect Outstanding
-- Arrears Balance field". The card payment is already out of that balance.
scenario("a card payment taken on the call is recorded as the lump sum, not taken off twice", function(t)
  local cg = family(t)
  local s = missed_payment_sr(cg, 50000)
  local id = start(t, cg, { sr = tostring(s.id) })
  complete(t, "missed_payment_call", "card payment")
  complete(t, "card_payment", "successful", { amount = "40000" })
  complete(t, "negotiation_outcome", "Part pay + negotiation reached")
  t.eq(s:field("negotiated_payment_amount"), "200000", "2,400.00 owed less the 400.00 taken")
  agree(t, { amount_per_period = "10000", lump_sum = "40000" })
  local schedule = payment.schedule(cg)
  t.eq(schedule.periods, 20, "2,000.00 at 100.00 a month, not 1,600.00")
  t.eq(schedule.lump_sum, 40000)
  t.eq(s:field("negotiated_periods"), "20")
  t.fulfil_letters()
  -- The first collection (2026-12-01) is paid; the card payment is not expected again.
  payment.record { account = payment.account(cg), amount = 10000, date = "2026-12-01",
                   method = "SO" }
  t.advance { days = 17 }
  t.run_script("missed_payment_monitor.lua")
  t.eq(#amp(cg), 1, "no new Action Missed Payment SR")
  t.eq(t.instance(id).status, "waiting", "for the second consecutive payment review")
end)

scenario("Direct Pay: the PWC's arrears are scheduled, and no review raises an SR", function(t)
  local cg = family(t, { service_type = "Direct Pay" })
  payment.add_due { casegroup = cg, owed_to = "SOS_GB", amount = 30000 }
  local id = start(t, cg, { reason = "Negotiation Requested" })
  local s = amp(cg)[1]
  t.eq(s:field("negotiated_payment_amount"), "240000", "owed to the receiving parents only")
  agree(t, { amount_per_period = "10000" })
  t.eq(payment.schedule(cg).periods, 24)
  complete(t, "clerical_letters", "sent")
  t.eq(t.instance(id).result, "direct_pay_agreed")
  t.advance { days = 70 } -- two collections pass with nothing in the ledger
  t.run_script("missed_payment_monitor.lua")
  t.eq(#amp(cg), 1, "no Action Missed Payment SR")
  t.eq(letters_to("CMSL6000"), 0)
end)

-- Step 27 raises the same SR, with the same CMSL6000, as the monitor; and the Disable Missed
-- Payment Monitor flag (001 step 75) stops both.
scenario("consecutive payment review: a missed first collection raises the SR and CMSL6000", function(t)
  local cg = family(t)
  local id = start(t, cg, { reason = "Negotiation Requested" })
  agree(t, { amount_per_period = "10000" })
  t.fulfil_letters()
  t.advance { days = 17 } -- past 2026-12-06, five days after the first collection
  t.eq(t.instance(id).result, "review_failed")
  local srs = amp(cg)
  t.eq(#srs, 2)
  t.eq(srs[2]:field("missed_collection"), "2026-12-01")
  t.eq(letters_to("CMSL6000"), 2, "one to each receiving parent, as the monitor sends")
end)

scenario("consecutive payment review: with the monitor disabled, no SR and no CMSL6000", function(t)
  local cg = family(t)
  local id = start(t, cg, { reason = "Negotiation Requested" })
  agree(t, { amount_per_period = "10000" })
  t.fulfil_letters()
  cg:set_flag("disable_missed_payment_monitor")
  t.advance { days = 17 }
  t.eq(t.instance(id).result, "review_failed")
  t.eq(#amp(cg), 1, "only the negotiated SR")
  t.eq(letters_to("CMSL6000"), 0)
end)

scenario("consecutive payment reviews: first collection paid, second missed, a new SR", function(t)
  local cg, account = family(t)
  local id = start(t, cg, { reason = "Negotiation Requested" })
  agree(t, { amount_per_period = "10000" })
  t.fulfil_letters()
  t.advance { days = 1 }
  payment.record { account = account, amount = 10000, date = "2026-12-01", method = "SO" }
  t.advance { days = 16 } -- past 2026-12-06, the first review
  t.eq(t.instance(id).status, "waiting")
  t.eq(#amp(cg), 1)
  t.advance { days = 30 } -- past 2027-01-06: the second collection was not paid
  local srs = amp(cg)
  t.eq(#srs, 2)
  t.eq(srs[2].reason, "Missed Payment")
  t.eq(srs[2]:field("shortfall"), "10000")
  t.eq(t.instance(id).result, "review_failed")
  t.eq(#t.tasks { kind = "missed_payment_call" }, 1, "negotiation starts on the new SR")
end)

scenario("both consecutive payment reviews pass: schedule_agreed", function(t)
  local cg, account = family(t)
  local id = start(t, cg, { reason = "Negotiation Requested" })
  agree(t, { amount_per_period = "10000" })
  t.fulfil_letters()
  t.advance { days = 1 }
  payment.record { account = account, amount = 10000, date = "2026-12-01", method = "SO" }
  payment.record { account = account, amount = 10000, date = "2027-01-01", method = "SO" }
  t.advance { days = 60 }
  t.eq(t.instance(id).result, "schedule_agreed")
end)

scenario("phase 2 hands over: an Automated Financial Transition SR is negotiated directly", function(t)
  local cg = family(t)
  local s = sr.create { process = "Arrears", area = "Arrears Management",
                        sub_area = "Action Missed Payment", casegroup = cg,
                        reason = "Automated Financial Transition" }
  start(t, cg, { sr = tostring(s.id) })  -- as phase2_transition starts it
  t.eq(s.sub_status, "Pending Negotiation")
  t.eq(#t.tasks { kind = "missed_payment_call" }, 0)
  t.eq(#t.tasks { kind = "negotiate_schedule" }, 1)
end)

scenario("an unknown param is refused before anything is done", function(t)
  local cg = family(t)
  local id = start(t, cg, { trigger = "Reverse write off" })
  t.eq(t.instance(id).status, "failed")
  t.expect(string.find(t.instance(id).error, "unknown param 'trigger'", 1, true),
    t.instance(id).error)
  t.eq(#sr.find { casegroup = cg }, 0, "no SR raised")
end)

scenario("only the case being negotiated is linked to the SR", function(t)
  -- Two cases: the one named is linked, and only that one.
  local cg = family(t)
  local second = cg:cases()[2]
  start(t, cg, { reason = "Negotiation Requested", case = tostring(second.id) })
  t.eq(amp(cg)[1].case, second)
  -- Two cases and none named: the SR is the casegroup's, with no case linked.
  local cg2 = family(t)
  start(t, cg2, { reason = "Negotiation Requested" })
  t.eq(amp(cg2)[1].case, nil)
  -- One case: that case.
  local cg3 = family(t, { rps = 1 })
  start(t, cg3, { reason = "Negotiation Requested" })
  t.eq(amp(cg3)[1].case, cg3:cases()[1])
  -- The monitor links a one-case casegroup's case too.
  local cg4 = family(t, { rps = 1 })
  payment.issue_schedule { casegroup = cg4, amount_per_period = 10000, periods = 12,
                           first_collection_date = "2026-11-01" }
  t.run_script("missed_payment_monitor.lua")
  t.eq(amp(cg4)[1].case, cg4:cases()[1])
end)

scenario("a case of another casegroup is refused before anything is done", function(t)
  local cg = family(t)
  local other = family(t)
  local id = start(t, cg, { reason = "Negotiation Requested",
                            case = tostring(other:cases()[1].id) })
  t.eq(t.instance(id).status, "failed")
  t.expect(string.find(t.instance(id).error, "case " .. other:cases()[1].id
    .. " is not a case of casegroup " .. cg.id, 1, true), t.instance(id).error)
  t.eq(#amp(cg), 0, "no SR raised")
end)

scenario("an SR handed over must be an Action Missed Payment SR of the same casegroup", function(t)
  local cg = family(t)
  local other = family(t)
  local theirs = sr.create { process = "Arrears", area = "Arrears Management",
                             sub_area = "Action Missed Payment", casegroup = other,
                             reason = "Automated Financial Transition" }
  local review = sr.create { process = "Arrears", area = "Arrears Management",
                             sub_area = "Arrears Review", casegroup = cg }
  for _, s in ipairs({ theirs, review }) do
    local id = start(t, cg, { sr = tostring(s.id) })
    t.eq(t.instance(id).status, "failed")
    t.expect(string.find(t.instance(id).error, "SR " .. s.id .. " is not an Action Missed "
      .. "Payment SR of casegroup " .. cg.id, 1, true), t.instance(id).error)
    t.eq(s.status, "Open", "the SR handed over is left as it was")
  end
  t.eq(#t.tasks {}, 0, "no work items")
end)
