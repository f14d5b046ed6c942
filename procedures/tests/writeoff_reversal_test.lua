-- Scenario tests for procedures/writeoff_reversal.lua (source 004): run with
--   casekit test procedures/tests/writeoff_reversal_test.lua
-- BaNCS answers from the ledger tables; t.bancs_fail makes it answer ERR.

-- A casegroup owing 1,000.00 to the receiving parent and 200.00 to the Secretary of State,
-- with a 50.00 collection charge; 800.00 of the arrears and the charge written off under
-- journal JN-1 on 2026-06-01, and an annual review when given. Users: carl (caseworker), tina
-- and tom (team leaders), sue (senior manager).
local function setup(t, annual_review)
  t.user("carl", "caseworker", "Arrears")
  t.user("tina", "team_leader", "Arrears")
  t.user("tom", "team_leader", "Arrears")
  t.user("sue", "senior_manager", "Arrears")
  local pp = case.create_client { name = "Sam Payer", nino = "AB000000A" }
  local rp = case.create_client { name = "Alex Receiver", nino = "AB000001A" }
  local cg = case.create_casegroup { paying_parent = pp, annual_review_date = annual_review }
  local c = cg:add_case { receiving_parent = rp }
  payment.open_account { client = pp, method = "SO" }
  payment.add_due { casegroup = cg, case = c, owed_to = "RP", amount = 100000 }
  payment.add_due { casegroup = cg, owed_to = "SOS_GB", amount = 20000 }
  payment.add_charge { casegroup = cg, kind = "collection", amount = 5000 }
  payment.write_off { casegroup = cg, journal = "JN-1", date = "2026-06-01", arrears = 80000,
                      charges = 5000 }
  return cg
end

local function reversal_sr(cg)
  return sr.find { casegroup = cg, sub_area = "Reverse write off arrears" }[1]
end

local function details(t, by, more)
  local fields = { journal_number = "JN-1", write_off_date = "2026-06-01" }
  for k, v in pairs(more or {}) do fields[k] = v end
  t.complete { inbox = "caseworker", kind = "reversal_details", outcome = "CMG error",
               fields = fields, as = by or "carl" }
end

local function approve(t, by)
  t.complete { inbox = "team_leader", outcome = "approved", as = by }
end

-- The team leader `by` may not approve: the refusal names `why`.
local function approval_refused(t, by, why)
  t.refuses(function() approve(t, by) end, why)
end

local function find_note(s, text)
  for _, n in ipairs(s:notes()) do
    if n.text == text then return true end
  end
  return false
end

