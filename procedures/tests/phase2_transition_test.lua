-- Scenario tests for procedures/phase2_transition.lua (sources 002 and 003): run with
--   casekit test procedures/tests/phase2_transition_test.lua
-- Each scenario gets a new database on a simulated clock (2026-11-20).

-- One extract row: paying parent AB000000A, receiving parent AB000001A owed 1,250.00 active
-- and 25.00 deferred, no Secretary of State arrears, CSA case active, no enforcement.
local function row(csa_ref, changes)
  local r = {
    csa_ref = csa_ref, extract_date = "2026-11-20", region = "E&W",
    paying_parent = { nino = "AB000000A", name = "Paul Payer", dob = "1980-02-03",
                      address = { line1 = "1 High Street", postcode = "LS1 1AA", status = "confirmed" },
                      employment_status = "employed" },
    method_of_payment = "SO", enforcement_ongoing = false, csa_case_active = true,
    receiving_parents = { { nino = "AB000001A", name = "Rita Receiver",
                            address = { line1 = "2 Mill Lane", postcode = "LS2 2BB",
                                        status = "confirmed" },
                            writeoff_requested = false,
                            arrears = { active = 125000, suspended = 0, deferred = 2500 } } },
    sos = { jurisdiction = "GB", active = 0, suspended = 0, deferred = 0 },
  }
  if changes then changes(r) end
  return r
end

local function open_srs(cg, sub_area)
  return sr.find { casegroup = cg, sub_area = sub_area }
end

