-- Scenario tests for procedures/case_routing.lua (source 001) and the review-date monitor:
--   casekit test procedures/tests/case_routing_test.lua
-- The clock starts at 2026-11-20T09:00:00Z.

-- An enforcement casegroup (region E&W unless given) with one receiving parent owed 5,000.00.
local function enforcement_case(t, o)
  o = o or {}
  t.user("erin", "caseworker", "Enforcement")
  t.user("tina", "team_leader", "Enforcement")
  t.user("sue", "senior_manager", "Enforcement")  -- signs off CMEL9271
  t.user("anna", "caseworker", "Arrears")  -- works the child arrears negotiations
  local pp = case.create_client { name = "Pat Payer", nino = "CD000000A",
    address = { line1 = "1 Mill Lane", postcode = "M1 1AA", status = o.address or "confirmed" } }
  local rp = case.create_client { name = "Robin Receiver", nino = "CD000001A",
    address = { line1 = "2 Mill Lane", postcode = "M1 1AB" } }
  local cg = case.create_casegroup { paying_parent = pp, segment = "Enforcement",
                                     region = o.region or "E&W" }
  local c = cg:add_case { receiving_parent = rp }
  payment.open_account { client = pp, method = "SO" }
  payment.add_due { casegroup = cg, case = c, owed_to = "RP", amount = 500000 }
  return cg
end

local function power(cg, name, status)
  local s = sr.create { process = "Enforcement", area = "Enforcement Action", sub_area = name,
                        casegroup = cg, status = status ~= "Closed" and status or "In Progress" }
  if status == "Closed" then s:close("Complete") end
  return s
end

