-- Case routing in enforcement.
--
-- Source: DWP procedure 001 (Case Routing - Enforcement). Works one Review Case
-- and Decide on Action SR: the case manager reviews the enforcement history, then decides
-- one next action, and the procedure carries out what the source says that decision does.
-- Started by:
--   - the review-date monitor (scripts/review_date_monitor.lua), params.sr;
--   - itself, when a court-enforced schedule's monitoring period ends (step 70);
--   - anyone, for another trigger the source lists:
--       casekit start case_routing --casegroup 7 --param reason="Missed payment"
-- docs/procedures/case_routing.md maps each source step to these lines and to the tests.
--
-- Returns the decision carried out ("initiate", "pause", "resume", "amend", "surveillance",
-- "transfer", "lock_assignment", "clear_artefacts", "negotiation", "missed_payment_monitor",
-- "cancel") or "rejected" for a case referred incorrectly.

local collections = require("collections")
local AMP_PLAN = require("arrears.common").PLAN
local free_text_letter = require("free_text_letter")
local service_request = require("service_request")

local SUB_AREA = "Review Case and Decide on Action"

-- "Reasons for this process include" (the source's list).
local TRIGGERS = {
  "Case transferred to enforcement", "Existing enforcement case transferred from a CSA system",
  "Enforcement powers exhausted or not applicable", "Case returned from third party collection agency",
  "New information received during enforcement action", "Review duration time elapsed",
  "Missed payment", "Excess payment", "Liability order paid off",
  "Paying parent change of jurisdiction", "Charge for payment expired",
  "Segment 5 micro management", "Segment 5 compliance opportunity taken up",
  "Segment 5 compliance opportunity not taken up", "Transfer case to maintenance",
}

local DECISIONS = {
  "Initiate Enforcement Action", "Pause Enforcement Action", "Resume Enforcement Action",
  "Amend Enforcement Action", "Case Surveillance Action", "Transfer Case",
  "Lock Assignment Flag", "Clear Enforcement Artefacts",
  "Arrears Negotiation and Court Enforced Schedules", "Disable Missed Payment Monitor",
  "Cancel Enforcement Action",
}

local DECISION_FIELDS = {
  "power", "review_date", "reason", "rp_contacted", "letter_text", "enforcement_sr",
  "amendment_reason", "amendment_comments", "exit", "exhausted", "remain_in_enforcement",
  "destination", "lo_granted_in", "artefacts_outstanding", "original_sr",
  "transfer_to_maintenance", "court_enforced_schedule", "disable_missed_payments",
  "lo_reference", "wait_days", "categorise", "cases",
}

-- Step 36: what must have been considered or exhausted before case surveillance.
local SURVEILLANCE_ACTIONS = {
  common = { "Disclosure of Deduction Order", "Liability Order", "Sanctions",
             "FIU Fraud Referral" },
  ["E&W"] = { "Bailiff Action Referral", "Charging Order" },
  Scotland = { "Attachment", "Inhibition", "Arrestment", "Charge for Payment" },
  NI = {},
}
local SURVEILLANCE_MONTHS = 12
local SURVEILLANCE_MONTHS_DLO = 6

-- The flags to check on review (step 1), and the ones that must be gone before a case
-- returns to maintenance (step 45).
local REVIEW_FLAGS = { "manual_allocation", "lock_assignment", "disable_missed_payment_monitor" }
local MAINTENANCE_BLOCKERS = {
  disable_missed_payment_monitor = "Do not monitor missed payment",
  lock_assignment = "Lock assignment",
  court_enforced_schedule = "Court enforced schedule",
}

local integer = service_request.integer

local function yes(text) return text == "yes" end

-- The casegroup's enforcement power SRs (Enforcement / Enforcement Action / ...).
local function enforcement_srs(cg, open_only)
  local out = {}
  for _, s in ipairs(sr.find { casegroup = cg, open = open_only or nil }) do
    if s.process == "Enforcement" and s.area == "Enforcement Action" then out[#out + 1] = s end
  end
  return out
end

local function receiving_parents(cg)
  local out = {}
  for _, c in ipairs(cg:cases()) do out[#out + 1] = c.receiving_parent end
  return out
end

local function both_parents(cg)
  local out = receiving_parents(cg)
  table.insert(out, 1, cg.paying_parent)
  return out
end

-- The enforcement SR a decision names (field enforcement_sr), checked to be this casegroup's.
local function named_enforcement_sr(cg, f)
  local id = integer(f.enforcement_sr)
  if not id then return nil, "enforcement_sr (the enforcement SR's id) is required" end
  for _, s in ipairs(enforcement_srs(cg, true)) do
    if s.id == id then return s end
  end
  return nil, "SR " .. f.enforcement_sr .. " is not an open enforcement SR of this casegroup"
end

local function set_review_date(cg, date, max_months)
  if not clock.is_date(date) or date <= clock.today() then
    return "review_date must be a date after today"
  end
  if date > clock.add_months(clock.today(), max_months) then
    return "review_date may be at most " .. max_months .. " months ahead"
  end
  cg:set_review_date(date)
  return nil
end

-- A fresh case routing SR, and an instance to work it.
local function route_again(cg, reason, note)
  local again = sr.create { process = "Enforcement", area = "Assess Next Action",
                            sub_area = SUB_AREA, casegroup = cg, reason = reason }
  again:add_note(note)
  procedures.start { name = "case_routing", casegroup = cg, params = { sr = tostring(again.id) } }
  return again
end

-- Step 70, the collection that missed (its date), or nil; and the day the next collection is
-- to be checked, or nil. A collection counts as missed collections.GRACE_DAYS after it
-- falls due, as the missed-payment monitor counts it.
local function missed_collection(cg, account)
  local schedule = payment.schedule(cg)
  if not schedule or not account or cg:has_flag("disable_missed_payment_monitor") then
    return nil, nil
  end
  local expected, count, last =
    collections.expected_by(schedule, clock.add_days(clock.today(), -collections.GRACE_DAYS))
  if count > 0 and collections.paid(schedule, account) < expected then return last, nil end
  if count >= schedule.periods then return nil, nil end
  return nil, clock.add_days(collections.date(schedule, count), collections.GRACE_DAYS)
end

-- Step 70: "The CMS system will monitor the case for compliance for this period, after which
-- a new case routing SR will be automatically generated to transfer the case back to
-- maintenance. If the paying parent misses a payment or if they clear all liability order
-- debt prior to the set date a case routing task will be generated for further action."
-- While it watches, the casegroup carries the enforcement_monitoring flag, so that a missed
-- payment raises this routing task and no Action Missed Payment SR
-- (collections.unmonitored_because). With the Disable Missed Payment Monitor flag set,
-- missed payments are not watched.
local function monitor(cg, until_date)
  local account = payment.find_account(cg.paying_parent)
  cg:set_flag("enforcement_monitoring")
  local function route(reason, note, fields)
    cg:set_flag("enforcement_monitoring", false)
    local again = route_again(cg, reason, note)
    for name, value in pairs(fields or {}) do again:set_field(name, value) end
  end
  while clock.today() < until_date do
    if payment.balance { casegroup = cg, state = "active" } == 0 then
      return route("Liability order paid off", "All the arrears were paid by " .. clock.today()
        .. ", before the end of the monitoring period (" .. until_date .. ")")
    end
    local missed, next_check = missed_collection(cg, account)
    if missed then
      -- The routing SR names the collection, so that it raises nothing more once the
      -- monitoring has ended (collections.missed_payment_raised).
      return route("Missed payment", "The collection due " .. missed .. " was not paid in full "
        .. "during the monitoring period (to " .. until_date .. ")",
        { schedule_version = payment.schedule(cg).version, missed_collection = missed })
    end
    if not account then break end
    local wake = next_check and next_check < until_date and next_check or until_date
    event.await { kind = "payment", account = account,
                  timeout_days = clock.days_between(clock.today(), wake) }
  end
  if clock.today() < until_date then wait { at = until_date } end
  route("Transfer case to maintenance", "Monitoring period ended " .. until_date
    .. ": transfer the case back to maintenance")
end

-- Step 41: what takes a case out of surveillance before its review date. Each arrives as a
-- signal to the casegroup (`casekit signal --casegroup ID cis_address --as NAME`) and raises a
-- fresh case routing SR; the fifth, the review date reached, is the review-date monitor's
-- (scripts/review_date_monitor.lua), so the watch simply ends then.
local SURVEILLANCE_EXITS = {
  cis_address = "a new address is highlighted via CIS",
  hmrc_employment = "the HMRC data wash provides new employment details",
  client_contact = "client contact (change of circumstance, new information or payment "
    .. "negotiation)",
  annual_review_exception = "an annual review date calculation or scheduling exception",
}

local function watch_surveillance(cg, review_date)
  local names = {}
  for name in pairs(SURVEILLANCE_EXITS) do names[#names + 1] = name end
  table.sort(names)
  local days = clock.days_between(clock.today(), review_date)
  local got = event.await { kind = "signal", names = names, timeout_days = days }
  -- A later decision set another review date: its own watch takes over.
  if got.timeout or cg.review_date ~= review_date then return end
  local details = {}
  for k, v in pairs(got.signal.data) do details[#details + 1] = k .. ": " .. tostring(v) end
  table.sort(details)
  route_again(cg, "New information received during enforcement action",
    "Out of surveillance (review date " .. review_date .. "): " .. SURVEILLANCE_EXITS[got.signal.name]
      .. ", signalled by " .. got.signal.by
      .. (#details > 0 and (" (" .. table.concat(details, "; ") .. ")") or ""))
end

-- ---- the decisions ------------------------------------------------------------------------
-- Each returns its result, the sub status to close the SR with and what to do once it is
-- closed (a function, or nil), or nil and why it cannot be done.

local decide = {}

-- Step 3, before any decision (the activity plan's Initiate Data Gathering line): a Gather
-- Information child SR "to allow gathering of information from third parties, credit
-- reference agency (CRA)". The system searches the CRA (which answers only for a confirmed
-- address) and notes what it said; the caseworker records what else was gathered and the
-- Welfare of the Child decision, which the source asks for "before progressing".
local function gather_information(s, cg)
  s:complete_step("Initiate Data Gathering")
  local gather = sr.create { process = "Enforcement", area = "Assess Next Action",
                             sub_area = "Gather Information", casegroup = cg, parent = s,
                             status = "In Progress" }
  local found = cra.search(cg.paying_parent)
  gather:add_note("CRA " .. (found.ok and "searched: " or "search refused: ") .. found.message)
  local info = task.await {
    inbox = "caseworker", kind = "gather_information", sr = gather, due_in_days = 5,
    title = "Gather information (third parties, CRA) and record the Welfare of the Child decision",
    outcomes = { "complete" }, fields = { "welfare_of_the_child", "information" },
    required = { "welfare_of_the_child" },
  }
  gather:add_note("Welfare of the Child decision: " .. info.fields.welfare_of_the_child)
  if info.fields.information then gather:add_note(info.fields.information) end
  gather:close("Complete")
end

-- Steps 5-9: the enforcement power launched and linked (its information gathered at step 3).
decide["Initiate Enforcement Action"] = function(s, cg, f)
  local power = f.power
  if not power then return nil, "power (the enforcement power to launch) is required" end
  local known = false
  for _, list in pairs(SURVEILLANCE_ACTIONS) do
    for _, p in ipairs(list) do known = known or p == power end
  end
  if not known and power ~= "Deduction Order" then
    return nil, "power '" .. power .. "' is not an enforcement power"
  end
  local launched = sr.create { process = "Enforcement", area = "Enforcement Action",
                               sub_area = power, casegroup = cg, status = "In Progress",
                               reason = "initiate" }
  s:relate(launched)
  cg:set_segment("Enforcement")
  s:add_note("Initiate enforcement action: " .. power .. " SR " .. launched.id .. " launched")
  return "initiate"
end

-- Steps 13-23: enforcement paused until a review date; the review-date monitor raises a
-- fresh SR when it is reached.
decide["Pause Enforcement Action"] = function(s, cg, f, by)
  if not f.reason then return nil, "reason (why enforcement is paused) is required" end
  local problem = set_review_date(cg, f.review_date, SURVEILLANCE_MONTHS)
  if problem then return nil, problem end
  s:add_note("Enforcement paused until " .. f.review_date .. ": " .. f.reason)
  for _, e in ipairs(enforcement_srs(cg, true)) do
    e:set_status(e.status, "Ready for Pause")
    e:add_note("Ready for pause: case set for review on " .. f.review_date)
  end
  if not yes(f.rp_contacted) then
    for _, rp in ipairs(receiving_parents(cg)) do
      letter.send { template = "CMEL7402", to = rp, casegroup = cg, sr = s,
                    fields = { review_date = f.review_date } }
    end
  end
  if f.letter_text then free_text_letter.send(s, cg, { cg.paying_parent }, f.letter_text, by) end
  s:set_field("set_case_for_review", "Setup Only")
  s:set_field("review_date", f.review_date)
  return "pause"
end

-- Steps 24-28: the paused enforcement SRs are re-progressed and both parents told.
decide["Resume Enforcement Action"] = function(s, cg, f, by)
  if not f.reason or not f.letter_text then
    return nil, "reason and letter_text (CMEL9271 to both parents) are required"
  end
  local resumed = 0
  for _, e in ipairs(enforcement_srs(cg, true)) do
    if e.sub_status == "Ready for Pause" then
      e:set_status("In Progress", "Ready for Re-progressing")
      e:add_note("Enforcement resumed: " .. f.reason)
      resumed = resumed + 1
    end
  end
  if resumed == 0 then return nil, "no paused enforcement SR to resume" end
  cg:set_review_date(nil)
  s:complete_step("Perform Amendment")
  s:add_note("Enforcement resumed (" .. resumed .. " SRs): " .. f.reason)
  free_text_letter.send(s, cg, both_parents(cg), f.letter_text, by)
  return "resume"
end

-- Steps 29-35: a Consider Amendment SR linked to the enforcement SR being amended, which is
-- made Ready for Cancellation; exit without validation cancels it, with validation keeps its
-- unfinished steps for later.
decide["Amend Enforcement Action"] = function(s, cg, f, by)
  local target, why = named_enforcement_sr(cg, f)
  if not target then return nil, why end
  if not f.amendment_reason or not f.amendment_comments then
    return nil, "amendment_reason and amendment_comments are required"
  end
  if f.exit ~= "no validation" and f.exit ~= "with validation" then
    return nil, "exit must be 'no validation' or 'with validation'"
  end
  local amend = sr.create { process = "Enforcement", area = "Assess Next Action",
                            sub_area = "Consider Amendment", casegroup = cg, parent = s,
                            status = "In Progress" }
  amend:relate(target)
  target:set_status(target.status, "Ready for Cancellation")
  target:set_field("amendment_reason", f.amendment_reason)
  target:set_field("amendment_comments", f.amendment_comments)
  target:add_note("Amended: " .. f.amendment_reason .. ": " .. f.amendment_comments)
  if f.letter_text then free_text_letter.send(amend, cg, { cg.paying_parent }, f.letter_text, by) end
  if f.exit == "no validation" then
    for _, step in ipairs(target:steps()) do
      if step.status == "pending" then target:skip_step(step.name) end
    end
    target:close("Cancelled")
  else
    target:set_status(target.status, "Perform Amendment")
  end
  amend:set_field("cancel_enf_action", "Exit " .. (f.exit == "no validation" and "No" or "With")
    .. " Validation")
  amend:close("Complete")
  return "amend"
end

-- How many surveillance cycles the casegroup has been through: the case routing SRs that
-- decided Case Surveillance Action before this one.
local function surveillance_cycles(cg, s)
  local n = 0
  for _, other in ipairs(sr.find { casegroup = cg, sub_area = SUB_AREA }) do
    if other.id ~= s.id and other:field("decision") == "Case Surveillance Action" then
      n = n + 1
    end
  end
  return n
end

-- Case Surveillance: "Where the casegroup is arrears only and has been through previous
-- surveillance cycles, the debt may be suitable for categorisation and the casegroup moved to
-- the Arrears Only Categorised segment." The case manager asks for it (categorise=yes); it is
-- refused on any other casegroup. Returns the cycles it has been through, or nil and why not.
local function categorisation(s, cg)
  if not cg.arrears_only then
    return nil, "only an arrears-only casegroup may be categorised (Arrears Only Categorised)"
  end
  local cycles = surveillance_cycles(cg, s)
  if cycles == 0 then
    return nil, "an arrears-only casegroup is categorised only after previous surveillance "
      .. "cycles, and this one has been through none"
  end
  return cycles
end

-- Steps 36-41: only once the jurisdiction's actions are considered or exhausted; review date
-- at most 12 months ahead (6 when the paying parent is DLO).
decide["Case Surveillance Action"] = function(s, cg, f)
  if not f.reason then return nil, "reason (why the case is in surveillance) is required" end
  local cycles, refused
  if yes(f.categorise) then
    cycles, refused = categorisation(s, cg)
    if refused then return nil, refused end
  end
  local done = {}
  for _, e in ipairs(enforcement_srs(cg, false)) do done[e.sub_area] = true end
  for name in string.gmatch(f.exhausted or "", "[^,]+") do
    done[string.gsub(name, "^%s*(.-)%s*$", "%1")] = true
  end
  local missing = {}
  for _, list in ipairs({ SURVEILLANCE_ACTIONS.common, SURVEILLANCE_ACTIONS[cg.region] }) do
    for _, action in ipairs(list) do
      if not done[action] then missing[#missing + 1] = action end
    end
  end
  if #missing > 0 then
    return nil, "case surveillance needs these actions considered or exhausted first: "
      .. table.concat(missing, ", ")
  end
  local pp = cg.paying_parent
  local dlo = pp.address and pp.address.status == "DLO"
  local problem = set_review_date(cg, f.review_date,
                                  dlo and SURVEILLANCE_MONTHS_DLO or SURVEILLANCE_MONTHS)
  if problem then return nil, problem end
  cg:set_flag("ever_in_enforcement")
  cg:set_flag("deo_desire")
  cg:set_flag("lock_assignment", false)
  s:add_note("Case is in Surveillance: " .. f.reason)
  if cycles then
    s:set_field("set_case_for_review", "Setup and Transfer")
    cg:set_segment("Arrears Only Categorised")
    s:add_note("Arrears only, after " .. cycles .. " previous surveillance "
      .. "cycles: the debt is categorised (Arrears Only Categorised)")
  elseif yes(f.remain_in_enforcement) then
    s:set_field("set_case_for_review", "Setup Only")
  else
    s:set_field("set_case_for_review", "Setup and Transfer")
    cg:set_segment("Maintenance")
  end
  s:set_field("review_date", f.review_date)
  return "surveillance", "Complete", function() watch_surveillance(cg, f.review_date) end
end

-- Steps 42-46: to Maintenance without approval, to the Central Team with a team leader's;
-- never while an enforcement SR is open or a flag only enforcement can remove is set.
local function transfer(s, cg, f, by, rejected)
  local destination = f.destination
  if destination ~= "Maintenance" and destination ~= "Central Team" then
    return nil, "destination must be Maintenance or Central Team"
  end
  if destination == "Maintenance" then
    local still = {}
    for flag, name in pairs(MAINTENANCE_BLOCKERS) do
      if cg:has_flag(flag) then still[#still + 1] = name end
    end
    if #still > 0 then
      return nil, "remove these indicators before returning the case to maintenance: "
        .. table.concat(still, ", ")
    end
    if #enforcement_srs(cg, true) > 0 then
      return nil, "complete every enforcement SR before returning the case to maintenance"
    end
  end
  if not rejected then cg:set_flag("ever_in_enforcement") end
  if destination == "Central Team" then
    s:set_status("Initiate Approval Process")
    local approval = task.await {
      inbox = "team_leader", kind = "approval", sr = s, due_in_days = 3, submitted_by = by,
      title = "Approve the transfer of the case to the Central Team",
      outcomes = { "approved", "rejected" }, fields = { "reasons" },
      required = { rejected = { "reasons" } },
    }
    s:set_status("In Progress")
    if approval.outcome == "rejected" then
      return nil, "transfer to the Central Team rejected by the team leader: "
        .. approval.fields.reasons
    end
  end
  cg:set_segment(destination)
  s:set_field("transfer", "Transfer Case To " .. (destination == "Maintenance"
    and "Maintenance Only" or "Central Team"))
  s:add_note("Case transferred to " .. destination .. (f.reason and (": " .. f.reason) or ""))
  return "transfer"
end

decide["Transfer Case"] = function(s, cg, f, by) return transfer(s, cg, f, by, false) end

-- Steps 10-12.
decide["Lock Assignment Flag"] = function(s, cg, f)
  cg:set_flag("lock_assignment")
  s:add_note("Lock Assignment flag set")
  local granted = f.lo_granted_in
  if granted and granted ~= cg.region then
    s:add_note("Liability order granted in " .. granted .. " and enforced in " .. cg.region
      .. ": a Certificate of Money Provision is needed from the court that granted it (offline)")
  end
  return "lock_assignment"
end

-- Steps 61-64: a case not in enforcement. A Clear Old Enforcement Actions SR waits, if the
-- case manager asks, for other actions to finish (step 62); its Authorisation Check raises
-- the Clear Artefacts SR and forwards it to a team leader (the line manager) to approve
-- (step 63). Approved, the case goes to the enforcement team (step 64), who clear the
-- artefact on that SR; the caller sends it back to `from`. Returns the Clear Artefacts SR
-- and the segment to return to, or nil and why not.
local MAX_CLEARANCE_WAIT_DAYS = 90
local function authorise_clearance(s, cg, origin, f, by)
  local days = integer(f.wait_days or "0")
  if not days or days < 0 or days > MAX_CLEARANCE_WAIT_DAYS then
    return nil, "wait_days must be a whole number of days from 0 to " .. MAX_CLEARANCE_WAIT_DAYS
  end
  local old = sr.create { process = "Enforcement", area = "Transfer case to enforcement",
                          sub_area = "Clear Old Enforcement Actions", casegroup = cg, parent = s,
                          status = "In Progress", reason = origin.sub_area }
  old:relate(origin)
  old:add_steps({ "Wait for other actions", "Authorisation Check" })
  if days > 0 then
    service_request.while_waiting(old, nil, function() wait { days = days } end)
    old:complete_step("Wait for other actions")
  else
    old:skip_step("Wait for other actions")
  end
  local clear = sr.create { process = "Enforcement", area = "Assess Next Action",
                            sub_area = "Clear Artefacts", casegroup = cg, parent = old,
                            status = "Pending Approval" }
  clear:relate(origin)
  old:complete_step("Authorisation Check")
  local approval = task.await {
    inbox = "team_leader", kind = "approval", sr = clear, due_in_days = 3, submitted_by = by,
    title = "Authorise clearing the " .. origin.sub_area .. " artefact of a case in "
      .. cg.segment .. ": it goes to the enforcement team, then back",
    outcomes = { "approved", "rejected" }, fields = { "reasons" },
    required = { rejected = { "reasons" } },
  }
  if approval.outcome == "rejected" then
    clear:add_note("Not authorised by " .. approval.by .. ": " .. approval.fields.reasons)
    clear:close("Cancelled")
    old:close("Complete", "Rejected")
    return nil, "clearing the artefact was not authorised: " .. approval.fields.reasons
  end
  clear:add_note("Authorised by " .. approval.by)
  old:close("Complete")
  local from = cg.segment
  cg:set_segment("Enforcement")
  clear:set_status("In Progress")
  return clear, from
end

-- Steps 50-60: with no artefacts outstanding, link the SR that caused them and close; with
-- artefacts, a Clear Artefacts child SR, CMEL9116 to the solicitor and CMEL9271 to the
-- paying parent. A case not in enforcement is authorised first (steps 61-64).
decide["Clear Enforcement Artefacts"] = function(s, cg, f, by)
  -- An SR raised for the artefacts (BaNCS's LO paid off, step 48) names its original SR.
  local original = integer(f.original_sr or s:field("original_sr"))
  local ok, origin = pcall(sr.get, original)
  if not original or not ok or not origin.casegroup or origin.casegroup.id ~= cg.id then
    return nil, "original_sr (the SR that caused the artefact) must be an SR of this casegroup"
  end
  s:relate(origin)
  if not yes(f.artefacts_outstanding) then
    s:add_note("Liability order paid off; no artefacts outstanding")
    return "clear_artefacts"
  end
  if not f.letter_text then return nil, "letter_text (CMEL9271 to the paying parent) is required" end
  local clear, back_to
  if cg.segment ~= "Enforcement" then
    clear, back_to = authorise_clearance(s, cg, origin, f, by)
    if not clear then return nil, back_to end
  else
    clear = sr.create { process = "Enforcement", area = "Assess Next Action",
                        sub_area = "Clear Artefacts", casegroup = cg, parent = s,
                        status = "In Progress" }
    clear:relate(origin)
  end
  local form = task.await {
    inbox = "caseworker", kind = "clear_artefacts", sr = clear, due_in_days = 5,
    title = "Complete the Enforce form to clear the artefact, and instruct the solicitor (CMEL9116)",
    outcomes = { "lifted", "reduced" },
    fields = { "sanction", "sanction_date", "amount_paid", "amount_outstanding", "solicitor",
               "solicitor_address", "solicitor_postcode" },
    required = { "sanction", "sanction_date", "amount_paid", "amount_outstanding", "solicitor",
                 "solicitor_address", "solicitor_postcode" },
  }
  local paid, outstanding = integer(form.fields.amount_paid), integer(form.fields.amount_outstanding)
  if not paid or not outstanding or paid < 0 or outstanding < 0 then
    clear:close("Cancelled")
    if back_to then cg:set_segment(back_to) end
    return nil, "amount_paid and amount_outstanding must be whole numbers of pence"
  end
  local solicitor = case.create_client {
    name = form.fields.solicitor,
    address = { line1 = form.fields.solicitor_address, postcode = form.fields.solicitor_postcode },
  }
  letter.send { template = "CMEL9116", to = solicitor, casegroup = cg, sr = clear,
                fields = { action = form.outcome == "lifted" and "lift" or "reduce",
                           sanction = form.fields.sanction,
                           sanction_date = form.fields.sanction_date,
                           amount_paid = money.format(paid),
                           amount_outstanding = money.format(outstanding) } }
  free_text_letter.send(clear, cg, { cg.paying_parent }, f.letter_text, by)
  clear:set_field("artefact_status", "No")
  clear:add_note("Artefact " .. form.fields.sanction .. " " .. form.outcome
    .. "; solicitor instructed and paying parent told")
  clear:close("Complete")
  if back_to then
    cg:set_segment(back_to)
    s:add_note("Artefact cleared by the enforcement team; case transferred back to " .. back_to)
  end
  return "clear_artefacts", "Closed"
end

-- Step 74: the first payment after a court-enforced schedule should carry the liability
-- order's reference, so that it allocates to that LO. Checked on the first payment
-- recorded since the negotiation began, waiting for it until five days after the first
-- collection; if it is not referenced (or does not come) the caseworker reminds the paying
-- parent, and may send CMSB046 again and set the manual allocation flag.
local FIRST_PAYMENT_GRACE_DAYS = 5
local function first_payment_reference(s, cg, lo_reference, since)
  local account = payment.find_account(cg.paying_parent)
  if not account then
    s:add_note("No payment account: the LO reference " .. lo_reference .. " cannot be monitored")
    return
  end
  local first = payment.payments { account = account, since = since }[1]
  if not first then
    local schedule = payment.schedule(cg)
    local by = clock.add_days(schedule.first_collection_date, FIRST_PAYMENT_GRACE_DAYS)
    local days = math.max(clock.days_between(clock.today(), by), 1)
    local got = event.await { kind = "payment", account = account, timeout_days = days }
    if not got.timeout then first = payment.payments { account = account, since = since }[1] end
  end
  if first and first.reference == lo_reference then
    s:add_note("First payment (" .. money.format(first.amount) .. " on " .. first.date
      .. ") referenced with the LO reference " .. lo_reference)
    return
  end
  local seen = first and ("the first payment (" .. money.format(first.amount) .. " on "
    .. first.date .. ") was referenced '" .. (first.reference or "") .. "'")
    or "no payment has been received"
  s:add_note("LO reference " .. lo_reference .. " not used: " .. seen)
  local r = task.await {
    inbox = "caseworker", kind = "lo_reference_not_used", sr = s, due_in_days = 2,
    title = "The LO reference " .. lo_reference .. " was not used (" .. seen .. "): remind the "
      .. "paying parent how to reference payments; consider CMSB046 and the manual allocation flag",
    outcomes = { "reminded", "no contact" }, fields = { "send_cmsb046", "manual_allocation" },
    required = { "send_cmsb046", "manual_allocation" },
  }
  if yes(r.fields.send_cmsb046) then
    letter.send { template = "CMSB046", to = cg.paying_parent, casegroup = cg, sr = s,
                  fields = { lo_reference = lo_reference } }
  end
  if yes(r.fields.manual_allocation) then
    cg:set_flag("manual_allocation")
    s:add_note("Manual allocation flag set: later payments are to be allocated to the LO by hand")
  end
end

-- Steps 65-74: a Negotiation SR whose child Action Missed Payment SR runs arrears
-- negotiation. The Negotiation SR's last steps follow how that SR ends (step 71): a schedule
-- agreed is marked court enforced if the court enforced it, and the case is monitored until
-- the transfer-to-maintenance date (see `monitor`); an unsuccessful negotiation leaves the
-- next action to decide again.
decide["Arrears Negotiation and Court Enforced Schedules"] = function(s, cg, f)
  local back = f.transfer_to_maintenance
  if not clock.is_date(back) or back <= clock.today() then
    return nil, "transfer_to_maintenance must be a date after today"
  end
  local started_on = clock.today()
  local negotiation = sr.create { process = "Enforcement", area = "Assess Next Action",
                                  sub_area = "Negotiation", casegroup = cg, parent = s,
                                  status = "In Progress" }
  negotiation:add_steps({ "Initiate Negotiation" }, "done")
  negotiation:add_steps({ "Is Negotiation Successful", "Proceed for Updating LO as Court Enforced",
                          "Proceed for Work Item Closure" })
  local amp = sr.create { process = "Arrears", area = "Arrears Management",
                          sub_area = "Action Missed Payment", casegroup = cg, parent = negotiation,
                          reason = "Enforcement negotiation" }
  amp:set_field("court_enforced_schedule", yes(f.court_enforced_schedule) and "yes" or "no")
  amp:set_field("transfer_to_maintenance", back)
  amp:set_field("disable_missed_payments", yes(f.disable_missed_payments) and "yes" or "no")
  cg:set_flag("disable_missed_payment_monitor", yes(f.disable_missed_payments))
  procedures.start { name = "arrears_negotiation", casegroup = cg,
                     params = { sr = tostring(amp.id) } }
  s:add_note("Arrears negotiation (SR " .. amp.id .. ") started")
  event.await { kind = "sr", sr = amp }

  -- Arrears negotiation records the schedule it issues on the SR; every other ending
  -- (refused, no contact, not acceptable, no address) issues none.
  local successful = amp:field("schedule_version") ~= nil
  negotiation:set_field("negotiation_successful", successful and "yes" or "no")
  negotiation:complete_step("Is Negotiation Successful")
  if successful and yes(f.court_enforced_schedule) then
    cg:set_flag("court_enforced_schedule")
    negotiation:complete_step("Proceed for Updating LO as Court Enforced")
  else
    negotiation:skip_step("Proceed for Updating LO as Court Enforced")
  end
  negotiation:complete_step("Proceed for Work Item Closure")
  negotiation:close("Complete")
  if not successful then
    return nil, "arrears negotiation (SR " .. amp.id .. ") was unsuccessful"
      .. (amp.resolution_code and (" (" .. amp.resolution_code .. ")") or "")
  end
  s:add_note("Schedule agreed (SR " .. amp.id .. "); case monitored until " .. back)
  if f.lo_reference then first_payment_reference(s, cg, f.lo_reference, started_on) end
  return "negotiation", "Complete", function() monitor(cg, back) end
end

-- Step 76: "Associate the correct case number/s": the cases named (ids, comma separated),
-- which must be this casegroup's; with one case, that one. Returns the cases, or nil and why.
local function associated_cases(cg, named)
  local all = cg:cases()
  if not named then
    if #all == 1 then return all end
    return nil, "cases (the case ids the indicators are for, comma separated) is required: "
      .. "the casegroup has " .. #all .. " cases"
  end
  local out = {}
  for id in string.gmatch(named, "[^,%s]+") do
    local found
    for _, c in ipairs(all) do
      if c.id == integer(id) then found = c end
    end
    if not found then return nil, "case " .. id .. " is not a case of this casegroup" end
    out[#out + 1] = found
  end
  if #out == 0 then return nil, "cases names no case" end
  return out
end

-- Steps 75-80: an Action Missed Payment SR, associated with the cases (step 76), that records
-- the two indicators; its five activities are updated (step 79): none of them is for this
-- SR, which exists to record the indicators, so each is marked not needed.
decide["Disable Missed Payment Monitor"] = function(s, cg, f)
  local disable, court = f.disable_missed_payments, f.court_enforced_schedule
  if (disable ~= "yes" and disable ~= "no") or (court ~= "yes" and court ~= "no") then
    return nil, "disable_missed_payments and court_enforced_schedule must each be yes or no"
  end
  local cases, why = associated_cases(cg, f.cases)
  if not cases then return nil, why end
  local amp = sr.create { process = "Arrears", area = "Arrears Management",
                          sub_area = "Action Missed Payment", casegroup = cg, parent = s,
                          case = #cases == 1 and cases[1] or nil,
                          status = "In Progress", reason = "Enforcement indicators" }
  local ids = {}
  for _, c in ipairs(cases) do ids[#ids + 1] = tostring(c.id) end
  amp:set_field("cases", table.concat(ids, ", "))
  amp:add_steps(AMP_PLAN)
  for _, activity in ipairs(AMP_PLAN) do amp:skip_step(activity) end
  cg:set_flag("disable_missed_payment_monitor", disable == "yes")
  cg:set_flag("court_enforced_schedule", court == "yes")
  amp:set_field("disable_missed_payments", disable)
  amp:set_field("court_enforced_schedule", court)
  amp:close("Complete")
  return "missed_payment_monitor"
end

-- Step 48: "Check for any further action that may be needed e.g. an LO invalidating, or
-- enforcement artefacts that need to be cleared." The case manager answers before the SR
-- closes (step 49). A liability order to invalidate is marked on its SR (Ready for
-- Cancellation); artefacts to clear raise a fresh case routing SR, where Clear Enforcement
-- Artefacts is decided with the SR that caused them.
local FURTHER_ACTIONS = { "none", "invalidate liability order", "clear artefacts" }
local function further_action(s, cg, cancelled)
  local problem
  while true do
    local r = task.await {
      inbox = "caseworker", kind = "further_action", sr = s, due_in_days = 2,
      title = (problem and (problem .. ". ") or "") .. "Enforcement SR " .. cancelled.id
        .. " is cancelled: is any further action needed (an LO to invalidate, enforcement "
        .. "artefacts to clear)?",
      outcomes = FURTHER_ACTIONS, fields = { "liability_order_sr", "note" },
      required = { ["invalidate liability order"] = { "liability_order_sr" } },
    }
    s:set_field("further_action", r.outcome)
    if r.fields.note then s:add_note(r.fields.note) end
    if r.outcome == "none" then return end
    if r.outcome == "clear artefacts" then
      local again = route_again(cg, "Enforcement powers exhausted or not applicable",
        "Enforcement SR " .. cancelled.id .. " was cancelled (case routing SR " .. s.id
          .. "): enforcement artefacts to clear")
      again:set_field("original_sr", cancelled.id)
      s:add_note("Further action: enforcement artefacts to clear, on a fresh case routing SR")
      return
    end
    local lo
    for _, e in ipairs(enforcement_srs(cg, false)) do
      if e.id == integer(r.fields.liability_order_sr) and e.sub_area == "Liability Order" then
        lo = e
      end
    end
    if lo then
      if lo.is_open then lo:set_status(lo.status, "Ready for Cancellation") end
      lo:add_note("Liability order to be invalidated: enforcement cancelled (case routing SR "
        .. s.id .. ")")
      s:add_note("Further action: liability order SR " .. lo.id .. " to be invalidated")
      return
    end
    problem = "SR " .. r.fields.liability_order_sr .. " is not a Liability Order SR of this "
      .. "casegroup"
  end
end

-- Steps 47-49: needs an enforcement SR in progress; CMEL9271 to both parents; then the check
-- for further action (step 48).
decide["Cancel Enforcement Action"] = function(s, cg, f, by)
  local target, why = named_enforcement_sr(cg, f)
  if not target then return nil, why end
  if target.status ~= "In Progress" then
    return nil, "enforcement SR " .. target.id .. " is not In Progress"
  end
  if not f.letter_text then return nil, "letter_text (CMEL9271 to both parents) is required" end
  target:set_status("In Progress", "Ready for Cancellation")
  target:add_note("Enforcement action to be cancelled" .. (f.reason and (": " .. f.reason) or ""))
  free_text_letter.send(s, cg, both_parents(cg), f.letter_text, by)
  s:add_note("Enforcement action cancelled")
  further_action(s, cg, target)
  return "cancel"
end

-- ---- the procedure ----------------------------------------------------------------------

local function the_sr(ctx, cg)
  return service_request.the_sr(ctx, cg, SUB_AREA, function()
    local reason = ctx.params.reason or error("params.reason (the trigger) is required")
    local known = false
    for _, t in ipairs(TRIGGERS) do known = known or t == reason end
    if not known then error("'" .. reason .. "' is not a case routing trigger") end
    return sr.create { process = "Enforcement", area = "Assess Next Action", sub_area = SUB_AREA,
                       casegroup = cg, reason = reason }
  end)
end

local PLAN = { "Review enforcement history", "Initiate Data Gathering", "Decide next action",
               "Perform Amendment", "Set Case for Review" }

-- Step 1: the history and the flags; a case referred incorrectly is rejected here, and
-- Ever in Enforcement stays unset.
local function review(s, cg)
  local set = {}
  for _, flag in ipairs(REVIEW_FLAGS) do
    if cg:has_flag(flag) then set[#set + 1] = flag end
  end
  s:add_note("Flags set: " .. (#set > 0 and table.concat(set, ", ") or "none"))
  local r = task.await {
    inbox = "caseworker", kind = "review_history", sr = s, due_in_days = 2,
    title = "Review the enforcement history: arrears, enforcement on going, a new schedule, "
      .. "further enforcement",
    outcomes = { "accept", "reject" }, fields = { "notes", "destination" },
    required = { reject = { "notes", "destination" } },
  }
  if r.fields.notes then s:add_note(r.fields.notes) end
  return r
end

return procedure {
  name = "case_routing",
  description = "001: review an enforcement case and decide its next action",
  run = function(ctx)
    local cg = ctx.casegroup or error("case_routing needs a casegroup (--casegroup)")
    local s = the_sr(ctx, cg)
    s:add_steps(PLAN)
    local r = review(s, cg)
    s:complete_step("Review enforcement history")
    if r.outcome == "reject" then
      -- Rejected: transferred out without setting Ever in Enforcement.
      while true do
        local result, problem = transfer(s, cg, r.fields, r.by, true)
        if result then break end
        s:add_note("Cannot transfer: " .. problem)
        r = task.await {
          inbox = "caseworker", kind = "review_history", sr = s,
          title = "The rejected case cannot be transferred yet: " .. problem,
          outcomes = { "reject" }, fields = { "notes", "destination" },
          required = { "notes", "destination" },
        }
      end
      s:close("Complete", "Rejected")
      return "rejected"
    end
    s:set_status("In Progress")
    cg:set_flag("ever_in_enforcement")
    gather_information(s, cg)

    while true do
      local d = task.await {
        inbox = "caseworker", kind = "decide_next_action", sr = s, due_in_days = 2,
        title = "Decide the next action for the enforcement case", outcomes = DECISIONS,
        fields = DECISION_FIELDS,
      }
      local result, how, afterwards = decide[d.outcome](s, cg, d.fields, d.by)
      if result then
        s:set_field("decision", d.outcome)
        s:complete_step("Decide next action")
        s:close(how or "Complete")
        if afterwards then afterwards() end
        return result
      end
      s:add_note(d.outcome .. " not carried out: " .. how)
    end
  end,
}