scenario("arrears and no case: an arrears-only case with its set-up steps and dues", function(t)
  local counts = t.import { row("CSA-0000001") }
  t.eq(counts.transitioned, 1, "transitioned")
  local cg = case.find { csa_ref = "CSA-0000001" }
  t.expect(cg, "the casegroup was built")
  t.eq(cg.arrears_only, true)
  t.eq(cg.segment, "Arrears")
  t.eq(cg.region, "E&W")
  local cases = cg:cases()
  t.eq(#cases, 1)
  t.eq(cases[1].receiving_parent.nino, "AB000001A")
  t.eq(cases[1].csa_case_ref, "CSA-0000001")
  local setup = open_srs(cg, "Arrears only case set up")[1]
  t.eq(setup.status, "Closed")
  local steps = setup:steps()
  t.eq(#steps, 7)
  t.eq(steps[1].name, "Create contact details for the clients")
  t.eq(steps[6].status, "done")
  t.eq(steps[7].status, "skipped", "no benefit details needed")
  t.eq(payment.balance { casegroup = cg, owed_to = "RP", state = "active" }, 125000)
  t.eq(payment.balance { casegroup = cg, owed_to = "RP", state = "deferred" }, 2500)
  t.eq(#cg:flags(), 0)
end)

scenario("dues mirror the six categories, owed to receiving parents and SoS NI", function(t)
  t.import { row("CSA-0000002", function(r)
    r.region = "NI"
    r.receiving_parents[1].arrears = { active = 100, suspended = 200, deferred = 300 }
    r.sos = { jurisdiction = "NI", active = 11, suspended = 22, deferred = 33 }
  end) }
  local cg = case.find { csa_ref = "CSA-0000002" }
  for state, amount in pairs { active = 100, suspended = 200, deferred = 300 } do
    t.eq(payment.balance { casegroup = cg, owed_to = "RP", state = state }, amount, state)
  end
  for state, amount in pairs { active = 11, suspended = 22, deferred = 33 } do
    t.eq(payment.balance { casegroup = cg, owed_to = "SOS_NI", state = state }, amount, state)
  end
  t.eq(payment.balance { casegroup = cg, owed_to = "SOS_GB" }, 0)
end)

scenario("an existing case gets the CSA details and the dues, not a new case", function(t)
  local pp = case.create_client { name = "Paul Payer", nino = "AB000000A" }
  local rp = case.create_client { name = "Rita Receiver", nino = "AB000001A" }
  local cg = case.create_casegroup { paying_parent = pp }
  local existing = cg:add_case { receiving_parent = rp }
  payment.open_account { client = pp, method = "DD" }
  t.import { row("CSA-0000003") }
  t.eq(#cg:cases(), 1)
  t.eq(existing.csa_case_ref, "CSA-0000003")
  t.eq(case.find { csa_ref = "CSA-0000003" }, nil, "no new casegroup")
  t.eq(#open_srs(cg, "Arrears only case set up"), 0, "nothing was built")
  t.eq(payment.balance { casegroup = cg }, 127500)
  t.eq(payment.account(cg).method, "SO", "the CSA's method of payment")
end)

scenario("a new receiving parent is linked into the paying parent's casegroup", function(t)
  t.import { row("CSA-0000004") }
  t.import { row("CSA-0000005", function(r) r.receiving_parents[1].nino = "AB000009A" end) }
  local cg = case.find { csa_ref = "CSA-0000004" }
  t.eq(#cg:cases(), 2)
  t.eq(cg:cases()[2].csa_case_ref, "CSA-0000005")
  t.eq(payment.balance { casegroup = cg }, 2 * 127500)
end)

scenario("no arrears: an existing casegroup is marked Transition Complete", function(t)
  t.import { row("CSA-0000006") }
  local cg = case.find { csa_ref = "CSA-0000006" }
  t.import { row("CSA-0000007", function(r)
    r.receiving_parents[1].arrears = { active = 0, suspended = 0, deferred = 0 }
  end) }
  t.eq(cg:has_flag("transition_complete"), true)
  t.eq(payment.balance { casegroup = cg }, 127500, "no dues added")
  t.eq(cg:cases()[1].csa_case_ref, "CSA-0000007")
end)

scenario("no arrears and no case: nothing is built", function(t)
  local counts = t.import { row("CSA-0000008", function(r)
    r.receiving_parents[1].arrears = { active = 0, suspended = 0, deferred = 0 }
  end) }
  t.eq(counts.transitioned, 1)
  t.eq(case.find_client { nino = "AB000000A" }, nil, "no client")
  t.eq(case.find { csa_ref = "CSA-0000008" }, nil, "no casegroup")
end)

scenario("both parents are told the values added", function(t)
  t.import { row("CSA-0000009", function(r)
    r.sos.active = 5000
    r.receiving_parents[2] = { nino = "AB000003A", name = "Owed Nothing",
                               address = { line1 = "3 Brook Close", postcode = "LS3 3CC",
                                           status = "confirmed" },
                               writeoff_requested = false,
                               arrears = { active = 0, suspended = 0, deferred = 0 } }
  end) }
  local to_pp, to_rp = letter.get(1), letter.get(2)
  t.eq(to_pp.template, "CKTR001")
  t.eq(to_pp.recipient.nino, "AB000000A")
  t.expect(string.find(to_pp.body, "You owe £1,325.00 in arrears", 1, true), to_pp.body)
  t.expect(string.find(to_pp.body, "owed to the Secretary of State: £50.00", 1, true))
  t.eq(to_rp.template, "CKTR002")
  t.eq(to_rp.recipient.nino, "AB000001A")
  t.expect(string.find(to_rp.body, "owes you £1,275.00", 1, true), to_rp.body)
  t.refuses(function() letter.get(3) end, "no letter")  -- the one owed nothing gets none
end)

scenario("write-off requested, arrears still owed: an SR and a work item, then negotiation", function(t)
  t.user("carl", "caseworker", "Financial Transition")
  t.import { row("CSA-0000010", function(r) r.receiving_parents[1].writeoff_requested = true end) }
  local cg = case.find { csa_ref = "CSA-0000010" }
  local investigation = open_srs(cg, "Investigate write off request")[1]
  t.expect(investigation, "an Investigate write off request SR")
  t.eq(investigation.case.id, cg:cases()[1].id)
  t.eq(#t.tasks { inbox = "caseworker", kind = "investigate_write_off" }, 1)
  t.eq(#open_srs(cg, "Action Missed Payment"), 0, "the action waits for the investigation")
  t.refuses(function()
    t.complete { inbox = "caseworker", outcome = "arrears stand", as = "carl" }
  end, "note")
  t.complete { inbox = "caseworker", outcome = "arrears stand", as = "carl",
               fields = { note = "RP wants them collected" } }
  t.eq(investigation.status, "Closed")
  t.eq(investigation.resolution_code, "arrears stand")
  t.eq(#open_srs(cg, "Action Missed Payment"), 1)
end)

scenario("write-off requested but nothing owed to that parent: no SR", function(t)
  t.import { row("CSA-0000011", function(r)
    r.receiving_parents[1].writeoff_requested = true
    r.receiving_parents[1].arrears = { active = 0, suspended = 0, deferred = 0 }
    r.sos.active = 9000
  end) }
  local cg = case.find { csa_ref = "CSA-0000011" }
  t.eq(#open_srs(cg, "Investigate write off request"), 0)
  local items = t.tasks {}
  t.eq(#items, 1, "work items")
  t.eq(items[1].kind, "receiving_parent_payment_details",
       "only arrears negotiation's: its first question on an arrears-only casegroup")
end)

-- 003, in its order: the case owner's prompt at the transfer ("A work item will also be
-- generated at this point"), the Reassessment Team's search for a liability order, and once
-- they have recorded it "a work item would then automatically be allocated to the case owner".
scenario("enforcement ongoing, no liability order: Enforcement, the case owner's prompt, the reassessment team, the case owner again", function(t)
  t.user("owen", "caseworker")
  t.user("rhea", "caseworker")
  t.import { row("CSA-0000012", function(r) r.enforcement_ongoing = true end) }
  local cg = case.find { csa_ref = "CSA-0000012" }
  t.eq(cg.segment, "Enforcement")
  local prompt = t.tasks { inbox = "case_owner" }
  t.eq(#prompt, 1, "the case owner's item is generated at the transfer")
  t.eq(prompt[1].kind, "check_enforcement")
  t.expect(string.find(prompt[1].title, "Check Tallyman and the CSA to establish the full details "
    .. "of the enforcement action ongoing on CSA-0000012", 1, true), prompt[1].title)
  local lo_items = t.tasks { inbox = "reassessment_team" }
  t.eq(#lo_items, 1, "beside it, the reassessment team looks for a liability order")
  t.expect(string.find(lo_items[1].title, "liability order in force on CSA-0000012", 1, true),
           lo_items[1].title)
  t.expect(prompt[1].id < lo_items[1].id, "the prompt comes first")
  -- The prompt is only a prompt: completing it does not stand in for the team's input.
  t.complete { kind = "check_enforcement", outcome = "records updated", as = "owen",
               fields = { note = "Tallyman shows bailiffs" } }
  t.eq(#t.tasks { kind = "enforcement_actions_input" }, 0, "not before the reassessment team")
  t.complete { inbox = "reassessment_team", outcome = "no liability order", as = "rhea" }
  local items = t.tasks { inbox = "case_owner" }
  t.eq(#items, 1)
  t.eq(items[1].kind, "enforcement_actions_input")
  t.expect(string.find(items[1].title, "Enforcement Actions (Legacy) Input", 1, true), items[1].title)
  t.expect(string.find(items[1].title, "no liability order in force", 1, true), items[1].title)
  t.eq(#open_srs(cg, "Liability Order"), 0)
  t.eq(#open_srs(cg, "Action Missed Payment"), 0)
  t.complete { inbox = "case_owner", outcome = "input complete", as = "owen" }
  t.eq(#t.tasks {}, 0)
end)

scenario("enforcement ongoing with a liability order: input by the reassessment team, then the case owner", function(t)
  t.user("rhea", "caseworker")
  t.import { row("CSA-0000015", function(r) r.enforcement_ongoing = true end) }
  local cg = case.find { csa_ref = "CSA-0000015" }
  t.refuses(function()
    t.complete { inbox = "reassessment_team", outcome = "liability order input", as = "rhea",
                 fields = { lo_reference = "LO-77" } }
  end, "lo_date")
  t.complete { inbox = "reassessment_team", outcome = "liability order input", as = "rhea",
               fields = { lo_reference = "LO-77", lo_date = "2027-01-01", lo_amount = "90000" } }
  local again = t.tasks { inbox = "reassessment_team" }[1]
  t.expect(string.find(again.title, "lo_date '2027-01-01' must be a date, not after today", 1, true),
           again.title)
  t.eq(#open_srs(cg, "Liability Order"), 0, "nothing input from a wrong date")
  t.complete { inbox = "reassessment_team", outcome = "liability order input", as = "rhea",
               fields = { lo_reference = "LO-77", lo_date = "2025-06-30", lo_amount = "90000",
                          court = "Leeds Magistrates", enforcement_details = "bailiffs instructed" } }
  local lo = open_srs(cg, "Liability Order")[1]
  t.eq(lo.process, "Enforcement")
  t.eq(lo.status, "In Progress")
  t.eq(lo:field("lo_reference"), "LO-77")
  t.eq(lo:field("lo_amount"), "90000")
  t.eq(lo:field("court"), "Leeds Magistrates")
  t.eq(lo:notes()[1].text, "bailiffs instructed")
  local item = t.tasks { kind = "enforcement_actions_input" }[1]
  t.eq(item.sr, lo.id)
  t.expect(string.find(item.title, "liability order LO-77 input", 1, true), item.title)
  t.eq(#t.tasks { kind = "check_enforcement" }, 1, "the prompt from the transfer is still there")
end)

scenario("CIS: receiving parents verified as applicant, the paying parent as other party", function(t)
  t.import { row("CSA-0000016") }
  local setup = open_srs(case.find { csa_ref = "CSA-0000016" }, "Arrears only case set up")[1]
  t.eq(setup.status, "Closed")
  t.eq(setup:steps()[2].status, "done")
  t.eq(setup:steps()[3].status, "done")
  t.eq(cis.verify { client = case.find_client { nino = "AB000001A" },
                    casegroup = case.find { csa_ref = "CSA-0000016" }, role = "applicant" }.message,
       "Rita Receiver (AB000001A) verified; interest flag input as applicant")
end)

scenario("CIS refuses a verification: the step stays pending; dues and letters do not wait", function(t)
  t.user("carl", "caseworker", "Financial Transition")
  t.cis_fail("verify", "CIS is down for maintenance")
  t.import { row("CSA-0000017") }
  local cg = case.find { csa_ref = "CSA-0000017" }
  local setup = open_srs(cg, "Arrears only case set up")[1]
  t.eq(setup.status, "In Progress")
  t.eq(setup:steps()[2].status, "pending")
  t.eq(setup:steps()[3].status, "pending")
  t.eq(setup:steps()[4].status, "done")
  t.eq(setup:notes()[1].text,
       "CIS: Verify applicant and input interest flags on CIS: CIS is down for maintenance")
  t.eq(payment.balance { casegroup = cg }, 127500, "the dues are in")
  t.eq(letter.get(1).template, "CKTR001")
  t.eq(#open_srs(cg, "Action Missed Payment"), 0, "the next action waits for the set-up")
  local item = t.tasks { kind = "cis_step" }[1]
  t.expect(string.find(item.title, "CIS is down for maintenance", 1, true), item.title)
  -- Tried again while CIS still refuses: asked again.
  t.complete { kind = "cis_step", outcome = "try again", as = "carl" }
  t.eq(#t.tasks { kind = "cis_step" }, 1)
  t.eq(setup:steps()[2].status, "pending")
  t.cis_ok()
  t.complete { kind = "cis_step", outcome = "try again", as = "carl" }
  t.eq(setup:steps()[2].status, "done")
  -- The other party's step, done on CIS by hand.
  t.complete { kind = "cis_step", outcome = "done on CIS", as = "carl" }
  t.eq(setup:steps()[3].status, "done")
  t.expect(string.find(setup:notes()[#setup:notes()].text, "done on CIS by hand by carl", 1, true),
           "noted")
  t.eq(setup.status, "Closed")
  t.eq(#open_srs(cg, "Action Missed Payment"), 1)
end)

scenario("CIS benefit details where required: the paying parent on benefit or paying by DFB", function(t)
  t.import { row("CSA-0000018", function(r) r.paying_parent.benefit = "JSA" end) }
  local cg = case.find { csa_ref = "CSA-0000018" }
  local setup = open_srs(cg, "Arrears only case set up")[1]
  t.eq(setup:steps()[7].name, "Retrieve paying parent benefit details from CIS")
  t.eq(setup:steps()[7].status, "done")
  t.eq(cg.paying_parent.benefit_status, "JSA")
  t.user("carl", "caseworker", "Financial Transition")
  t.cis_fail("benefit_details", "no CIS record")
  t.import { row("CSA-0000019", function(r)
    r.method_of_payment = "DFB"
    r.paying_parent.nino = "AB000009A"
    r.receiving_parents[1].nino = "AB000008A"
  end) }
  local dfb = open_srs(case.find { csa_ref = "CSA-0000019" }, "Arrears only case set up")[1]
  t.eq(dfb:steps()[7].status, "pending")
  t.eq(dfb:steps()[2].status, "done", "verification still answered")
  t.expect(string.find(t.tasks { kind = "cis_step" }[1].title, "no CIS record", 1, true), "asked")
end)

-- 002: "contact them to confirm a further write off". Confirmed, what is still owed to that
-- receiving parent is written off in the ledger (not negotiated); the Secretary of State's
-- arrears stand, and the next action is determined after it.
scenario("write-off confirmed by the receiving parent: their arrears written off, then the next action", function(t)
  t.user("carl", "caseworker", "Financial Transition")
  t.import { row("CSA-0000020", function(r)
    r.receiving_parents[1].writeoff_requested = true
    r.sos.active = 30000
  end) }
  local cg = case.find { csa_ref = "CSA-0000020" }
  local investigation = open_srs(cg, "Investigate write off request")[1]
  t.refuses(function()
    t.complete { kind = "investigate_write_off", outcome = "write off confirmed", as = "carl",
                 fields = { note = "RP confirmed on the phone" } }
  end, "journal_number")
  t.complete { kind = "investigate_write_off", outcome = "write off confirmed", as = "carl",
               fields = { note = "RP confirmed on the phone", journal_number = "JN-TR-1" } }
  t.eq(investigation.status, "Closed")
  t.eq(investigation.resolution_code, "write off confirmed")
  t.eq(investigation:notes()[1].text, "write off confirmed: RP confirmed on the phone")
  t.eq(investigation:notes()[2].text,
       "Written off under journal JN-TR-1: £1,275.00 owed to the receiving parent")
  -- 1,250.00 active and 25.00 deferred: all of it, and nothing of the Secretary of State's.
  t.eq(payment.balance { casegroup = cg, owed_to = "RP", state = "written_off" }, 127500)
  t.eq(payment.balance { casegroup = cg, owed_to = "RP", state = "active" }, 0)
  t.eq(payment.balance { casegroup = cg, owed_to = "RP", state = "deferred" }, 0)
  t.eq(payment.balance { casegroup = cg, owed_to = "SOS_GB", state = "active" }, 30000)
  local wo = payment.write_offs(cg)
  t.eq(#wo, 1)
  t.eq(wo[1].journal, "JN-TR-1")
  -- The next action: what is negotiated is the Secretary of State's 300.00 alone.
  local amp = open_srs(cg, "Action Missed Payment")
  t.eq(#amp, 1, "the next action is determined after it")
  t.eq(payment.balance { casegroup = cg, state = "active" }, 30000)
end)

scenario("write-off not confirmed: the arrears stand and are negotiated", function(t)
  t.user("carl", "caseworker", "Financial Transition")
  t.import { row("CSA-0000022", function(r) r.receiving_parents[1].writeoff_requested = true end) }
  local cg = case.find { csa_ref = "CSA-0000022" }
  t.complete { kind = "investigate_write_off", outcome = "arrears stand", as = "carl",
               fields = { note = "RP now wants the arrears" } }
  t.eq(#payment.write_offs(cg), 0)
  t.eq(payment.balance { casegroup = cg, owed_to = "RP", state = "active" }, 125000)
  t.eq(#open_srs(cg, "Action Missed Payment"), 1)
end)

scenario("a paying parent CMS knows with no casegroup: their record kept, a casegroup built", function(t)
  local pp = case.create_client { name = "Paul Payer", nino = "AB000000A",
                                  address = { line1 = "9 New Road", postcode = "LS9 9ZZ" } }
  t.import { row("CSA-0000021") }
  local cg = case.find { csa_ref = "CSA-0000021" }
  t.expect(cg, "a casegroup was built")
  t.eq(cg.paying_parent.id, pp.id, "the existing client, not a second record")
  t.eq(cg.paying_parent.address.line1, "9 New Road", "CMS's own details kept")
  t.eq(cg.arrears_only, true)
  t.eq(payment.find_account(pp).method, "SO", "an account opened with the CSA method")
  t.eq(open_srs(cg, "Arrears only case set up")[1].status, "Closed")
  t.eq(payment.balance { casegroup = cg }, 127500)
end)

scenario("an active CSA case: an Arrears Management SR routed to negotiation", function(t)
  t.import { row("CSA-0000013") }
  local cg = case.find { csa_ref = "CSA-0000013" }
  local amp = open_srs(cg, "Action Missed Payment")
  t.eq(#amp, 1)
  t.eq(amp[1].reason, "Automated Financial Transition")
  t.eq(amp[1].owner_team, "Arrears")
end)

scenario("an inactive CSA case stays arrears-only and is not worked", function(t)
  t.import { row("CSA-0000014", function(r) r.csa_case_active = false end) }
  local cg = case.find { csa_ref = "CSA-0000014" }
  t.eq(cg.segment, "Arrears")
  t.eq(#open_srs(cg, "Action Missed Payment"), 0)
  t.eq(#t.tasks {}, 0)
end)

scenario("bad rows go to the exceptions report and leave nothing else", function(t)
  local negative = row("CSA-0000021", function(r) r.receiving_parents[1].arrears.active = -10 end)
  local no_nino = row("CSA-0000022", function(r) r.paying_parent.nino = nil end)
  local fraction = row("CSA-0000023", function(r) r.receiving_parents[1].arrears.deferred = 12.5 end)
  local wales = row("CSA-0000024", function(r) r.region = "Wales" end)
  -- An empty Lua table is a JSON object, so the row with no receiving parent is written out.
  local nobody = '{"csa_ref":"CSA-0000025","extract_date":"2026-11-20","region":"E&W",'
    .. '"paying_parent":{"nino":"AB000005A","name":"P","address":{"line1":"1 A St",'
    .. '"postcode":"LS1 1AA","status":"confirmed"}},"method_of_payment":null,'
    .. '"enforcement_ongoing":false,"csa_case_active":true,"receiving_parents":[],'
    .. '"sos":{"jurisdiction":"GB","active":0,"suspended":0,"deferred":0}}'
  local counts = t.import { negative, no_nino, fraction, wales, nobody, '{"csa_ref": oops' }
  t.eq(counts.exceptions, 6)
  t.eq(counts.transitioned, 0)
  local report = exceptions.report()
  t.eq(#report, 6)
  t.eq(report[1].reason, "receiving_parents[1].arrears.active: -10 is negative")
  t.eq(report[2].reason, "paying_parent.nino: missing")
  t.eq(report[3].reason, "receiving_parents[1].arrears.deferred: 12.5 is not a whole number of pence")
  t.eq(report[4].reason, "region: 'Wales' is not one of E&W, Scotland, NI")
  t.eq(report[5].reason, "receiving_parents: none (a casegroup needs a receiving parent)")
  t.eq(report[6].csa_ref, nil)
  t.eq(case.find_client { nino = "AB000000A" }, nil, "no partial client")
  t.eq(#case.list {}, 0, "no casegroup")
end)

scenario("importing the same extract again changes nothing", function(t)
  local extract = t.generate { count = 40, seed = 5, bad_ratio = 0.1 }
  local lines = {}
  for i, e in ipairs(extract) do lines[i] = e.line end
  local first = t.import(lines)
  t.eq(first.read, 40)
  t.eq(first.transitioned + first.exceptions, 40)
  local casegroups = #case.list { limit = 1000 }
  local again = t.import(lines)
  t.eq(again.duplicates, 40)
  t.eq(again.transitioned, 0)
  t.eq(again.exceptions, 0)
  t.eq(#case.list { limit = 1000 }, casegroups)
  t.eq(#exceptions.report(), first.exceptions)
end)

scenario("every transitioned casegroup's dues equal its extract balances", function(t)
  local extract = t.generate { count = 120, seed = 11, bad_ratio = 0.05 }
  local lines = {}
  for i, e in ipairs(extract) do lines[i] = e.line end
  t.eq(t.import(lines).failed, 0)
  local checked = 0
  for _, e in ipairs(extract) do
    local r = e.row
    if r then
      local pp = case.find_client { nino = r.paying_parent.nino }
      local cg = pp and case.find { paying_parent = pp }
      if cg then
        local origin = "CSA transition " .. r.csa_ref
        local sums = {}
        for _, due in ipairs(payment.dues(cg)) do
          if due.origin == origin then
            local who = due.case and due.case.receiving_parent.nino or due.owed_to
            local key = who .. "/" .. due.state
            sums[key] = (sums[key] or 0) + due.amount
          end
        end
        for _, rp in ipairs(r.receiving_parents) do
          for _, state in ipairs { "active", "suspended", "deferred" } do
            t.eq(sums[rp.nino .. "/" .. state] or 0, rp.arrears[state], r.csa_ref .. " RP " .. state)
          end
        end
        for _, state in ipairs { "active", "suspended", "deferred" } do
          t.eq(sums["SOS_" .. r.sos.jurisdiction .. "/" .. state] or 0, r.sos[state],
               r.csa_ref .. " SoS " .. state)
        end
        checked = checked + 1
      end
    end
  end
  t.expect(checked > 100, "checked " .. checked .. " casegroups")
end)

scenario("the exceptions job gives the team leader one work item a day", function(t)
  t.user("tina", "team_leader")
  t.user("carl", "caseworker", "Financial Transition")
  t.import { row("CSA-0000040", function(r) r.region = "Wales" end), row("CSA-0000041") }
  -- The job is a plain operator script; here it runs twice on the same day.
  t.run_script("allocate_transition_exceptions.lua")
  t.run_script("allocate_transition_exceptions.lua")
  local items = t.tasks { inbox = "team_leader" }
  t.eq(#items, 1)
  t.expect(string.find(items[1].title, "Allocate 1 transition exception of 2026-11-20", 1, true),
           items[1].title)
  t.refuses(function()
    t.complete { inbox = "team_leader", outcome = "allocated", as = "carl" }
  end, "team_leader")
  t.complete { inbox = "team_leader", outcome = "allocated", as = "tina" }
end)