local function letters_of(template)
  local found, id = {}, 1
  while true do
    local ok, l = pcall(letter.get, id)
    if not ok then return found end
    if l.template == template then found[#found + 1] = l end
    id = id + 1
  end
end

-- The Action Missed Payment SR that negotiates the new schedule (step 14).
local function negotiation_sr(cg)
  local found = sr.find { casegroup = cg, sub_area = "Action Missed Payment" }
  return found[#found]
end

scenario("approved: reversed, unsuspended, a new schedule, and only a free-text letter", function(t)
  local cg = setup(t)
  payment.issue_schedule { casegroup = cg, amount_per_period = 10000, periods = 4,
                           first_collection_date = "2026-07-01" }
  local write_off = sr.create { process = "Arrears", area = "Arrears Management",
                                sub_area = "Write off arrears", casegroup = cg }
  local id = t.start("writeoff_reversal", { casegroup = cg, as = "carl" })
  local s = reversal_sr(cg)
  t.eq(s.status, "In Progress")
  t.eq(#s:steps(), 8, "activity plan")
  details(t, "carl", { related_srs = tostring(write_off.id) })
  t.eq(s:field("journal_number"), "JN-1")
  t.eq(s:field("write_off_date"), "2026-06-01")
  t.eq(s.reason, "CMG error")
  t.eq(s:related()[1].id, write_off.id)
  t.eq(s.status, "Pending Approval")
  t.eq(s.sub_status, "Pending Approval TL")
  t.eq(s:field("submitted_by"), "carl")
  approve(t, "tina")
  t.eq(s:field("bancs_status"), "ok")
  t.eq(s:field("bancs_message"), "written off arrears reversed in BaNCS")
  t.eq(s:field("reverse_write_off_date"), "2026-11-20")
  t.eq(s:field("reverse_journal_number"), "RV-JN-1")
  t.eq(payment.balance { casegroup = cg, state = "written_off" }, 0)
  t.eq(payment.balance { casegroup = cg, state = "active" }, 120000)
  local child = s:children()[1]
  t.eq(child.sub_area, "Unsuspend liabilities")
  t.eq(child.status, "Closed")
  t.complete { inbox = "caseworker", outcome = "wishes to negotiate", as = "carl",
               fields = { letter_text = "Your arrears have been reinstated." } }
  t.eq(#letters_of("CMEL9271"), 0, "the free-text letter waits for its sign-off")
  t.refuses(function()
    t.complete { kind = "letter_sign_off", outcome = "signed off", as = "tina" }
  end, "needs: senior_manager")
  t.complete { kind = "letter_sign_off", outcome = "signed off", as = "sue" }
  t.eq(#letters_of("CMEL9271"), 1, "the free-text letter")
  t.eq(s.status, "Closed")
  t.eq(s:field("client_contact"), "wishes to negotiate")
  t.eq(t.instance(id).result, "reversed")
  -- Step 14's new schedule is negotiated as source 000 negotiates one, for the whole balance.
  local n = negotiation_sr(cg)
  t.eq(n.reason, "Reverse write off", "the reason says why the negotiation started")
  t.eq(t.instance(id + 1).procedure, "arrears_negotiation")
  local item = t.tasks { kind = "negotiate_schedule" }[1]
  t.expect(string.find(item.title, "£1,200.00 to schedule", 1, true), item.title)
  t.complete { kind = "negotiate_schedule", outcome = "agreed", as = "carl",
               fields = { amount_per_period = "10000", first_collection_date = "2026-12-01",
                          schedule_acceptable = "yes" } }
  local schedule = payment.schedule(cg)
  t.eq(schedule.version, 2, "the next version replaces the old schedule")
  t.eq(schedule.periods, 12)
  t.eq(n:field("negotiation_outcome"), "Negotiation Satisfactory")
  -- "Issued to all relevant parties": the negotiation's letters to both parents.
  t.eq(#letters_of("CMSL6056"), 1, "to the paying parent")
  t.eq(#letters_of("CMSL6051"), 1, "to the receiving parent")
  t.eq(#letters_of("CMEL9271"), 1, "still the procedure's only letter of its own")
end)

scenario("the new schedule meets the debt steer: the old instalment is not simply re-spread", function(t)
  local cg = setup(t)
  -- 10.00 a month over the 1,200.00 now owed would take ten years.
  payment.issue_schedule { casegroup = cg, amount_per_period = 1000, periods = 40,
                           first_collection_date = "2026-07-01" }
  t.start("writeoff_reversal", { casegroup = cg, as = "carl" })
  details(t, "carl")
  approve(t, "tina")
  t.complete { inbox = "caseworker", outcome = "no contact", as = "carl" }
  t.eq(reversal_sr(cg):field("client_contact"), "no contact")
  local notes = reversal_sr(cg):notes()
  t.expect(string.find(notes[#notes].text, "to replace schedule version 1", 1, true),
           notes[#notes].text)
  t.complete { kind = "negotiate_schedule", outcome = "agreed", as = "carl",
               fields = { amount_per_period = "1000", first_collection_date = "2026-12-01",
                          schedule_acceptable = "yes" } }
  t.eq(payment.schedule(cg).version, 1, "no schedule beyond 24 months without a decision")
  local amp_notes = negotiation_sr(cg):notes()
  t.expect(string.find(amp_notes[#amp_notes].text, "beyond 24 months is accepted only as a "
    .. "discretionary decision", 1, true), amp_notes[#amp_notes].text)
  t.complete { kind = "negotiate_schedule", outcome = "agreed", as = "carl",
               fields = { amount_per_period = "1000", first_collection_date = "2026-12-01",
                          schedule_acceptable = "no" } }
  t.eq(negotiation_sr(cg):field("negotiation_outcome"), "Breaches Debt Steer")
  t.eq(payment.schedule(cg).version, 1)
  t.eq(t.tasks { kind = "negotiation_unsuccessful" }[1].status, "open")
end)

scenario("no payment schedule in place: the negotiation issues the first one", function(t)
  local cg = setup(t)
  t.start("writeoff_reversal", { casegroup = cg, as = "carl" })
  details(t, "carl")
  approve(t, "tina")
  t.complete { inbox = "caseworker", outcome = "wishes to negotiate", as = "carl" }
  local notes = reversal_sr(cg):notes()
  t.expect(string.find(notes[#notes].text, "no payment schedule was in place", 1, true),
           notes[#notes].text)
  t.eq(payment.schedule(cg), nil)
  t.complete { kind = "negotiate_schedule", outcome = "agreed", as = "carl",
               fields = { amount_per_period = "5000", first_collection_date = "2026-12-01",
                          schedule_acceptable = "yes" } }
  t.eq(payment.schedule(cg).version, 1)
  t.eq(payment.schedule(cg).periods, 24)
end)

scenario("journal number and write-off date are required", function(t)
  local cg = setup(t)
  t.start("writeoff_reversal", { casegroup = cg, as = "carl" })
  t.refuses(function()
    t.complete { inbox = "caseworker", outcome = "CMG error", as = "carl",
                 fields = { write_off_date = "2026-06-01" } }
  end, "journal_number")
  t.complete { inbox = "caseworker", outcome = "CMG error", as = "carl",
               fields = { journal_number = "JN-1", write_off_date = "2026-02-30" } }
  local notes = reversal_sr(cg):notes()
  t.expect(string.find(notes[#notes].text, "is not a date", 1, true), notes[#notes].text)
  t.eq(t.tasks { inbox = "caseworker" }[1].kind, "reversal_details", "asked again")
end)

scenario("the amount cannot exceed what was written off with charges", function(t)
  local cg = setup(t)
  t.start("writeoff_reversal", { casegroup = cg, as = "carl" })
  details(t, "carl", { amount = "85001" })
  local notes = reversal_sr(cg):notes()
  t.expect(string.find(notes[#notes].text, "£850.01 is more than was written off (£850.00",
                       1, true), notes[#notes].text)
  details(t, "carl", { amount = "30000" })
  approve(t, "tina")
  t.eq(payment.balance { casegroup = cg, state = "written_off" }, 50000)
end)

scenario("display fails: one Suspend - write off liability row, kept and updated on retry", function(t)
  local cg = setup(t)
  t.bancs_fail("display_written_off", "BaNCS timed out")
  t.start("writeoff_reversal", { casegroup = cg, as = "carl" })
  details(t)
  t.eq(t.tasks { inbox = "caseworker" }[1].kind, "bancs_failure")
  t.complete { inbox = "caseworker", outcome = "retry", as = "carl" }
  t.bancs_ok()
  t.complete { inbox = "caseworker", outcome = "retry", as = "carl" }
  t.eq(t.tasks { inbox = "team_leader" }[1].kind, "approval")
  -- The row itself is checked by the C++ test; here, the SR moved on to approval.
  t.eq(reversal_sr(cg).status, "Pending Approval")
end)

-- Steps 4-5: a failed display is retried, the details amended, or the SR closed.
scenario("display fails, then the details are amended: asked again, and displayed", function(t)
  local cg = setup(t)
  t.bancs_fail("display_written_off", "journal not found")
  local id = t.start("writeoff_reversal", { casegroup = cg, as = "carl" })
  details(t)
  t.complete { kind = "bancs_failure", outcome = "amend details", as = "carl" }
  t.eq(#t.tasks { kind = "reversal_details" }, 1, "the details are asked for again")
  t.bancs_ok()
  details(t)
  t.eq(t.tasks { inbox = "team_leader" }[1].kind, "approval")
  t.eq(reversal_sr(cg).status, "Pending Approval")
  t.eq(t.instance(id).status, "waiting")
end)

scenario("display fails, then the caseworker closes the SR: nothing reversed", function(t)
  local cg = setup(t)
  t.bancs_fail("display_written_off", "BaNCS down")
  local id = t.start("writeoff_reversal", { casegroup = cg, as = "carl" })
  details(t)
  t.complete { kind = "bancs_failure", outcome = "close", as = "carl" }
  local s = reversal_sr(cg)
  t.eq(s.status, "Closed")
  t.eq(s.resolution_code, "Not reversed")
  t.eq(t.instance(id).result, "closed")
  t.eq(payment.balance { casegroup = cg, state = "written_off" }, 80000, "no arrears came back")
  t.eq(#t.tasks {}, 0)
end)

scenario("reversal fails: ERR on the SR, which stays open to retry", function(t)
  local cg = setup(t)
  t.start("writeoff_reversal", { casegroup = cg, as = "carl" })
  details(t)
  t.bancs_fail("reverse_write_off", "journal locked")
  approve(t, "tina")
  local s = reversal_sr(cg)
  t.eq(s:field("bancs_status"), "ERR")
  t.eq(s:field("bancs_message"), "journal locked")
  t.eq(s.is_open, true)
  t.eq(payment.balance { casegroup = cg, state = "written_off" }, 80000)
  t.bancs_ok()
  t.complete { inbox = "caseworker", outcome = "retry", as = "carl" }
  t.eq(s:field("bancs_status"), "ok")
  t.eq(payment.balance { casegroup = cg, state = "active" }, 120000)
end)

scenario("reversal fails: the caseworker may close the SR instead (step 11)", function(t)
  local cg = setup(t)
  local id = t.start("writeoff_reversal", { casegroup = cg, as = "carl" })
  details(t)
  t.bancs_fail("reverse_write_off", "journal locked")
  approve(t, "tina")
  t.complete { inbox = "caseworker", kind = "bancs_failure", outcome = "close", as = "carl" }
  local s = reversal_sr(cg)
  t.eq(s.status, "Closed")
  t.eq(s.resolution_code, "Not reversed")
  t.eq(t.instance(id).result, "closed")
  t.eq(payment.balance { casegroup = cg, state = "written_off" }, 80000, "nothing reversed")
  t.eq(#s:children(), 0, "no Unsuspend liabilities SR")
end)

scenario("unsuspend fails: only a retry, since the write-off is already reversed", function(t)
  local cg = setup(t)
  t.start("writeoff_reversal", { casegroup = cg, as = "carl" })
  details(t)
  t.bancs_fail("unsuspend", "liabilities locked")
  approve(t, "tina")
  -- The unsuspension is the Payments team's: its failure goes to one of them.
  t.user("pam", "caseworker", "Payments")
  local item = t.tasks { kind = "bancs_failure" }[1]
  t.eq(#item.outcomes, 1)
  t.eq(item.outcomes[1], "retry")
  t.refuses(function()
    t.complete { kind = "bancs_failure", outcome = "retry", as = "carl" }
  end, "belongs to team Payments")
  t.refuses(function()
    t.complete { kind = "bancs_failure", outcome = "close", as = "pam" }
  end, "unknown outcome")
  t.eq(payment.balance { casegroup = cg, state = "suspended" }, 80000)
  t.bancs_ok()
  t.complete { kind = "bancs_failure", outcome = "retry", as = "pam" }
  t.eq(payment.balance { casegroup = cg, state = "suspended" }, 0)
  t.eq(payment.balance { casegroup = cg, state = "active" }, 120000)
end)

scenario("the submitter cannot approve; a rejection needs reasons; amend and resubmit", function(t)
  local cg = setup(t)
  t.start("writeoff_reversal", { casegroup = cg, as = "carl" })
  details(t, "tina")
  approval_refused(t, "tina", "submitted")
  t.refuses(function()
    t.complete { inbox = "team_leader", outcome = "rejected", as = "tom" }
  end, "reasons")
  t.complete { inbox = "team_leader", outcome = "rejected", as = "tom",
               fields = { reasons = "wrong journal" } }
  t.complete { inbox = "caseworker", outcome = "amend and resubmit", as = "carl" }
  details(t, "carl")
  t.eq(reversal_sr(cg):field("submitted_by"), "carl", "the one who resubmitted")
  -- tina entered the first details: she may not approve the amended ones either.
  approval_refused(t, "tina", "entered or amended")
  approve(t, "tom")
  t.eq(payment.balance { casegroup = cg, state = "written_off" }, 0)
end)

scenario("a colleague who retries a failed display does not become the submitter", function(t)
  local cg = setup(t)
  t.bancs_fail("display_written_off", "BaNCS timed out")
  t.start("writeoff_reversal", { casegroup = cg, as = "carl" })
  details(t, "carl")
  t.bancs_ok()
  -- A team leader presses retry for the caseworker: that enters nothing.
  t.complete { inbox = "caseworker", kind = "bancs_failure", outcome = "retry", as = "tina" }
  t.eq(reversal_sr(cg):field("submitted_by"), "carl")
  approve(t, "tina")
  t.eq(payment.balance { casegroup = cg, state = "written_off" }, 0)
end)

scenario("a team leader who started the reversal cannot approve it", function(t)
  local cg = setup(t)
  t.start("writeoff_reversal", { casegroup = cg, as = "tina" })
  details(t, "carl")
  approval_refused(t, "tina", "entered or amended")
  approve(t, "tom")
  t.eq(payment.balance { casegroup = cg, state = "written_off" }, 0)
end)

scenario("rejected and closed: nothing reversed", function(t)
  local cg = setup(t)
  local id = t.start("writeoff_reversal", { casegroup = cg, as = "carl" })
  details(t)
  t.complete { inbox = "team_leader", outcome = "rejected", as = "tina",
               fields = { reasons = "no error found" } }
  t.complete { inbox = "caseworker", outcome = "close", as = "carl" }
  t.eq(reversal_sr(cg).status, "Closed")
  t.eq(reversal_sr(cg).resolution_code, "Rejected")
  t.eq(payment.balance { casegroup = cg, state = "written_off" }, 80000)
  t.eq(t.instance(id).result, "rejected")
end)

-- Step 14: "If the client wishes to negotiate the arrears payments, refer to Arrears
-- Overview ... The system issues a new schedule to all relevant parties in the case group."
-- Step 14 with nothing left to schedule: money already on the account pays the arrears the
-- reversal brought back, so there is no new schedule to issue, and none is started.
scenario("nothing active left after the reversal: no schedule issued, no negotiation", function(t)
  local cg = setup(t, "2027-05-20")
  -- 400.00 pays what is active now; 850.00 more is held as credit until something is owed.
  payment.record { account = payment.account(cg), amount = 125000, date = "2026-11-19",
                   method = "card" }
  t.eq(payment.balance { casegroup = cg, state = "active" }, 0)
  local id = t.start("writeoff_reversal", { casegroup = cg, as = "carl" })
  details(t, "carl")
  approve(t, "tina")
  t.eq(payment.balance { casegroup = cg, state = "active" }, 0, "the credit paid what came back")
  t.complete { inbox = "caseworker", kind = "contact_client", outcome = "does not wish to negotiate",
               as = "carl" }
  t.eq(t.instance(id).result, "reversed")
  t.eq(payment.schedule(cg), nil, "no schedule issued")
  t.eq(#sr.find { casegroup = cg, sub_area = "Action Missed Payment" }, 0, "no negotiation")
  t.expect(find_note(reversal_sr(cg), "No active arrears after the reversal: no schedule to issue"),
           "noted")
end)

-- The optional free-text letter may go to the receiving parent instead of the paying parent.
scenario("the free-text letter to the receiving parent, once signed off", function(t)
  local cg = setup(t, "2027-05-20")
  t.start("writeoff_reversal", { casegroup = cg, as = "carl" })
  details(t, "carl")
  approve(t, "tina")
  t.complete { inbox = "caseworker", kind = "contact_client", outcome = "does not wish to negotiate",
               as = "carl", fields = { letter_to = "receiving_parent",
                                       letter_text = "The arrears owed to you are reinstated." } }
  t.eq(#letters_of("CMEL9271"), 0, "not before the sign-off")
  t.complete { kind = "letter_sign_off", outcome = "signed off", as = "sue" }
  local sent = letters_of("CMEL9271")
  t.eq(#sent, 1)
  t.eq(sent[1].recipient.name, "Alex Receiver")
end)

scenario("the client does not wish to negotiate: the system issues the schedule, nothing else is closed", function(t)
  local cg = setup(t, "2027-05-20")
  payment.issue_schedule { casegroup = cg, amount_per_period = 1000, periods = 40,
                           first_collection_date = "2026-07-01" }
  -- An SR open for something else: the reversal must leave it be.
  local other = sr.create { process = "Arrears", area = "Arrears Management",
                            sub_area = "Action Missed Payment", casegroup = cg,
                            reason = "Missed Payment" }
  local id = t.start("writeoff_reversal", { casegroup = cg, as = "carl" })
  details(t, "carl")
  approve(t, "tina")
  t.complete { inbox = "caseworker", kind = "contact_client", outcome = "does not wish to negotiate",
               as = "carl" }
  t.eq(t.instance(id).result, "reversed")
  t.eq(other.status, "Open", "the other SR is not cancelled")
  t.eq(#sr.find { casegroup = cg, sub_area = "Action Missed Payment" }, 1, "no negotiation")
  -- 1,200.00 evenly over the collections from 2026-12-01 (the old schedule's next) before
  -- the annual review on 2027-05-20: six of 200.00.
  local schedule = payment.schedule(cg)
  t.eq(schedule.version, 2)
  t.eq(schedule.first_collection_date, "2026-12-01")
  t.eq(schedule.periods, 6)
  t.eq(schedule.amount_per_period, 20000)
  t.eq(#letters_of("CMSL6056"), 1, "to the paying parent")
  t.eq(#letters_of("CMSL6051"), 1, "to the receiving parent")
end)

scenario("no contact and no annual review date: a caseworker sets the schedule, nothing is closed", function(t)
  local cg = setup(t)
  local other = sr.create { process = "Arrears", area = "Arrears Management",
                            sub_area = "Action Missed Payment", casegroup = cg,
                            reason = "Missed Payment" }
  t.start("writeoff_reversal", { casegroup = cg, as = "carl" })
  details(t, "carl")
  approve(t, "tina")
  t.complete { inbox = "caseworker", kind = "contact_client", outcome = "no contact", as = "carl" }
  t.eq(other.status ~= "Closed", true, "the other SR is not cancelled")
  local srs = sr.find { casegroup = cg, sub_area = "Action Missed Payment" }
  t.eq(#srs, 2)
  t.eq(srs[2].reason, "Reverse write off: new schedule")
  t.eq(#t.tasks { kind = "negotiate_schedule" }, 1)
end)

-- Step 11's first option ("amend and resubmit"), before the team leader is asked: a journal
-- number or write-off date the ledger does not have is sent back at once, not found in
-- BaNCS after the approval.
scenario("a wrong write-off date or journal is sent back to be amended before approval", function(t)
  local cg = setup(t)
  t.start("writeoff_reversal", { casegroup = cg, as = "carl" })
  details(t, "carl", { write_off_date = "2026-06-02" })
  t.eq(#t.tasks { inbox = "team_leader" }, 0, "nothing goes for approval")
  local notes = reversal_sr(cg):notes()
  t.expect(notes[#notes].text:find("write-off JN-1 was made on 2026-06-01, not 2026-06-02", 1,
                                   true), notes[#notes].text)
  details(t, "carl", { journal_number = "JN-9" })
  notes = reversal_sr(cg):notes()
  t.expect(notes[#notes].text:find("journal JN-9 is not a write-off of this casegroup (its "
    .. "write-offs: JN-1 (2026-06-01))", 1, true), notes[#notes].text)
  t.eq(#t.tasks { inbox = "team_leader" }, 0)
  details(t, "carl")
  t.eq(#t.tasks { inbox = "team_leader" }, 1, "amended and resubmitted: now for approval")
  approve(t, "tina")
  t.eq(payment.balance { casegroup = cg, state = "written_off" }, 0)
end)

-- Step 7: "Attach the corresponding SR's (part payment/write off arrears) as related SR's".
local function step_status(s, name)
  for _, st in ipairs(s:steps()) do
    if st.name == name then return st.status end
  end
end

scenario("step 7: the write off arrears SR must be attached; with none to attach, skipped", function(t)
  local cg = setup(t)
  local write_off = sr.create { process = "Arrears", area = "Arrears Management",
                                sub_area = "Write off arrears", casegroup = cg }
  t.start("writeoff_reversal", { casegroup = cg, as = "carl" })
  details(t, "carl")
  local s = reversal_sr(cg)
  local notes = s:notes()
  t.expect(notes[#notes].text:find("attach the corresponding SRs in related_srs (step 7): "
    .. write_off.id .. " (Write off arrears)", 1, true), notes[#notes].text)
  t.eq(#t.tasks { inbox = "team_leader" }, 0)
  details(t, "carl", { related_srs = tostring(write_off.id) })
  t.eq(step_status(s, "Attach related SRs"), "done")
  t.eq(#s:related(), 1)
end)

scenario("step 7: no part payment or write off arrears SR on the casegroup: the step is skipped", function(t)
  local cg = setup(t)
  t.start("writeoff_reversal", { casegroup = cg, as = "carl" })
  details(t, "carl")
  t.eq(step_status(reversal_sr(cg), "Attach related SRs"), "skipped", "not marked done")
  t.eq(#t.tasks { inbox = "team_leader" }, 1)
end)
