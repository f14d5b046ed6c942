-- Phase-2 transition of one CSA casegroup from the Data Warehouse extract.
--
-- Sources: DWP procedure 002 (Phase 2 Case Closure Arrears Summary) and 003
-- (Determine Action Following Financial Transition). `casekit import dw FILE` validates each
-- extract row (a bad row goes to the daily exceptions report and never gets here) and starts
-- one instance per casegroup with the row as ctx.input. docs/procedures/phase2_transition.md
-- maps each source step to the lines below and to the tests that prove it.
--
-- Returns what was done: "nothing to transition", "transition complete", "enforcement",
-- "negotiation" or "arrears only".

local SETUP_STEPS = {
  "Create contact details for the clients",
  "Verify applicant and input interest flags on CIS",
  "Verify other party and input interest flags on CIS",
  "Validate method of payment",
  "Create new casegroup / link to existing casegroup",
  "Establish maintenance region",
}
local BENEFIT_STEP = "Retrieve paying parent benefit details from CIS"

local STATES = { "active", "suspended", "deferred" }

local function owed(arrears)
  return money.sum { arrears.active, arrears.suspended, arrears.deferred }
end

local function row_total(row)
  local total = owed(row.sos)
  for _, rp in ipairs(row.receiving_parents) do
    total = money.add(total, owed(rp.arrears))
  end
  return total
end

-- 002 "Create Contact Details for the clients": a parent CMS already knows keeps its record.
local function new_client(person, extra)
  local details = { name = person.name, nino = person.nino, dob = person.dob,
                    address = person.address }
  for k, v in pairs(extra or {}) do details[k] = v end
  return case.create_client(details)
end
local function client_for(person)
  return case.find_client { nino = person.nino } or new_client(person)
end

