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

-- 002 "Arrears Only Case Set Up": the steps the system performs, as the activity plan of a
-- set-up SR. The CIS steps call CIS (the `cis` module): each receiving parent verified as
-- applicant and the paying parent as other party, with CMS's interest flag input; the
-- paying parent's benefit details retrieved where required, that is when the extract says
-- they are on benefit or pay by deduction from benefit. A step CIS refuses stays pending,
-- with why noted, and is returned for `finish_setup`.
local function record_setup(cg, row, pp, rps)
  local setup = sr.create { process = "Arrears", area = "Financial Transition",
                            sub_area = "Arrears only case set up", casegroup = cg,
                            status = "In Progress",
                            reason = "Phase 2 transition of " .. row.csa_ref }
  setup:add_steps(SETUP_STEPS)
  local calls = {
    ["Verify applicant and input interest flags on CIS"] = function()
      for _, rp in ipairs(rps) do
        local a = cis.verify { client = rp, casegroup = cg, role = "applicant" }
        if not a.ok then return a end
      end
      return { ok = true }
    end,
    ["Verify other party and input interest flags on CIS"] = function()
      return cis.verify { client = pp, casegroup = cg, role = "other_party" }
    end,
  }
  if row.paying_parent.benefit or row.method_of_payment == "DFB" then
    setup:add_steps({ BENEFIT_STEP })
    calls[BENEFIT_STEP] = function()
      local a = cis.benefit_details(pp)
      if a.ok then pp:set_benefit_status(a.benefit_status) end
      return a
    end
  else
    setup:add_steps({ BENEFIT_STEP }, "skipped")
  end
  if not row.method_of_payment then
    setup:add_note("No method of payment on the CSA scheme")
  end
  local pending = {}
  for _, step in ipairs(setup:steps()) do
    local call = calls[step.name]
    local answer = call and call()
    if step.status == "skipped" then
      -- not required
    elseif not call or answer.ok then
      setup:complete_step(step.name)
    else
      setup:add_note("CIS: " .. step.name .. ": " .. answer.message)
      pending[#pending + 1] = { step = step.name, call = call, message = answer.message }
    end
  end
  if #pending == 0 then setup:close("Complete") end
  return setup, pending
end

-- The CIS steps CIS refused: a caseworker does each on CIS by hand, or has CIS try again.
-- The set-up SR closes once every step is done.
local function finish_setup(setup, pending)
  for _, p in ipairs(pending) do
    local message = p.message
    while true do
      local r = task.await {
        inbox = "caseworker", kind = "cis_step", sr = setup, due_in_days = 2,
        title = "CIS did not complete '" .. p.step .. "' (" .. message .. "): do it on CIS by "
          .. "hand, or try again",
        outcomes = { "done on CIS", "try again" },
      }
      if r.outcome == "done on CIS" then
        setup:add_note(p.step .. ": done on CIS by hand by " .. r.by)
        break
      end
      local answer = p.call()
      if answer.ok then break end
      message = answer.message
      setup:add_note("CIS: " .. p.step .. ": " .. message)
    end
    setup:complete_step(p.step)
  end
  if setup.is_open then setup:close("Complete") end
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

-- Confirmed, the arrears still owed to that receiving parent are written off in the ledger
-- under the caseworker's journal number, so that they are not then negotiated; otherwise
-- they stand and are collected like the rest.
local function investigate_writeoffs(raised)
  for _, s in ipairs(raised) do
    local done = task.await {
      inbox = "caseworker", kind = "investigate_write_off", sr = s, due_in_days = 10,
      title = "Investigate the receiving parent's write-off request and contact them to "
        .. "confirm a further write off",
      outcomes = { "write off confirmed", "arrears stand" }, fields = { "note", "journal_number" },
      required = { ["write off confirmed"] = { "note", "journal_number" },
                   ["arrears stand"] = { "note" } },
    }
    s:add_note(done.outcome .. ": " .. done.fields.note)
    if done.outcome == "write off confirmed" then
      local id = payment.write_off_case { case = s.case, journal = done.fields.journal_number,
                                          date = clock.today() }
      if id then
        local all = payment.write_offs(s.casegroup) -- oldest first: this one is the last
        s:add_note("Written off under journal " .. done.fields.journal_number .. ": "
          .. money.format(all[#all].arrears) .. " owed to the receiving parent")
      else
        s:add_note("Nothing was still owed to the receiving parent to write off")
      end
    end
    s:close("Complete", done.outcome)
  end
end

-- 003: the Maintenance 1993/2003 Rules Reassessment Team looks for a liability order in
-- force at transition and, if there is one, inputs its details (Liability Order (Legacy)
-- Input) as a Liability Order enforcement SR. Returns that SR, or nil when there is none.
local LO_FIELDS = { "lo_reference", "lo_date", "lo_amount", "court", "enforcement_details" }
local function liability_order_input(cg, row)
  local problem
  while true do
    local lo = task.await {
      inbox = "reassessment_team", kind = "liability_order_input", due_in_days = 5,
      title = (problem and (problem .. ". ") or "") .. "Is a liability order in force on "
        .. row.csa_ref .. " at transition? If so, input its details (Liability Order (Legacy) "
        .. "Input) and the enforcement action ongoing",
      outcomes = { "liability order input", "no liability order" }, fields = LO_FIELDS,
      required = { ["liability order input"] = { "lo_reference", "lo_date", "lo_amount" } },
    }
    if lo.outcome == "no liability order" then return nil end
    local f = lo.fields
    local amount = math.tointeger(tonumber(f.lo_amount))
    if not clock.is_date(f.lo_date) or f.lo_date > clock.today() then
      problem = "lo_date '" .. f.lo_date .. "' must be a date, not after today"
    elseif not amount or amount <= 0 then
      problem = "lo_amount '" .. f.lo_amount .. "' must be a whole number of pence above 0"
    else
      local s = sr.create { process = "Enforcement", area = "Enforcement Action",
                            sub_area = "Liability Order", casegroup = cg, status = "In Progress",
                            reason = "Liability Order (Legacy) Input at transition of "
                              .. row.csa_ref }
      for _, name in ipairs({ "lo_reference", "lo_date", "court" }) do
        if f[name] then s:set_field(name, f[name]) end
      end
      s:set_field("lo_amount", amount)
      if f.enforcement_details then s:add_note(f.enforcement_details) end
      s:add_note("Input by " .. lo.by .. " (Maintenance 1993/2003 Rules Reassessment Team)")
      return s
    end
  end
end

-- 003, at the transfer to Enforcement: "A work item will also be generated at this point to
-- prompt the case owner to check Tallyman and the CSA to establish the full details of the
-- enforcement action ongoing and update the records accordingly." A prompt: nothing waits on
-- it, and the Reassessment Team's search goes on beside it.
local function prompt_case_owner(row)
  task.create {
    inbox = "case_owner", kind = "check_enforcement", due_in_days = 5,
    title = "Check Tallyman and the CSA to establish the full details of the enforcement "
      .. "action ongoing on " .. row.csa_ref .. ", and update the records accordingly",
    outcomes = { "records updated" }, fields = { "note" },
  }
end

-- 003, once the Reassessment Team has recorded the ongoing enforcement action on CMS: "a work
-- item would then automatically be allocated to the case owner to complete" (Enforcement
-- Actions (Legacy) Input), on the Liability Order SR when there is one.
local function enforcement_actions_input(row, lo)
  task.await {
    inbox = "case_owner", kind = "enforcement_actions_input", due_in_days = 5, sr = lo,
    title = "Complete the Enforcement Actions (Legacy) Input for the enforcement action "
      .. "ongoing on " .. row.csa_ref
      .. (lo and (" (liability order " .. lo:field("lo_reference") .. " input, SR " .. lo.id
        .. ")") or " (no liability order in force)"),
    outcomes = { "input complete" }, fields = { "note" },
  }
end

-- 003: what happens next depends on what the Data Warehouse said about the CSA case.
local function determine_action(cg, row)
  if row.enforcement_ongoing then
    cg:set_segment("Enforcement")
    prompt_case_owner(row)
    local lo = liability_order_input(cg, row)
    enforcement_actions_input(row, lo)
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
    -- A new arrears-only casegroup is in the Arrears segment, where 003's Arrears Management
    -- SR is worked. Categorisation (Arrears Only Categorised) comes later, if ever: 001 puts
    -- it after surveillance cycles (case_routing.lua, Case Surveillance).
    if cg_new then
      cg = case.create_casegroup { paying_parent = pp, csa_ref = row.csa_ref,
                                   segment = "Arrears", arrears_only = true,
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
    local setup, cis_pending
    if built then setup, cis_pending = record_setup(cg, row, pp, rps) end

    -- The arrears and the letters do not wait for CIS: a step it refused is finished by hand
    -- alongside the write-off investigations.
    add_dues(cg, row, cases)
    local raised = raise_writeoff_checks(cg, row, cases)
    notify(cg, row, pp, rps)
    if setup then finish_setup(setup, cis_pending) end
    investigate_writeoffs(raised)
    return determine_action(cg, row)
  end,
}