local function routing_sr(cg)
  local all = sr.find { casegroup = cg, sub_area = "Review Case and Decide on Action" }
  return all[#all]
end

-- Step 1 accepted, then step 3: Gather Information comes before every decision.
local function accept(t)
  t.complete { kind = "review_history", outcome = "accept", as = "erin" }
  t.complete { kind = "gather_information", outcome = "complete", as = "erin",
               fields = { welfare_of_the_child = "no adverse effect on the children" } }
end

local function start(t, cg, reason)
  local id = t.start("case_routing", { casegroup = cg, params = { reason = reason or "Missed payment" },
                                        as = "erin" })
  accept(t)
  return id
end

local function decide(t, decision, fields)
  t.complete { kind = "decide_next_action", outcome = decision, fields = fields, as = "erin" }
end

-- A senior manager signs off the CMEL9271 waiting for it (procedures/lib/free_text_letter.lua).
local function sign_off(t, who)
  t.complete { kind = "letter_sign_off", outcome = "signed off", as = who or "sue" }
end

local function last_note(s)
  local notes = s:notes()
  return notes[#notes].text
end

local function letters(template)
  local out, id = {}, 1
  while true do
    local ok, l = pcall(letter.get, id)
    if not ok then return out end
    if l.template == template then out[#out + 1] = l.recipient.name end
    id = id + 1
  end
end

-- ---- review -----------------------------------------------------------------------------

scenario("review: the flags are noted; accepting sets Ever in Enforcement", function(t)
  local cg = enforcement_case(t)
  cg:set_flag("lock_assignment")
  start(t, cg)
  local s = routing_sr(cg)
  t.eq(s.status, "In Progress")
  t.eq(s:notes()[1].text, "Flags set: lock_assignment")
  t.eq(cg:has_flag("ever_in_enforcement"), true)
end)

scenario("referred incorrectly: rejected, Ever in Enforcement not set", function(t)
  local cg = enforcement_case(t)
  local id = t.start("case_routing", { casegroup = cg, params = { reason = "Case transferred to enforcement" },
                                       as = "erin" })
  t.complete { kind = "review_history", outcome = "reject", as = "erin",
               fields = { notes = "no liability order: referred too early", destination = "Maintenance" } }
  local s = routing_sr(cg)
  t.eq(s.resolution_code, "Rejected")
  t.eq(cg:has_flag("ever_in_enforcement"), false)
  t.eq(cg.segment, "Maintenance")
  t.eq(t.instance(id).result, "rejected")
end)

scenario("a rejected case that cannot be transferred yet: asked again until it can", function(t)
  local cg = enforcement_case(t)
  cg:set_flag("lock_assignment")
  local id = t.start("case_routing", { casegroup = cg, params = { reason = "Missed payment" },
                                       as = "erin" })
  t.complete { kind = "review_history", outcome = "reject", as = "erin",
               fields = { notes = "referred too early", destination = "Maintenance" } }
  local s = routing_sr(cg)
  t.eq(last_note(s), "Cannot transfer: remove these indicators before returning the case to "
    .. "maintenance: Lock assignment")
  t.eq(cg.segment, "Enforcement", "not transferred")
  t.eq(s.is_open, true)
  local again = t.tasks { kind = "review_history" }[1]
  t.eq(#again.outcomes, 1)
  t.eq(again.outcomes[1], "reject")
  cg:set_flag("lock_assignment", false)
  t.complete { kind = "review_history", outcome = "reject", as = "erin",
               fields = { notes = "lock removed", destination = "Maintenance" } }
  t.eq(cg.segment, "Maintenance")
  t.eq(s.resolution_code, "Rejected")
  t.eq(cg:has_flag("ever_in_enforcement"), false)
  t.eq(t.instance(id).result, "rejected")
end)

scenario("an unknown trigger is refused", function(t)
  local cg = enforcement_case(t)
  local id = t.start("case_routing", { casegroup = cg, params = { reason = "Bored" }, as = "erin" })
  t.eq(t.instance(id).status, "failed")
  t.expect(string.find(t.instance(id).error, "not a case routing trigger", 1, true), "why")
  t.eq(#sr.find { casegroup = cg }, 0, "nothing left behind")
end)

scenario("an SR handed over must be a routing SR of the same casegroup", function(t)
  local cg = enforcement_case(t)
  local theirs = sr.create { process = "Enforcement", area = "Assess Next Action",
                             sub_area = "Review Case and Decide on Action", reason = "Missed payment" }
  local other = power(cg, "Liability Order", "In Progress")
  for _, s in ipairs({ theirs, other }) do
    local id = t.start("case_routing", { casegroup = cg, params = { sr = tostring(s.id) }, as = "erin" })
    t.eq(t.instance(id).status, "failed")
    t.expect(string.find(t.instance(id).error, "SR " .. s.id .. " is not a Review Case and "
      .. "Decide on Action SR of casegroup " .. cg.id, 1, true), t.instance(id).error)
  end
  t.eq(#t.tasks {}, 0, "no work items")
end)

-- ---- decisions ----------------------------------------------------------------------------

scenario("step 3 before any decision: a Gather Information child SR, the CRA searched, the welfare of the child recorded", function(t)
  local cg = enforcement_case(t)
  t.start("case_routing", { casegroup = cg, params = { reason = "Missed payment" }, as = "erin" })
  t.complete { kind = "review_history", outcome = "accept", as = "erin" }
  local s = routing_sr(cg)
  t.eq(#t.tasks { kind = "decide_next_action" }, 0, "no decision before the information")
  local gather = s:children()[1]
  t.eq(gather.sub_area, "Gather Information")
  t.eq(gather.status, "In Progress")
  t.expect(string.find(gather:notes()[1].text, "CRA searched: ", 1, true), gather:notes()[1].text)
  t.refuses(function()
    t.complete { kind = "gather_information", outcome = "complete", as = "erin" }
  end, "welfare_of_the_child")
  t.complete { kind = "gather_information", outcome = "complete", as = "erin",
               fields = { welfare_of_the_child = "no adverse effect on the children",
                          information = "HMRC: no employer" } }
  t.eq(gather.sub_status, "Complete")
  t.eq(gather:notes()[2].text, "Welfare of the Child decision: no adverse effect on the children")
  t.eq(gather:notes()[3].text, "HMRC: no employer")
  t.eq(s:steps()[2].name, "Initiate Data Gathering")
  t.eq(s:steps()[2].status, "done")
  -- Whatever is decided next, not only Initiate: here a pause.
  decide(t, "Pause Enforcement Action", { reason = "awaiting HMRC", review_date = "2027-01-20",
                                          rp_contacted = "yes" })
  t.eq(s.sub_status, "Complete")
  t.eq(#s:children(), 1, "one Gather Information SR")
end)

scenario("step 3: the CRA refuses a search without a confirmed address, and the refusal is noted", function(t)
  local cg = enforcement_case(t, { address = "DLO" })
  start(t, cg)
  local gather = routing_sr(cg):children()[1]
  t.expect(string.find(gather:notes()[1].text, "CRA search refused: ", 1, true),
           gather:notes()[1].text)
end)

scenario("initiate: the power launched and linked, after the information was gathered", function(t)
  local cg = enforcement_case(t)
  local id = start(t, cg)
  decide(t, "Initiate Enforcement Action", { power = "Liability Order" })
  local s = routing_sr(cg)
  local lo = sr.find { casegroup = cg, sub_area = "Liability Order" }[1]
  t.eq(lo.status, "In Progress")
  t.eq(s:related()[1].id, lo.id)
  t.eq(s.sub_status, "Complete")
  t.eq(t.instance(id).result, "initiate")
end)

scenario("initiate an unknown power: refused, nothing launched, asked again", function(t)
  local cg = enforcement_case(t)
  start(t, cg)
  decide(t, "Initiate Enforcement Action", { power = "Thumbscrews" })
  local s = routing_sr(cg)
  t.eq(last_note(s), "Initiate Enforcement Action not carried out: power 'Thumbscrews' is "
    .. "not an enforcement power")
  t.eq(#s:children(), 1, "the Gather Information SR only")
  t.eq(#sr.find { casegroup = cg }, 2, "no SR but the routing SR and its Gather Information SR")
  t.eq(#t.tasks { kind = "decide_next_action" }, 1)
  t.eq(s.is_open, true)
end)

scenario("pause: review date, enforcement SRs Ready for Pause, CMEL7402 when the RP is not reached, optional CMEL9271", function(t)
  local cg = enforcement_case(t)
  local lo = power(cg, "Liability Order")
  start(t, cg)
  decide(t, "Pause Enforcement Action",
         { reason = "paying parent in hospital", review_date = "2027-02-01",
           letter_text = "We have paused enforcement action." })
  t.eq(cg.review_date, "2027-02-01")
  t.eq(lo.sub_status, "Ready for Pause")
  t.eq(letters("CMEL7402")[1], "Robin Receiver")
  t.eq(#letters("CMEL9271"), 0, "not before a team leader signs it off")
  sign_off(t)
  t.eq(letters("CMEL9271")[1], "Pat Payer")
  t.eq(routing_sr(cg):field("set_case_for_review"), "Setup Only")
end)

scenario("pause: no CMEL7402 when the receiving parent was called; a past review date is refused", function(t)
  local cg = enforcement_case(t)
  start(t, cg)
  decide(t, "Pause Enforcement Action", { reason = "x", review_date = "2026-11-01", rp_contacted = "yes" })
  t.expect(string.find(last_note(routing_sr(cg)), "after today", 1, true), "refused")
  decide(t, "Pause Enforcement Action", { reason = "x", review_date = "2027-01-10", rp_contacted = "yes" })
  t.eq(#letters("CMEL7402"), 0)
  t.eq(cg.review_date, "2027-01-10")
end)

scenario("review-date monitor: one SR when the date is reached; a date changed before it falls raises only the new one", function(t)
  local cg = enforcement_case(t)
  start(t, cg)
  decide(t, "Pause Enforcement Action", { reason = "x", review_date = "2026-12-01", rp_contacted = "yes" })
  t.advance { days = 5 }
  -- Paused again before the first date falls: the new date overrides it.
  start(t, cg, "New information received during enforcement action")
  decide(t, "Pause Enforcement Action", { reason = "y", review_date = "2026-12-20", rp_contacted = "yes" })
  t.advance { days = 10 } -- 2026-12-05: past the old date
  t.run_script("review_date_monitor.lua")
  t.eq(#sr.find { casegroup = cg, sub_area = "Review Case and Decide on Action" }, 2, "nothing for the old date")
  t.advance { days = 15 } -- 2026-12-20
  t.run_script("review_date_monitor.lua")
  t.run_script("review_date_monitor.lua")
  local all = sr.find { casegroup = cg, sub_area = "Review Case and Decide on Action" }
  t.eq(#all, 3, "one SR for the new date, however often the monitor runs")
  t.eq(all[3].reason, "Review duration time elapsed")
  t.eq(all[3]:field("raised_for_review_date"), "2026-12-20")
  t.eq(#t.tasks { kind = "review_history" }, 1, "case routing started on it")
end)

scenario("resume: paused SRs re-progressed, CMEL9271 to both parents", function(t)
  local cg = enforcement_case(t)
  local lo = power(cg, "Liability Order")
  lo:set_status("In Progress", "Ready for Pause")
  cg:set_review_date("2027-01-01")
  start(t, cg)
  decide(t, "Resume Enforcement Action", { reason = "new employer found" })
  t.expect(string.find(last_note(routing_sr(cg)), "letter_text", 1, true), "letter text required")
  decide(t, "Resume Enforcement Action", { reason = "new employer found",
                                           letter_text = "Enforcement has resumed." })
  t.eq(lo.sub_status, "Ready for Re-progressing")
  t.eq(cg.review_date, nil)
  sign_off(t)
  t.eq(#letters("CMEL9271"), 2)
end)

scenario("resume with nothing paused is refused", function(t)
  local cg = enforcement_case(t)
  start(t, cg)
  decide(t, "Resume Enforcement Action", { reason = "r", letter_text = "x" })
  t.expect(string.find(last_note(routing_sr(cg)), "no paused enforcement SR", 1, true), "refused")
  t.eq(routing_sr(cg).is_open, true)
end)

scenario("amend: exit with no validation cancels the enforcement SR; with validation keeps it", function(t)
  local cg = enforcement_case(t)
  local sanctions = power(cg, "Sanctions")
  sanctions:add_step("Apply to court")
  start(t, cg)
  decide(t, "Amend Enforcement Action", { enforcement_sr = tostring(sanctions.id),
    amendment_reason = "Exceptional circumstances", amendment_comments = "wrong court",
    exit = "no validation" })
  t.eq(sanctions.sub_status, "Cancelled")
  t.eq(sanctions:steps()[1].status, "skipped")
  t.eq(sanctions:field("amendment_reason"), "Exceptional circumstances")
  local amend = sr.find { casegroup = cg, sub_area = "Consider Amendment" }[1]
  t.eq(amend:related()[1].id, sanctions.id)
  t.eq(amend:field("cancel_enf_action"), "Exit No Validation")

  local order = power(cg, "Charging Order")
  start(t, cg)
  decide(t, "Amend Enforcement Action", { enforcement_sr = tostring(order.id),
    amendment_reason = "Change of address", amendment_comments = "moved", exit = "with validation" })
  t.eq(order.is_open, true)
  t.eq(order.sub_status, "Perform Amendment")
end)

scenario("amend with a letter: CMEL9271 to the paying parent once signed off, on the amendment SR", function(t)
  local cg = enforcement_case(t)
  local order = power(cg, "Charging Order")
  start(t, cg)
  decide(t, "Amend Enforcement Action", { enforcement_sr = tostring(order.id),
    amendment_reason = "Change of address", amendment_comments = "moved", exit = "with validation",
    letter_text = "We have amended the charging order." })
  local amend = sr.find { casegroup = cg, sub_area = "Consider Amendment" }[1]
  t.eq(#letters("CMEL9271"), 0, "not before a senior manager signs it off")
  local item = t.tasks { kind = "letter_sign_off" }[1]
  t.eq(item.sr, amend.id)
  t.expect(string.find(item.title, "to Pat Payer: \"We have amended the charging order.\"", 1, true),
           item.title)
  sign_off(t)
  local sent = letters("CMEL9271")
  t.eq(#sent, 1, "to the paying parent only")
  t.eq(sent[1], "Pat Payer")
  t.eq(order.sub_status, "Perform Amendment")
  t.eq(amend.status, "Closed")
end)

scenario("case surveillance: refused until the jurisdiction's actions are exhausted", function(t)
  local cg = enforcement_case(t, { region = "Scotland" })
  power(cg, "Liability Order", "Closed")
  start(t, cg)
  decide(t, "Case Surveillance Action", { reason = "no assets", review_date = "2027-06-01" })
  local refusal = last_note(routing_sr(cg))
  t.expect(string.find(refusal, "Arrestment", 1, true), "Scotland's actions are listed")
  t.expect(not string.find(refusal, "Liability Order", 1, true), "done ones are not")
  t.expect(not string.find(refusal, "Bailiff", 1, true), "E&W's are not")
end)

scenario("case surveillance: at most 12 months; flags set, lock removed, missed payments stay disabled", function(t)
  local cg = enforcement_case(t)
  cg:set_flag("lock_assignment")
  cg:set_flag("disable_missed_payment_monitor")
  local all = "Disclosure of Deduction Order, Liability Order, Sanctions, FIU Fraud Referral, "
    .. "Bailiff Action Referral, Charging Order"
  start(t, cg)
  decide(t, "Case Surveillance Action", { reason = "no assets", review_date = "2027-11-21", exhausted = all })
  t.expect(string.find(last_note(routing_sr(cg)), "12 months", 1, true), "13 months refused")
  decide(t, "Case Surveillance Action", { reason = "no assets", review_date = "2027-11-20", exhausted = all })
  t.eq(cg.review_date, "2027-11-20")
  t.eq(cg:has_flag("ever_in_enforcement"), true)
  t.eq(cg:has_flag("deo_desire"), true)
  t.eq(cg:has_flag("lock_assignment"), false)
  t.eq(cg:has_flag("disable_missed_payment_monitor"), true)
  t.eq(cg.segment, "Maintenance")
  t.eq(routing_sr(cg):field("set_case_for_review"), "Setup and Transfer")
end)

scenario("case surveillance, remaining in enforcement: Setup Only, the segment kept", function(t)
  local cg = enforcement_case(t)
  local all = "Disclosure of Deduction Order, Liability Order, Sanctions, FIU Fraud Referral, "
    .. "Bailiff Action Referral, Charging Order"
  local id = start(t, cg)
  decide(t, "Case Surveillance Action", { reason = "no assets", review_date = "2027-06-01",
                                          exhausted = all, remain_in_enforcement = "yes" })
  t.eq(routing_sr(cg):field("set_case_for_review"), "Setup Only")
  t.eq(cg.segment, "Enforcement")
  t.eq(cg.review_date, "2027-06-01")
  t.eq(routing_sr(cg).sub_status, "Complete")
  t.eq(t.instance(id).status, "waiting", "watching for the ways out of surveillance (step 41)")
end)

-- A casegroup put in surveillance until 2027-06-01; returns the instance watching it.
local function in_surveillance(t, cg)
  local id = start(t, cg)
  decide(t, "Case Surveillance Action", { reason = "no assets", review_date = "2027-06-01",
    exhausted = "Disclosure of Deduction Order, Liability Order, Sanctions, FIU Fraud Referral, "
      .. "Bailiff Action Referral, Charging Order" })
  return id
end

scenario("out of surveillance: a new CIS address raises a fresh case routing SR at once", function(t)
  local cg = enforcement_case(t)
  local id = in_surveillance(t, cg)
  t.advance { days = 40 }
  t.refuses(function() t.signal { casegroup = cg, name = "new_address", as = "erin" } end,
            "waiting for signal 'new_address'")
  t.refuses(function() t.signal { casegroup = cg, name = "cis_address", as = "nobody" } end,
            "nobody")
  t.eq(#sr.find { casegroup = cg, sub_area = "Review Case and Decide on Action" }, 1,
       "a refused signal changes nothing")
  t.eq(t.signal { casegroup = cg, name = "cis_address", as = "erin",
                  data = { postcode = "M9 9ZZ" } }, 1)
  t.eq(t.instance(id).result, "surveillance")
  local again = routing_sr(cg)
  t.eq(again.reason, "New information received during enforcement action")
  t.expect(string.find(again:notes()[1].text, "a new address is highlighted via CIS, signalled by "
    .. "erin (postcode: M9 9ZZ)", 1, true), again:notes()[1].text)
  t.eq(#t.tasks { kind = "review_history" }, 1, "case routing started on it")
end)

scenario("out of surveillance: HMRC employment details, client contact and annual review exceptions too", function(t)
  local cg = enforcement_case(t)
  in_surveillance(t, cg)
  for n, name in ipairs({ "hmrc_employment", "client_contact", "annual_review_exception" }) do
    t.signal { casegroup = cg, name = name, as = "erin" }
    local all = sr.find { casegroup = cg, sub_area = "Review Case and Decide on Action" }
    t.eq(#all, n + 1, name)
    t.eq(all[#all].reason, "New information received during enforcement action", name)
    -- The fresh SR's case manager puts the case back into surveillance.
    accept(t)
    decide(t, "Case Surveillance Action", { reason = "still no assets", review_date = "2027-06-01",
      exhausted = "Disclosure of Deduction Order, Liability Order, Sanctions, FIU Fraud Referral, "
        .. "Bailiff Action Referral, Charging Order" })
  end
end)

scenario("categorisation: refused on a casegroup that is not arrears only, even after surveillance cycles", function(t)
  local cg = enforcement_case(t)
  local exhausted = "Disclosure of Deduction Order, Liability Order, Sanctions, FIU Fraud "
    .. "Referral, Bailiff Action Referral, Charging Order"
  in_surveillance(t, cg)
  t.eq(cg.segment, "Maintenance")
  t.signal { casegroup = cg, name = "client_contact", as = "erin" }
  accept(t)
  decide(t, "Case Surveillance Action", { reason = "no assets", review_date = "2027-06-01",
                                          exhausted = exhausted, categorise = "yes" })
  t.expect(string.find(last_note(routing_sr(cg)), "only an arrears-only casegroup", 1, true),
           last_note(routing_sr(cg)))
  t.eq(cg.segment, "Maintenance")
end)

scenario("categorisation: refused on a first surveillance cycle, then allowed on the next", function(t)
  local cg = enforcement_case(t)
  local arrears_only = case.create_casegroup { paying_parent = case.create_client { name = "Ann Only",
    address = { line1 = "3 Mill Lane", postcode = "M1 1AC" } }, segment = "Enforcement",
    arrears_only = true, region = "E&W" }
  arrears_only:add_case { receiving_parent = case.create_client { name = "Ray Only" } }
  local exhausted = "Disclosure of Deduction Order, Liability Order, Sanctions, FIU Fraud "
    .. "Referral, Bailiff Action Referral, Charging Order"
  start(t, arrears_only)
  decide(t, "Case Surveillance Action", { reason = "no assets", review_date = "2027-06-01",
                                          exhausted = exhausted, categorise = "yes" })
  t.expect(string.find(last_note(routing_sr(arrears_only)), "has been through none", 1, true),
           last_note(routing_sr(arrears_only)))
  decide(t, "Case Surveillance Action", { reason = "no assets", review_date = "2027-06-01",
                                          exhausted = exhausted })
  t.eq(arrears_only.segment, "Maintenance")
  t.signal { casegroup = arrears_only, name = "client_contact", as = "erin" }
  accept(t)
  decide(t, "Case Surveillance Action", { reason = "still no assets", review_date = "2027-11-01",
                                          exhausted = exhausted, categorise = "yes" })
  local s = routing_sr(arrears_only)
  t.eq(arrears_only.segment, "Arrears Only Categorised")
  t.eq(s:field("set_case_for_review"), "Setup and Transfer")
  t.eq(last_note(s), "Arrears only, after 1 previous surveillance cycles: the debt is "
    .. "categorised (Arrears Only Categorised)")
  t.eq(cg.segment, "Enforcement", "the other casegroup untouched")
end)

scenario("surveillance review date reached: the watch ends, the review-date monitor raises the SR", function(t)
  local cg = enforcement_case(t)
  local id = in_surveillance(t, cg)
  t.advance { days = 193 } -- 2027-06-01
  t.eq(t.instance(id).result, "surveillance")
  t.refuses(function() t.signal { casegroup = cg, name = "cis_address", as = "erin" } end,
            "no instance")
  t.run_script("review_date_monitor.lua")
  t.eq(routing_sr(cg).reason, "Review duration time elapsed")
end)

scenario("case surveillance: 6 months at most when the paying parent is DLO", function(t)
  local cg = enforcement_case(t, { region = "NI", address = "DLO" })
  local all = "Disclosure of Deduction Order, Liability Order, Sanctions, FIU Fraud Referral"
  start(t, cg)
  decide(t, "Case Surveillance Action", { reason = "DLO", review_date = "2027-05-21", exhausted = all })
  t.expect(string.find(last_note(routing_sr(cg)), "6 months", 1, true), "refused")
  decide(t, "Case Surveillance Action", { reason = "DLO", review_date = "2027-05-20", exhausted = all })
  t.eq(cg.review_date, "2027-05-20")
end)

scenario("transfer to maintenance: no approval; refused while enforcement flags are set", function(t)
  local cg = enforcement_case(t)
  cg:set_flag("court_enforced_schedule")
  start(t, cg)
  decide(t, "Transfer Case", { destination = "Maintenance" })
  t.expect(string.find(last_note(routing_sr(cg)), "Court enforced schedule", 1, true), "refused")
  cg:set_flag("court_enforced_schedule", false)
  decide(t, "Transfer Case", { destination = "Maintenance" })
  t.eq(cg.segment, "Maintenance")
  t.eq(#t.tasks { inbox = "team_leader" }, 0)
  t.eq(routing_sr(cg):field("transfer"), "Transfer Case To Maintenance Only")
end)

scenario("transfer to the Central Team: team leader approval, not by the submitter", function(t)
  local cg = enforcement_case(t)
  start(t, cg)
  decide(t, "Transfer Case", { destination = "Central Team" })
  t.eq(routing_sr(cg).status, "Initiate Approval Process")
  t.refuses(function()
    t.complete { inbox = "team_leader", outcome = "rejected", as = "tina" }
  end, "reasons")
  t.complete { inbox = "team_leader", outcome = "rejected", as = "tina", fields = { reasons = "not complex" } }
  t.eq(cg.segment, "Enforcement")
  decide(t, "Transfer Case", { destination = "Central Team" })
  t.complete { inbox = "team_leader", outcome = "approved", as = "tina" }
  t.eq(cg.segment, "Central Team")
end)

scenario("lock assignment: flag set, certificate noted when the LO is from another jurisdiction", function(t)
  local cg = enforcement_case(t, { region = "Scotland" })
  start(t, cg)
  decide(t, "Lock Assignment Flag", { lo_granted_in = "E&W" })
  t.eq(cg:has_flag("lock_assignment"), true)
  t.expect(string.find(last_note(routing_sr(cg)), "Certificate of Money Provision", 1, true), "noted")
end)

scenario("lock assignment within one jurisdiction: no certificate needed", function(t)
  local cg = enforcement_case(t, { region = "Scotland" })
  local id = start(t, cg)
  decide(t, "Lock Assignment Flag", { lo_granted_in = "Scotland" })
  t.eq(cg:has_flag("lock_assignment"), true)
  for _, n in ipairs(routing_sr(cg):notes()) do
    t.expect(not string.find(n.text, "Certificate of Money Provision", 1, true), n.text)
  end
  t.eq(t.instance(id).result, "lock_assignment")
end)

scenario("clear artefacts: a Clear Artefacts SR, CMEL9116 to the solicitor, CMEL9271 to the paying parent", function(t)
  local cg = enforcement_case(t)
  local sanctions = power(cg, "Sanctions", "Closed")
  start(t, cg, "Liability order paid off")
  decide(t, "Clear Enforcement Artefacts", { original_sr = tostring(sanctions.id),
    artefacts_outstanding = "yes", letter_text = "The sanction against you has been lifted." })
  t.complete { kind = "clear_artefacts", outcome = "lifted", as = "erin", fields = {
    sanction = "Order of Disqualification from driving", sanction_date = "2026-03-01",
    amount_paid = "500000", amount_outstanding = "0", solicitor = "Smith & Co",
    solicitor_address = "3 Court Street", solicitor_postcode = "M2 2CC" } }
  sign_off(t)
  local clear = sr.find { casegroup = cg, sub_area = "Clear Artefacts" }[1]
  t.eq(clear.sub_status, "Complete")
  t.eq(clear:field("artefact_status"), "No")
  t.eq(letters("CMEL9116")[1], "Smith & Co")
  t.eq(letters("CMEL9271")[1], "Pat Payer")
  t.expect(string.find(letter.get(1).body, "lift the Order of Disqualification", 1, true), "CMEL9116")
  t.eq(routing_sr(cg).sub_status, "Closed")
end)

-- The Enforce form for a lifted driving disqualification, as the clear_artefacts item takes it.
local CLEARED = { sanction = "Order of Disqualification from driving", sanction_date = "2026-03-01",
                  amount_paid = "500000", amount_outstanding = "0", solicitor = "Smith & Co",
                  solicitor_address = "3 Court Street", solicitor_postcode = "M2 2CC" }

scenario("clear artefacts, case not in enforcement: a wait, the line manager's approval, the enforcement team, then back", function(t)
  local cg = enforcement_case(t)
  local sanctions = power(cg, "Sanctions", "Closed")
  cg:set_segment("Maintenance")
  start(t, cg, "Liability order paid off")
  decide(t, "Clear Enforcement Artefacts", { original_sr = tostring(sanctions.id),
    artefacts_outstanding = "yes", letter_text = "The sanction has been lifted.", wait_days = "7" })
  local old = sr.find { casegroup = cg, sub_area = "Clear Old Enforcement Actions" }[1]
  t.eq(old.area, "Transfer case to enforcement")
  t.eq(old.reason, "Sanctions", "the originating enforcement action")
  t.eq(old.status, "Wait", "waiting for other actions to finish (step 62)")
  t.eq(#t.tasks { kind = "approval" }, 0)
  t.advance { days = 7 }
  local clear = sr.find { casegroup = cg, sub_area = "Clear Artefacts" }[1]
  t.eq(clear.status, "Pending Approval")
  t.eq(clear.parent.id, old.id)
  local approval = t.tasks { kind = "approval" }[1]
  t.eq(approval.inbox, "team_leader")
  t.eq(approval.sr, clear.id)
  t.eq(cg.segment, "Maintenance", "nothing moves before the approval")
  t.complete { kind = "approval", outcome = "approved", as = "tina" }
  t.eq(old.status, "Closed")
  t.eq(old.sub_status, "Complete")
  t.eq(cg.segment, "Enforcement", "forwarded to the enforcement team (step 64)")
  t.eq(clear.status, "In Progress")
  t.complete { kind = "clear_artefacts", outcome = "lifted", as = "erin", fields = CLEARED }
  sign_off(t)
  t.eq(clear.sub_status, "Complete")
  t.eq(letters("CMEL9116")[1], "Smith & Co")
  t.eq(letters("CMEL9271")[1], "Pat Payer")
  t.eq(cg.segment, "Maintenance", "transferred back to where it came from")
  t.eq(routing_sr(cg).sub_status, "Closed")
end)

scenario("clear artefacts, case not in enforcement: not authorised, nothing cleared, decided again", function(t)
  local cg = enforcement_case(t)
  local sanctions = power(cg, "Sanctions", "Closed")
  cg:set_segment("Maintenance")
  start(t, cg, "Liability order paid off")
  t.complete { kind = "decide_next_action", outcome = "Clear Enforcement Artefacts", as = "tina",
               fields = { original_sr = tostring(sanctions.id), artefacts_outstanding = "yes",
                          letter_text = "x" } }
  local old = sr.find { casegroup = cg, sub_area = "Clear Old Enforcement Actions" }[1]
  t.eq(old:steps()[1].status, "skipped", "no wait asked for")
  t.refuses(function()
    t.complete { kind = "approval", outcome = "approved", as = "tina" }
  end, "segregation of duties")
  t.user("tom", "team_leader", "Enforcement")
  t.complete { kind = "approval", outcome = "rejected", as = "tom",
               fields = { reasons = "the charging order is still needed" } }
  t.eq(old.resolution_code, "Rejected")
  t.eq(sr.find { casegroup = cg, sub_area = "Clear Artefacts" }[1].sub_status, "Cancelled")
  t.eq(cg.segment, "Maintenance")
  t.eq(#letters("CMEL9116"), 0)
  t.expect(string.find(last_note(routing_sr(cg)), "not authorised: the charging order", 1, true),
           last_note(routing_sr(cg)))
  t.eq(#t.tasks { kind = "decide_next_action" }, 1)
end)

scenario("clear artefacts: a wait of more than 90 days is refused before anything is raised", function(t)
  local cg = enforcement_case(t)
  local sanctions = power(cg, "Sanctions", "Closed")
  cg:set_segment("Maintenance")
  start(t, cg, "Liability order paid off")
  decide(t, "Clear Enforcement Artefacts", { original_sr = tostring(sanctions.id),
    artefacts_outstanding = "yes", letter_text = "x", wait_days = "120" })
  t.expect(string.find(last_note(routing_sr(cg)), "wait_days", 1, true), "refused")
  t.eq(#sr.find { casegroup = cg, sub_area = "Clear Old Enforcement Actions" }, 0)
end)

scenario("clear artefacts with none outstanding: the original SR linked, nothing sent", function(t)
  local cg = enforcement_case(t)
  local lo = power(cg, "Liability Order", "Closed")
  start(t, cg, "Liability order paid off")
  decide(t, "Clear Enforcement Artefacts", { original_sr = tostring(lo.id) })
  t.eq(routing_sr(cg):related()[1].id, lo.id)
  t.eq(#letters("CMEL9116"), 0)
end)

-- The negotiation decision (steps 65-70), with the fields given over these defaults.
local function negotiation_decision(t, cg, fields)
  local f = { transfer_to_maintenance = "2027-03-01", court_enforced_schedule = "yes",
              disable_missed_payments = "no" }
  for k, v in pairs(fields or {}) do f[k] = v end
  local id = start(t, cg)
  decide(t, "Arrears Negotiation and Court Enforced Schedules", f)
  local negotiation = sr.find { casegroup = cg, sub_area = "Negotiation" }[1]
  return id, negotiation, negotiation:children()[1]
end

-- The caseworker agrees 20 monthly collections of 250.00 from 2026-12-01 in the child
-- arrears negotiation, and its letters go out: the Action Missed Payment SR closes.
local function agree_schedule(t)
  t.complete { kind = "negotiate_schedule", outcome = "agreed", as = "anna",
               fields = { amount_per_period = "25000", frequency = "monthly",
                          first_collection_date = "2026-12-01", schedule_acceptable = "yes",
                          ogm = "0" } }
  t.fulfil_letters()
end

local function step_status(s, name)
  for _, step in ipairs(s:steps()) do
    if step.name == name then return step.status end
  end
end

scenario("negotiation: the Negotiation SR stays open until the child Action Missed Payment SR ends", function(t)
  local cg = enforcement_case(t)
  local _, negotiation, amp = negotiation_decision(t, cg, { lo_reference = "LO-123" })
  t.eq(amp.sub_area, "Action Missed Payment")
  t.eq(amp:field("transfer_to_maintenance"), "2027-03-01")
  t.eq(#t.tasks { kind = "negotiate_schedule" }, 1, "arrears negotiation works the child SR")
  t.eq(negotiation.status, "In Progress")
  t.eq(step_status(negotiation, "Initiate Negotiation"), "done")
  t.eq(step_status(negotiation, "Is Negotiation Successful"), "pending")
  t.eq(step_status(negotiation, "Proceed for Updating LO as Court Enforced"), "pending")
  t.eq(routing_sr(cg).status, "In Progress")
  t.eq(cg:has_flag("court_enforced_schedule"), false, "not before a schedule is agreed")
  t.eq(#letters("CMSB046"), 0, "CMSB046 only if the LO reference is not used (step 74)")
end)

scenario("negotiation successful: LO marked court enforced, monitored, back to maintenance at the date", function(t)
  local cg = enforcement_case(t)
  local id, negotiation, amp = negotiation_decision(t, cg)
  agree_schedule(t)
  t.eq(amp.status, "Closed")
  t.eq(negotiation.sub_status, "Complete")
  t.eq(negotiation:field("negotiation_successful"), "yes")
  t.eq(step_status(negotiation, "Is Negotiation Successful"), "done")
  t.eq(step_status(negotiation, "Proceed for Updating LO as Court Enforced"), "done")
  t.eq(step_status(negotiation, "Proceed for Work Item Closure"), "done")
  t.eq(cg:has_flag("court_enforced_schedule"), true)
  t.eq(routing_sr(cg).sub_status, "Complete")
  t.eq(cg:has_flag("disable_missed_payment_monitor"), false)
  local account = payment.account(cg)
  -- The first three collections paid in advance: nothing is missed while monitored.
  payment.record { account = account, amount = 75000, date = "2026-12-01", method = "SO" }
  t.advance { days = 99 } -- 2027-02-27: still monitored
  t.eq(t.instance(id).status, "waiting")
  t.eq(#sr.find { casegroup = cg, sub_area = "Review Case and Decide on Action" }, 1)
  t.advance { days = 2 } -- 2027-03-01
  t.eq(t.instance(id).result, "negotiation")
  local back = routing_sr(cg)
  t.eq(back.reason, "Transfer case to maintenance")
  t.eq(#t.tasks { kind = "review_history" }, 1)
end)

scenario("negotiation successful, schedule not court enforced: the LO step is skipped", function(t)
  local cg = enforcement_case(t)
  local _, negotiation = negotiation_decision(t, cg, { court_enforced_schedule = "no" })
  agree_schedule(t)
  t.eq(step_status(negotiation, "Is Negotiation Successful"), "done")
  t.eq(step_status(negotiation, "Proceed for Updating LO as Court Enforced"), "skipped")
  t.eq(cg:has_flag("court_enforced_schedule"), false)
end)

-- 000 Gather Information: a renegotiation request on an SR not generated today closes it
-- Cancelled. When that SR is case routing's child, case routing sees a negotiation that
-- issued no schedule, and the next action is decided again; the new SR is negotiated.
scenario("a renegotiation request cancels case routing's child SR: decided again, the new SR negotiated", function(t)
  local cg = enforcement_case(t)
  local id, negotiation, amp = negotiation_decision(t, cg)
  t.advance { days = 1 }
  local renegotiation = t.start("arrears_negotiation", { casegroup = cg, as = "anna",
                                                         params = { reason = "Negotiation Requested" } })
  t.eq(amp.status, "Closed")
  t.eq(amp.sub_status, "Cancelled")
  t.eq(negotiation:field("negotiation_successful"), "no")
  t.eq(routing_sr(cg).status, "In Progress", "case routing goes on")
  t.eq(#t.tasks { kind = "decide_next_action" }, 1, "the next action is decided again")
  local new = sr.find { casegroup = cg, sub_area = "Action Missed Payment", open = true }
  t.eq(#new, 1)
  t.expect(new[1].id ~= amp.id, "a new Action Missed Payment SR")
  local on_new = {}
  for _, item in ipairs(t.tasks { kind = "negotiate_schedule" }) do
    if item.sr == new[1].id then on_new[#on_new + 1] = item end
  end
  t.eq(#on_new, 1, "the new SR is negotiated")
  t.eq(t.instance(renegotiation).status, "waiting")
  t.eq(t.instance(id).status, "waiting")
end)

scenario("negotiation unsuccessful: no LO update, the next action is decided again", function(t)
  local cg = enforcement_case(t)
  local id, negotiation, amp = negotiation_decision(t, cg)
  t.complete { kind = "negotiate_schedule", outcome = "refused", as = "anna" }
  t.complete { kind = "negotiation_unsuccessful", outcome = "Refusal to pay - Missed Initial Payment",
               as = "anna" }
  t.eq(amp.status, "Closed")
  t.eq(negotiation.sub_status, "Complete")
  t.eq(negotiation:field("negotiation_successful"), "no")
  t.eq(step_status(negotiation, "Is Negotiation Successful"), "done")
  t.eq(step_status(negotiation, "Proceed for Updating LO as Court Enforced"), "skipped")
  t.eq(cg:has_flag("court_enforced_schedule"), false)
  local s = routing_sr(cg)
  t.eq(s.status, "In Progress", "the case routing SR is not closed")
  t.expect(string.find(last_note(s), "was unsuccessful", 1, true), last_note(s))
  t.eq(#t.tasks { kind = "decide_next_action" }, 1)
  t.eq(t.instance(id).status, "waiting")
end)

scenario("monitoring: a payment that clears the arrears raises case routing for the paid-off LO", function(t)
  local cg = enforcement_case(t)
  local id = negotiation_decision(t, cg)
  agree_schedule(t)
  t.advance { days = 5 } -- before the first collection
  payment.record { account = payment.account(cg), amount = 500000, date = clock.today(),
                   method = "cheque" }
  t.advance {}
  t.eq(t.instance(id).result, "negotiation")
  local again = routing_sr(cg)
  t.eq(again.reason, "Liability order paid off")
  t.eq(#t.tasks { kind = "review_history" }, 1)
end)

scenario("LO reference used on the first payment: no reminder, no CMSB046", function(t)
  local cg = enforcement_case(t)
  local id = negotiation_decision(t, cg, { lo_reference = "LO-123" })
  agree_schedule(t)
  t.eq(routing_sr(cg).status, "In Progress", "watching the first payment (step 74)")
  t.advance { days = 11 } -- 2026-12-01
  payment.record { account = payment.account(cg), amount = 25000, date = clock.today(),
                   method = "SO", reference = "LO-123" }
  t.advance {}
  local s = routing_sr(cg)
  t.eq(s.sub_status, "Complete")
  t.expect(string.find(s:notes()[#s:notes()].text, "referenced with the LO reference LO-123", 1, true),
           "noted")
  t.eq(#t.tasks { kind = "lo_reference_not_used" }, 0)
  t.eq(#letters("CMSB046"), 0)
  t.eq(t.instance(id).status, "waiting", "monitored until the transfer date")
end)

scenario("LO reference not used: remind, CMSB046 again and the manual allocation flag", function(t)
  local cg = enforcement_case(t)
  negotiation_decision(t, cg, { lo_reference = "LO-123" })
  agree_schedule(t)
  t.advance { days = 11 }
  payment.record { account = payment.account(cg), amount = 25000, date = clock.today(),
                   method = "SO", reference = "CSA-9" }
  t.advance {}
  local item = t.tasks { kind = "lo_reference_not_used" }[1]
  t.expect(string.find(item.title, "referenced 'CSA-9'", 1, true), item.title)
  t.refuses(function()
    t.complete { kind = "lo_reference_not_used", outcome = "reminded", as = "erin" }
  end, "send_cmsb046")
  t.complete { kind = "lo_reference_not_used", outcome = "reminded", as = "erin",
               fields = { send_cmsb046 = "yes", manual_allocation = "yes" } }
  t.eq(letters("CMSB046")[1], "Pat Payer")
  t.eq(cg:has_flag("manual_allocation"), true)
  t.eq(routing_sr(cg).sub_status, "Complete")
  -- "so that subsequent payments can be assigned manually": the next payment waits for a person.
  local owed = payment.balance { casegroup = cg }
  local id = payment.record { account = payment.account(cg), amount = 10000,
                              date = clock.today(), method = "SO" }
  local all = payment.payments { account = payment.account(cg) }
  t.eq(all[#all].id, id)
  t.eq(all[#all].allocated, 0, "held for allocation by hand")
  t.eq(payment.balance { casegroup = cg }, owed)
  t.eq(payment.credit(payment.account(cg)), 10000)
end)

scenario("LO reference: no payment by five days after the first collection is a reminder too", function(t)
  local cg = enforcement_case(t)
  negotiation_decision(t, cg, { lo_reference = "LO-123" })
  agree_schedule(t)
  t.advance { days = 15 } -- 2026-12-05: not yet
  t.eq(#t.tasks { kind = "lo_reference_not_used" }, 0)
  t.advance { days = 1 }  -- 2026-12-06
  local item = t.tasks { kind = "lo_reference_not_used" }[1]
  t.expect(string.find(item.title, "no payment has been received", 1, true), item.title)
  t.complete { kind = "lo_reference_not_used", outcome = "no contact", as = "erin",
               fields = { send_cmsb046 = "no", manual_allocation = "no" } }
  t.eq(#letters("CMSB046"), 0)
  t.eq(cg:has_flag("manual_allocation"), false)
end)

scenario("disable missed payment monitor: an AMP SR records both indicators", function(t)
  local cg = enforcement_case(t)
  start(t, cg)
  decide(t, "Disable Missed Payment Monitor", { disable_missed_payments = "yes" })
  t.expect(string.find(last_note(routing_sr(cg)), "yes or no", 1, true), "both needed")
  decide(t, "Disable Missed Payment Monitor",
         { disable_missed_payments = "yes", court_enforced_schedule = "no" })
  t.eq(cg:has_flag("disable_missed_payment_monitor"), true)
  local amp = sr.find { casegroup = cg, sub_area = "Action Missed Payment" }[1]
  t.eq(amp:field("disable_missed_payments"), "yes")
  t.eq(amp.sub_status, "Complete")
end)

scenario("disable missed payment monitor: the case numbers associated (step 76), all five activities updated (step 79)", function(t)
  local cg = enforcement_case(t)
  local second = cg:add_case { receiving_parent = case.create_client { name = "Sam Second" } }
  local first = cg:cases()[1]
  start(t, cg)
  decide(t, "Disable Missed Payment Monitor",
         { disable_missed_payments = "yes", court_enforced_schedule = "yes" })
  t.expect(string.find(last_note(routing_sr(cg)), "the casegroup has 2 cases", 1, true),
           last_note(routing_sr(cg)))
  decide(t, "Disable Missed Payment Monitor",
         { disable_missed_payments = "yes", court_enforced_schedule = "yes", cases = "999" })
  t.expect(string.find(last_note(routing_sr(cg)), "case 999 is not a case of this casegroup", 1,
                       true), last_note(routing_sr(cg)))
  t.eq(#sr.find { casegroup = cg, sub_area = "Action Missed Payment" }, 0, "nothing raised yet")
  decide(t, "Disable Missed Payment Monitor", { disable_missed_payments = "yes",
    court_enforced_schedule = "yes", cases = first.id .. ", " .. second.id })
  local amp = sr.find { casegroup = cg, sub_area = "Action Missed Payment" }[1]
  t.eq(amp:field("cases"), first.id .. ", " .. second.id)
  local steps = amp:steps()
  t.eq(#steps, 5)
  for _, step in ipairs(steps) do t.eq(step.status, "skipped", step.name) end
  t.eq(steps[5].name, "Negotiate new arrears payment schedule")
  t.eq(cg:has_flag("court_enforced_schedule"), true)
  t.eq(amp.sub_status, "Complete")
end)

scenario("disable missed payment monitor: one case is associated by itself", function(t)
  local cg = enforcement_case(t)
  start(t, cg)
  decide(t, "Disable Missed Payment Monitor",
         { disable_missed_payments = "no", court_enforced_schedule = "no" })
  local amp = sr.find { casegroup = cg, sub_area = "Action Missed Payment" }[1]
  t.eq(amp.case.id, cg:cases()[1].id)
  t.eq(amp:field("cases"), tostring(cg:cases()[1].id))
end)

scenario("cancel: needs an enforcement SR in progress; CMEL9271 to both parents", function(t)
  local cg = enforcement_case(t)
  local waiting = power(cg, "Bailiff Action Referral", "Wait")
  start(t, cg)
  decide(t, "Cancel Enforcement Action", { enforcement_sr = tostring(waiting.id), letter_text = "x" })
  t.expect(string.find(last_note(routing_sr(cg)), "not In Progress", 1, true), "refused")
  local lo = power(cg, "Liability Order")
  decide(t, "Cancel Enforcement Action", { enforcement_sr = tostring(lo.id),
                                           letter_text = "Enforcement action has ended." })
  t.eq(lo.sub_status, "Ready for Cancellation")
  sign_off(t)
  local sent = letters("CMEL9271")
  t.eq(#sent, 2)
  t.eq(sent[1], "Pat Payer")
  t.eq(sent[2], "Robin Receiver")
  -- Step 48, then step 49: the SR stays open until further action has been checked.
  t.eq(routing_sr(cg).is_open, true)
  t.complete { kind = "further_action", outcome = "none", as = "erin" }
  t.eq(routing_sr(cg).sub_status, "Complete")
  t.eq(routing_sr(cg):field("further_action"), "none")
end)

-- Cancels the liability order's SR and signs off the letter; step 48's item is then open.
local function cancelled(t, cg, lo)
  start(t, cg)
  decide(t, "Cancel Enforcement Action", { enforcement_sr = tostring(lo.id),
                                           letter_text = "Enforcement action has ended." })
  sign_off(t)
end

scenario("cancel, step 48: a liability order to invalidate is marked on its SR", function(t)
  local cg = enforcement_case(t)
  local lo = power(cg, "Liability Order")
  local other = power(cg, "Charging Order")
  cancelled(t, cg, lo)
  local s = routing_sr(cg)
  t.refuses(function()
    t.complete { kind = "further_action", outcome = "invalidate liability order", as = "erin" }
  end, "liability_order_sr")
  t.complete { kind = "further_action", outcome = "invalidate liability order", as = "erin",
               fields = { liability_order_sr = tostring(other.id) } }
  t.eq(s.is_open, true, "not a Liability Order SR: asked again")
  local again = t.tasks { kind = "further_action" }[1]
  t.expect(string.find(again.title, "is not a Liability Order SR of this casegroup", 1, true),
           again.title)
  t.complete { kind = "further_action", outcome = "invalidate liability order", as = "erin",
               fields = { liability_order_sr = tostring(lo.id) } }
  t.eq(last_note(lo), "Liability order to be invalidated: enforcement cancelled (case routing SR "
    .. s.id .. ")")
  t.eq(s:field("further_action"), "invalidate liability order")
  t.eq(s.sub_status, "Complete")
end)

scenario("cancel, step 48: artefacts to clear raise a fresh case routing SR naming the cancelled SR", function(t)
  local cg = enforcement_case(t)
  local lo = power(cg, "Liability Order")
  cancelled(t, cg, lo)
  local first = routing_sr(cg)
  t.complete { kind = "further_action", outcome = "clear artefacts", as = "erin" }
  t.eq(first.sub_status, "Complete")
  local again = routing_sr(cg)
  t.expect(again.id ~= first.id, "a fresh SR")
  t.eq(again:field("original_sr"), tostring(lo.id))
  -- Its case manager clears them without naming the SR again: the SR knows it.
  accept(t)
  decide(t, "Clear Enforcement Artefacts", { artefacts_outstanding = "no" })
  t.eq(again:related()[1].id, lo.id)
  t.eq(again.sub_status, "Complete")
end)

-- ---- BaNCS: liability order paid off (steps 50, 53, 61) --------------------------------

scenario("LO paid off: the BaNCS monitor raises one case routing SR naming the order", function(t)
  local cg = enforcement_case(t)
  local lo = power(cg, "Liability Order")
  lo:set_field("lo_date", "2026-10-01")
  lo:set_field("lo_amount", 300000)
  lo:set_field("lo_reference", "LO-77")
  local account = payment.find_account(cg.paying_parent)
  payment.record { account = account, amount = 100000, date = "2026-11-20" }
  t.run_script("lo_paid_off_monitor.lua")
  t.eq(#sr.find { casegroup = cg, sub_area = "Review Case and Decide on Action" }, 0,
       "1,000.00 of 3,000.00 paid: not paid off")
  payment.record { account = account, amount = 200000, date = "2026-11-20" }
  t.run_script("lo_paid_off_monitor.lua")
  t.run_script("lo_paid_off_monitor.lua")
  local raised = sr.find { casegroup = cg, sub_area = "Review Case and Decide on Action" }
  t.eq(#raised, 1, "one SR, however often the job runs")
  t.eq(raised[1].reason, "Liability order paid off")
  t.eq(raised[1]:field("original_sr"), tostring(lo.id))
  t.eq(raised[1]:notes()[1].text, "BaNCS: liability order SR " .. lo.id .. " (LO-77) fully paid off")
  t.eq(lo:field("paid_off_on"), "2026-11-20")
  -- Step 53: artefacts outstanding are cleared on that SR (CMEL9116, CMEL9271).
  accept(t)
  decide(t, "Clear Enforcement Artefacts", { artefacts_outstanding = "yes", letter_text = "Paid." })
  t.eq(sr.find { casegroup = cg, sub_area = "Clear Artefacts" }[1]:related()[1].id, lo.id)
end)

scenario("LO paid off: an order with no amount is paid off when nothing active is owed; a case in maintenance is authorised first (step 61)", function(t)
  local cg = enforcement_case(t)
  cg:set_segment("Maintenance")
  local lo = power(cg, "Liability Order")
  local done = power(cg, "Liability Order", "Closed")
  t.run_script("lo_paid_off_monitor.lua")
  t.eq(#sr.find { casegroup = cg, sub_area = "Review Case and Decide on Action" }, 0)
  payment.record { account = payment.find_account(cg.paying_parent), amount = 500000,
                           date = "2026-11-20" }
  t.run_script("lo_paid_off_monitor.lua")
  local raised = sr.find { casegroup = cg, sub_area = "Review Case and Decide on Action" }
  t.eq(#raised, 1, "for the order in force; a closed Liability Order SR is done with")
  t.eq(raised[1]:field("original_sr"), tostring(lo.id))
  t.eq(done:field("paid_off_on"), nil)
  accept(t)
  decide(t, "Clear Enforcement Artefacts", { artefacts_outstanding = "yes", letter_text = "Paid." })
  t.eq(#t.tasks { kind = "approval" }, 1, "the line manager authorises it first")
end)

-- ---- CMEL9271 sign-off ------------------------------------------------------------------

scenario("CMEL9271: signed off by a senior manager, not a team leader; rejected, amended, signed off", function(t)
  local cg = enforcement_case(t)
  t.user("sam", "senior_manager", "Enforcement")
  local lo = power(cg, "Liability Order")
  start(t, cg)
  t.complete { kind = "decide_next_action", outcome = "Cancel Enforcement Action", as = "tina",
               fields = { enforcement_sr = tostring(lo.id), letter_text = "Enforcment has endd." } }
  local item = t.tasks { kind = "letter_sign_off" }[1]
  t.eq(item.inbox, "senior_manager")
  t.expect(string.find(item.title, "Pat Payer and Robin Receiver: \"Enforcment has endd.\"", 1, true),
           item.title)
  t.refuses(function() sign_off(t, "tina") end, "needs: senior_manager")
  t.refuses(function() sign_off(t, "erin") end, "needs: senior_manager")
  t.refuses(function()
    t.complete { kind = "letter_sign_off", outcome = "rejected", as = "sue" }
  end, "reasons")
  t.complete { kind = "letter_sign_off", outcome = "rejected", as = "sue",
               fields = { reasons = "spelling" } }
  t.eq(#letters("CMEL9271"), 0)
  t.complete { kind = "letter_amend", outcome = "amended", as = "erin",
               fields = { letter_text = "Enforcement action has ended." } }
  sign_off(t, "sam")
  t.eq(#letters("CMEL9271"), 2)
  t.expect(string.find(letter.get(1).body, "Enforcement action has ended.", 1, true), "amended text")
  t.complete { kind = "further_action", outcome = "none", as = "erin" }
  t.eq(routing_sr(cg).sub_status, "Complete")
end)

-- The engine holds the rule as well as the library: a script cannot send CMEL9271 without
-- a senior manager's sign-off of that very text to that very recipient on that SR.
scenario("CMEL9271 is refused at run time without a senior manager's sign-off of that text", function(t)
  local cg = enforcement_case(t)
  local s = power(cg, "Liability Order")
  local pp, rp = cg.paying_parent, cg:cases()[1].receiving_parent
  local FREE_TEXT = "CMEL9271" -- through a name: `casekit check` refuses the literal
  local function send(signed_off, text, to)
    return letter.send { template = FREE_TEXT, to = to or pp, casegroup = cg, sr = s,
                         fields = { free_text = text or "Paused." }, signed_off = signed_off }
  end
  t.refuses(function() send(nil) end, "signed off by a senior manager before it is sent")
  local function ask(details)
    return task.create { inbox = "senior_manager", kind = "letter_sign_off", sr = s,
                         title = "Sign off", outcomes = { "signed off", "rejected" },
                         details = details }
  end
  local wanted = { template = "CMEL9271", free_text = "Paused.", to = { pp.id } }
  local open = ask(wanted)
  t.refuses(function() send(open) end, "it is open, not signed off")
  t.complete { kind = "letter_sign_off", outcome = "signed off", as = "sue" }
  t.eq(send(open).template, "CMEL9271", "signed off: sent")
  t.refuses(function() send(open) end, "to this recipient already; a sign-off sends once")
  t.refuses(function() send(open, "Something else.") end, "is not this letter")
  t.refuses(function() send(open, nil, rp) end, "is not this letter")
  local other = power(cg, "Charging Order")
  t.refuses(function()
    letter.send { template = FREE_TEXT, to = pp, casegroup = cg, sr = other,
                  fields = { free_text = "Paused." }, signed_off = open }
  end, "is not this letter")
  local rejected = ask(wanted)
  t.complete { kind = "letter_sign_off", outcome = "rejected", as = "sue" }
  t.refuses(function() send(rejected) end, "completed (rejected), not signed off")
  local approval = task.create { inbox = "team_leader", kind = "approval", sr = s, title = "x",
                                 outcomes = { "signed off" } }
  t.complete { kind = "approval", outcome = "signed off", as = "tina" }
  t.refuses(function() send(approval) end, "it is a approval, not a sign-off")
  t.eq(#letters("CMEL9271"), 1)
end)

scenario("CMEL9271 withdrawn after it was not signed off: nothing sent, the decision stands", function(t)
  local cg = enforcement_case(t)
  start(t, cg)
  decide(t, "Pause Enforcement Action", { reason = "x", review_date = "2027-01-10",
                                          rp_contacted = "yes", letter_text = "Paused." })
  t.complete { kind = "letter_sign_off", outcome = "rejected", as = "sue",
               fields = { reasons = "not needed" } }
  t.complete { kind = "letter_amend", outcome = "withdrawn", as = "erin" }
  t.eq(#letters("CMEL9271"), 0)
  t.eq(cg.review_date, "2027-01-10")
  local s = routing_sr(cg)
  t.eq(s.sub_status, "Complete")
  t.expect(string.find(last_note(s), "CMEL9271 to Pat Payer withdrawn by erin", 1, true), last_note(s))
end)

-- Step 70: "If the paying parent misses a payment ... prior to the set date a case routing
-- task will be generated for further action": a routing SR, not an Action Missed Payment SR.
local function amps(cg)
  return sr.find { casegroup = cg, sub_area = "Action Missed Payment" }
end

scenario("monitoring: a missed payment raises case routing, not an Action Missed Payment SR", function(t)
  local cg = enforcement_case(t)
  local id = negotiation_decision(t, cg)
  agree_schedule(t)
  t.eq(#amps(cg), 1, "the negotiation's own")
  t.advance {}
  t.eq(cg:has_flag("enforcement_monitoring"), true)
  t.advance { days = 11 } -- 2026-12-01, the first collection: paid
  payment.record { account = payment.account(cg), amount = 25000, date = clock.today(),
                   method = "SO" }
  t.advance { days = 6 }
  t.run_script("missed_payment_monitor.lua")
  t.eq(t.instance(id).status, "waiting", "the first collection was paid: still monitoring")
  t.advance { days = 31 } -- 2027-01-07: the second collection (2027-01-01) was missed
  t.run_script("missed_payment_monitor.lua")
  t.eq(t.instance(id).result, "negotiation")
  local again = routing_sr(cg)
  t.eq(again.reason, "Missed payment")
  t.expect(again:notes()[1].text:find("collection due 2027-01-01 was not paid", 1, true),
           again:notes()[1].text)
  t.eq(#amps(cg), 1, "no Action Missed Payment SR from the monitor or the reviews")
  t.eq(#letters("CMSL6000"), 0)
  t.eq(cg:has_flag("enforcement_monitoring"), false, "monitoring ended with the task")
end)

scenario("monitoring with missed payments disabled: no task for them; the transfer date still comes", function(t)
  local cg = enforcement_case(t)
  local id = negotiation_decision(t, cg, { disable_missed_payments = "yes" })
  agree_schedule(t)
  t.advance { days = 40 } -- 2026-12-30: the first collection missed
  t.run_script("missed_payment_monitor.lua")
  t.eq(t.instance(id).status, "waiting")
  t.eq(#amps(cg), 1)
  t.advance { days = 61 } -- past 2027-03-01, the transfer to maintenance
  t.eq(t.instance(id).result, "negotiation")
  t.eq(routing_sr(cg).reason, "Transfer case to maintenance")
  t.eq(#amps(cg), 1)
end)