-- "2,500.00 active, 100.00 deferred": the parts of a balance that are not zero.
local function breakdown(arrears)
  local parts = {}
  for _, state in ipairs(STATES) do
    if arrears[state] > 0 then
      parts[#parts + 1] = money.format(arrears[state]) .. " " .. state
    end
  end
  return table.concat(parts, ", ")
end

-- 002 "Add Arrears From CSA Scheme": one due per non-zero balance, in the six categories.
local function add_dues(cg, row, cases)
  local origin = "CSA transition " .. row.csa_ref
  for i, rp in ipairs(row.receiving_parents) do
    for _, state in ipairs(STATES) do
      if rp.arrears[state] > 0 then
        payment.add_due { casegroup = cg, case = cases[i], owed_to = "RP", state = state,
                          amount = rp.arrears[state], origin = origin }
      end
    end
  end
  local sos = "SOS_" .. row.sos.jurisdiction
  for _, state in ipairs(STATES) do
    if row.sos[state] > 0 then
      payment.add_due { casegroup = cg, owed_to = sos, state = state,
                        amount = row.sos[state], origin = origin }
    end
  end
end

-- 002 notifications to both parents, with the values added (letters CKTR001/CKTR002 are
-- ours: the source publishes no template).
local function notify(cg, row, pp, rps)
  local lines = {}
  for i, rp in ipairs(row.receiving_parents) do
    if owed(rp.arrears) > 0 then
      lines[#lines + 1] = { owed_to = "owed to " .. rp.name,
                            amount = money.format(owed(rp.arrears)),
                            detail = breakdown(rp.arrears) }
    end
  end
  if owed(row.sos) > 0 then
    lines[#lines + 1] = { owed_to = "owed to the Secretary of State",
                          amount = money.format(owed(row.sos)), detail = breakdown(row.sos) }
  end
  letter.send { template = "CKTR001", to = pp, casegroup = cg,
                fields = { csa_ref = row.csa_ref, total = money.format(row_total(row)),
                           lines = lines } }
  for i, rp in ipairs(row.receiving_parents) do
    if owed(rp.arrears) > 0 then
      letter.send { template = "CKTR002", to = rps[i], casegroup = cg,
                    fields = { csa_ref = row.csa_ref, total = money.format(owed(rp.arrears)),
                               detail = breakdown(rp.arrears) } }
    end
  end
end

-- 002 "Arrears Only Case Set Up": the steps the system performs, recorded as the activity
-- plan of the set-up SR. CIS is not modelled: the extract's NINOs were validated on import
-- and its benefit details are recorded on the paying parent.
local function record_setup(cg, row)
  local setup = sr.create { process = "Arrears", area = "Financial Transition",
                            sub_area = "Arrears only case set up", casegroup = cg,
                            status = "In Progress",
                            reason = "Phase 2 transition of " .. row.csa_ref }
  setup:add_steps(SETUP_STEPS, "done")
  if row.paying_parent.benefit then
    setup:add_steps({ BENEFIT_STEP }, "done")
  else
    setup:add_steps({ BENEFIT_STEP }, "skipped")
  end
  if not row.method_of_payment then
    setup:add_note("No method of payment on the CSA scheme")
  end
  setup:close("Complete")
  return setup
end

-- 002: where the receiving parent asked the CSA to write off their arrears but arrears are
-- still owed to them, an SR and a work item to investigate and contact them.
local function raise_writeoff_checks(cg, row, cases)
  local raised = {}
  for i, rp in ipairs(row.receiving_parents) do
    if rp.writeoff_requested and owed(rp.arrears) > 0 then
      local s = sr.create { process = "Arrears", area = "Arrears Management",
                            sub_area = "Investigate write off request", casegroup = cg,
                            case = cases[i], status = "Open",
                            reason = "Receiving parent asked the CSA to write off arrears, but "
                              .. money.format(owed(rp.arrears)) .. " is still owed to them" }
      raised[#raised + 1] = s
    end
  end
  return raised
end

local function investigate_writeoffs(raised)
  for _, s in ipairs(raised) do
    local done = task.await {
      inbox = "caseworker", kind = "investigate_write_off", sr = s, due_in_days = 10,
      title = "Investigate the receiving parent's write-off request and contact them to "
        .. "confirm a further write off",
      outcomes = { "write off confirmed", "arrears stand" }, fields = { "note" },
      required = { "note" },
    }
    s:add_note(done.outcome .. ": " .. done.fields.note)
    s:close("Complete", done.outcome)
  end
end

-- 003: what happens next depends on what the Data Warehouse said about the CSA case.
local function determine_action(cg, row)
  if row.enforcement_ongoing then
    cg:set_segment("Enforcement")
    task.await {
      inbox = "case_owner", kind = "check_enforcement", due_in_days = 5,
      title = "Check Tallyman and the CSA for the enforcement action ongoing on "
        .. row.csa_ref .. " and update the records",
      outcomes = { "records updated" }, fields = { "note" },
    }
    return "enforcement"
  end
  if row.csa_case_active then
    local amp = sr.create { process = "Arrears", area = "Arrears Management",
                            sub_area = "Action Missed Payment", casegroup = cg,
                            status = "Open", reason = "Automated Financial Transition" }
    if procedures.exists("arrears_negotiation") then
      procedures.start { name = "arrears_negotiation", casegroup = cg,
                         params = { sr = amp.id } }
    else
      amp:add_note("Routed to negotiation; arrears negotiation is not automated yet")
    end
    return "negotiation"
  end
  -- Arrears-only cases are not proactively worked.
  return "arrears only"
end

-- 002: no arrears to add. An existing casegroup gets the CSA scheme details on the cases it
-- already has and is marked Transition Complete; without one there is nothing to build.
local function complete_without_arrears(cg, row)
  if not cg then return "nothing to transition" end
  for _, person in ipairs(row.receiving_parents) do
    local rp = case.find_client { nino = person.nino }
    local existing = rp and cg:case_of(rp)
    if existing then existing:set_csa_details { scheme = "CSA", ref = row.csa_ref } end
  end
  cg:set_flag("transition_complete")
  return "transition complete"
end

return procedure {
  name = "phase2_transition",
  description = "002/003: carry one CSA casegroup's arrears across and decide what next",
  run = function(ctx)
    local row = ctx.input

    -- 002 "Receive CSA Scheme Balance": look for the parents' existing cases.
    local pp = case.find_client { nino = row.paying_parent.nino }
    local cg = pp and case.find { paying_parent = pp }
    if row_total(row) == 0 then return complete_without_arrears(cg, row) end

    -- 002 "Arrears Only Case Set Up", where arrears are owed and no case exists.
    local pp_new, cg_new = not pp, not cg
    if pp_new then
      local p = row.paying_parent
      pp = new_client(p, { employment_status = p.employment_status, benefit_status = p.benefit })
    elseif row.paying_parent.benefit then
      pp:set_benefit_status(row.paying_parent.benefit)
    end
    if cg_new then
      cg = case.create_casegroup { paying_parent = pp, csa_ref = row.csa_ref,
                                   segment = "Arrears Only Categorised", arrears_only = true,
                                   region = row.region }
    end
    local built = cg_new
    local cases, rps = {}, {}
    for i, person in ipairs(row.receiving_parents) do
      rps[i] = client_for(person)
      -- Basic CSA scheme details go on existing and new cases alike (a new casegroup has none).
      cases[i] = not cg_new and cg:case_of(rps[i])
      if cases[i] then
        cases[i]:set_csa_details { scheme = "CSA", ref = row.csa_ref }
      else
        cases[i] = cg:add_case { receiving_parent = rps[i], csa_scheme = "CSA",
                                 csa_case_ref = row.csa_ref }
        built = true
      end
    end

    local account = not pp_new and payment.find_account(pp)  -- a new parent has none yet
    if not account then
      payment.open_account { client = pp, method = row.method_of_payment }
    elseif row.method_of_payment then
      account:set_method(row.method_of_payment)
    end
    if built then record_setup(cg, row) end

    add_dues(cg, row, cases)
    local raised = raise_writeoff_checks(cg, row, cases)
    notify(cg, row, pp, rps)
    investigate_writeoffs(raised)
    return determine_action(cg, row)
  end,
}
