-- Arrears: reversal of write off.
--
-- Source: DWP procedure 004 (Arrears - Reversal of Write Off). Started by a
-- caseworker on the paying parent's casegroup:
--   casekit start writeoff_reversal --casegroup 7 --as carl
-- The caseworker's and the team leader's steps are work items; BaNCS is called through the
-- `bancs` module (an adapter tests can make fail). No client letter is sent except the
-- optional free-text CMEL9271, once a senior manager has signed it off. docs/procedures/
-- writeoff_reversal.md maps each source step to these lines and to the tests.
--
-- Returns "reversed", "rejected" or "closed".

local free_text_letter = require("free_text_letter")
local collections = require("collections")

local REASONS = { "CMG error", "Maladministration", "3rd party information" }
local RELATED = { ["part payment"] = true, ["write off arrears"] = true }

local PLAN = {
  "Enter journal number and write off date",
  "Attach related SRs",
  "Select reason for reversal",
  "Display written off arrears",
  "Team leader approval",
  "Reverse write off in BaNCS",
  "Unsuspend liabilities",
  "Issue new schedule",
}

local function add_once(list, name)
  for _, there in ipairs(list) do
    if there == name then return end
  end
  list[#list + 1] = name
end

-- Why the journal number and date do not name a write-off of the casegroup, or nil.
local function journal_problem(cg, journal, date)
  local known = {}
  for _, w in ipairs(payment.write_offs(cg)) do
    if w.journal == journal then
      if w.date ~= date then
        return "write-off " .. journal .. " was made on " .. w.date .. ", not " .. date
          .. ": amend the date and resubmit"
      end
      return nil
    end
    known[#known + 1] = w.journal .. " (" .. w.date .. ")"
  end
  return "journal " .. journal .. " is not a write-off of this casegroup ("
    .. (#known > 0 and "its write-offs: " .. table.concat(known, ", ") or "it has none")
    .. "): amend it and resubmit"
end

-- Steps 6 to 8: journal number, write-off date, related SRs and the reason. Asked again
-- until they are complete and make sense: the source's "system error" that stops the
-- caseworker progressing without them. Everyone who enters or amends them is added to
-- `preparers`, who may not approve the reversal.
local function ask_details(s, cg, preparers)
  while true do
    local d = task.await {
      inbox = "caseworker", kind = "reversal_details", sr = s, due_in_days = 2,
      title = "Enter the journal number, write-off date, related SRs and the reason for "
        .. "reversing the write off",
      outcomes = REASONS,
      fields = { "journal_number", "write_off_date", "related_srs", "amount" },
      required = { "journal_number", "write_off_date" },
    }
    add_once(preparers, d.by)
    local problems = {}
    if not clock.is_date(d.fields.write_off_date) then
      problems[#problems + 1] = "write-off date '" .. d.fields.write_off_date
        .. "' is not a date (YYYY-MM-DD)"
    end
    local amount = nil
    if d.fields.amount and d.fields.amount ~= "" then
      amount = math.tointeger(tonumber(d.fields.amount))
      if not amount or amount <= 0 then
        problems[#problems + 1] = "amount '" .. d.fields.amount .. "' is not a whole number of pence"
      end
    end
    -- Step 11's first option, taken before the approval rather than after BaNCS refuses: a
    -- journal number or date that does not match a write-off of this casegroup is sent
    -- back to be amended and resubmitted.
    local problem = journal_problem(cg, d.fields.journal_number, d.fields.write_off_date)
    if #problems == 0 and problem then problems[#problems + 1] = problem end
    local related = {}
    for id in string.gmatch(d.fields.related_srs or "", "%d+") do
      local ok, other = pcall(sr.get, math.tointeger(tonumber(id)))
      local its_group = ok and other.casegroup
      if not its_group or its_group.id ~= cg.id or not RELATED[string.lower(other.sub_area)] then
        problems[#problems + 1] = "SR " .. id .. " is not a part payment or write off arrears "
          .. "SR of this casegroup"
      else
        related[#related + 1] = other
      end
    end
    -- Step 7: "Attach the corresponding SR's (part payment/write off arrears)": when the
    -- casegroup has any, at least one is attached; when it has none, the step is skipped.
    local corresponding = {}
    for _, other in ipairs(sr.find { casegroup = cg }) do
      if RELATED[string.lower(other.sub_area)] then
        corresponding[#corresponding + 1] = other.id .. " (" .. other.sub_area .. ")"
      end
    end
    if #related == 0 and #corresponding > 0 then
      problems[#problems + 1] = "attach the corresponding SRs in related_srs (step 7): "
        .. table.concat(corresponding, ", ")
    end
    if #problems == 0 then
      s:set_field("journal_number", d.fields.journal_number)
      s:set_field("write_off_date", d.fields.write_off_date)
      s:set_reason(d.outcome)
      for _, other in ipairs(related) do s:relate(other) end
      s:complete_step("Enter journal number and write off date")
      if #related > 0 then
        s:complete_step("Attach related SRs")
      else
        s:skip_step("Attach related SRs")
        s:add_note("No part payment or write off arrears SR on the casegroup to attach")
      end
      s:complete_step("Select reason for reversal")
      return { journal = d.fields.journal_number, date = d.fields.write_off_date,
               amount = amount, by = d.by }
    end
    s:add_note("Details not accepted: " .. table.concat(problems, "; "))
  end
end

-- Steps 4 and 5: the written-off arrears from BaNCS. A failed call is retried or the SR
-- closed, as the caseworker decides; the payment request row stays either way.
local function display(s, details)
  while true do
    local shown = bancs.display_written_off { sr = s, journal = details.journal }
    if shown.ok then
      s:complete_step("Display written off arrears")
      return shown
    end
    s:add_note("Display written off arrears failed: " .. shown.message)
    local next = task.await {
      inbox = "caseworker", kind = "bancs_failure", sr = s,
      title = "BaNCS could not display the written off arrears: " .. shown.message,
      outcomes = { "retry", "amend details", "close" },
    }
    if next.outcome ~= "retry" then return nil, next.outcome end
  end
end

-- Calls BaNCS until it answers ok: after each ERR (already shown on the SR) the caseworker
-- is asked what to do, and the SR stays open meanwhile. `outcomes` are "retry" and, where
-- the caseworker may stop instead, "close"; returns the answer, or nil when closed.
local function until_ok(s, what, outcomes, call)
  while true do
    local answer = call()
    if answer.ok then return answer end
    local next = task.await {
      inbox = "caseworker", kind = "bancs_failure", sr = s,
      title = "BaNCS did not " .. what .. " (ERR: " .. answer.message .. "): "
        .. table.concat(outcomes, " or "),
      outcomes = outcomes,
    }
    if next.outcome == "close" then return nil end
  end
end

-- Step 12: reverse in BaNCS; the arrears come back suspended. After an ERR nothing has
-- moved in BaNCS, so the caseworker may close the SR instead of retrying (step 11: "close
-- and complete the SR"). Returns false when they did.
local function reverse(s, details, amount)
  local done = until_ok(s, "reverse the write off", { "retry", "close" }, function()
    return bancs.reverse_write_off { sr = s, journal = details.journal,
                                     write_off_date = details.date, amount = amount }
  end)
  if not done then return false end
  s:complete_step("Reverse write off in BaNCS")
  s:add_note(string.format("Reversed %s of journal %s in BaNCS (journal %s); the arrears are "
    .. "suspended", money.format(amount), details.journal, done.reverse_journal))
  return true
end

-- Step 13: a child Unsuspend liabilities SR makes the reversed arrears active. Only a retry
-- is offered on an ERR: the write-off is already reversed, and closing here would leave
-- the arrears suspended, neither written off nor collectable.
local function unsuspend(s, cg, details)
  local child = sr.create { process = "Payments", area = "Manage liabilities",
                            sub_area = "Unsuspend liabilities", casegroup = cg, parent = s,
                            status = "In Progress",
                            reason = "Reversal of write off " .. details.journal }
  until_ok(child, "unsuspend the liabilities", { "retry" }, function()
    return bancs.unsuspend { sr = child, journal = details.journal }
  end)
  child:close("Complete")
  s:complete_step("Unsuspend liabilities")
end

-- Step 14, the client does not wish to negotiate (or was not reached): "The system issues a
-- new schedule to all relevant parties in the case group". The system's own rule is source
-- 000 step 8's: a promise to pay run without a schedule held in place spreads all the arrears
-- evenly over the remaining collections until the annual review. The collections keep the
-- current schedule's frequency, from its next collection (monthly from a month on when none
-- is in place). Returns false when there is no annual review date to spread them to.
local function system_schedule(s, cg, owed)
  local review = cg.annual_review_date
  if not review then return false end
  local current = payment.schedule(cg)
  local frequency = current and current.frequency or "monthly"
  local first = clock.add_months(clock.today(), 1)
  if current then
    local k = 0
    while collections.date(current, k) <= clock.today() do k = k + 1 end
    first = collections.date(current, k)
  end
  local periods = collections.before(first, frequency, review)
  local schedule = payment.issue_schedule {
    casegroup = cg, amount_per_period = money.div_ceil(owed, periods), periods = periods,
    first_collection_date = first, frequency = frequency,
  }
  s:add_note(string.format("New schedule version %d issued by the system: %s of active arrears "
    .. "over %d %s collections from %s to the annual review %s", schedule.version,
    money.format(owed), periods, frequency, first, review))
  if cg.service_type == "Direct Pay" then
    s:add_note("Direct Pay: issue CMSL6056 and CMSL6051 clerically")
  else
    collections.schedule_letters(s, cg, schedule, owed)
  end
  return true
end

-- Step 14: contact the client (with the optional free-text CMEL9271), then a new schedule
-- for the arrears as they now stand. "If the client wishes to negotiate", arrears
-- negotiation makes it (source 000, "Negotiate New Arrears Payment Schedule", with its debt
-- steer and 40% check), as their own request. Otherwise the system issues it
-- (system_schedule), and no negotiation starts: an SR open for something else is left as
-- it is.
local function after_reversal(s, cg)
  local contact = task.await {
    inbox = "caseworker", kind = "contact_client", sr = s, due_in_days = 5,
    title = "Tell the client the reversal is complete and discuss what they want to do with "
      .. "the arrears",
    outcomes = { "wishes to negotiate", "does not wish to negotiate", "no contact" },
    fields = { "letter_to", "letter_text" },
  }
  s:set_field("client_contact", contact.outcome)
  local owed = payment.balance { casegroup = cg, state = "active" }
  local current = payment.schedule(cg)
  local replacing = current and ("to replace schedule version " .. current.version)
    or "(no payment schedule was in place)"
  if owed == 0 then
    s:add_note("No active arrears after the reversal: no schedule to issue")
  elseif contact.outcome == "wishes to negotiate" then
    local instance = procedures.start { name = "arrears_negotiation", casegroup = cg,
                                        params = { reason = "Reverse write off" } }
    s:add_note(string.format("New schedule for %s of active arrears %s: negotiated by arrears "
      .. "negotiation (instance %d, reason Reverse write off)", money.format(owed), replacing,
      instance))
  elseif not system_schedule(s, cg, owed) then
    -- Nothing to spread the arrears to: a caseworker sets the schedule, without closing
    -- any other SR (a reason that is not the paying parent's request).
    local instance = procedures.start { name = "arrears_negotiation", casegroup = cg,
                                        params = { reason = "Reverse write off: new schedule" } }
    s:add_note(string.format("New schedule for %s of active arrears %s: the casegroup has no "
      .. "annual review date for the system to schedule to, so a caseworker sets it (arrears "
      .. "negotiation, instance %d)", money.format(owed), replacing, instance))
  end
  s:complete_step("Issue new schedule")
  -- The letter waits for its sign-off; the new schedule need not.
  if contact.fields.letter_text and contact.fields.letter_text ~= "" then
    local to = contact.fields.letter_to == "receiving_parent" and cg:cases()[1].receiving_parent
      or cg.paying_parent
    free_text_letter.send(s, cg, { to }, contact.fields.letter_text, contact.by)
  end
end

return procedure {
  name = "writeoff_reversal",
  description = "004: reverse a write-off of a paying parent's arrears",
  run = function(ctx)
    local cg = ctx.casegroup
    if not cg then error("start writeoff_reversal with --casegroup") end
    -- Steps 2 and 3.
    local s = sr.create { process = "Arrears", area = "Arrears management",
                          sub_area = "Reverse write off arrears", casegroup = cg }
    s:set_status("In Progress")
    s:add_steps(PLAN)

    -- Who entered or amended the details: none of them may approve (segregation of duties).
    -- The one who started the reversal counts too.
    local preparers = { ctx.started_by }
    while true do
      local details = ask_details(s, cg, preparers)
      local shown, instead = display(s, details)
      if not shown then
        if instead == "close" then
          s:close("Complete", "Not reversed")
          return "closed"
        end
        goto again -- amend details
      end
      do
        local amount = details.amount or shown.amount
        if amount > shown.amount then
          s:add_note(string.format("Amount %s is more than was written off (%s including "
            .. "collection and enforcement charges)", money.format(amount),
            money.format(shown.amount)))
          goto again
        end

        -- Steps 8 to 10: team leader approval. The submitter is whoever entered the details
        -- just submitted; neither they nor anyone who entered or amended them may approve.
        s:set_status("Pending Approval", "Pending Approval TL")
        s:set_field("submitted_by", details.by)
        local decision = task.await {
          inbox = "team_leader", kind = "approval", sr = s, due_in_days = 3,
          submitted_by = details.by, not_by = preparers,
          title = string.format("Approve reversal of write off %s: %s (%s)", details.journal,
            money.format(amount), s.reason),
          outcomes = { "approved", "rejected" }, fields = { "reasons" },
          required = { rejected = { "reasons" } },
        }
        if decision.outcome == "approved" then
          s:complete_step("Team leader approval")
          s:set_status("In Progress")
          s:set_field("reason_code", "Reverse write off arrears")
          if not reverse(s, details, amount) then
            s:close("Complete", "Not reversed")
            return "closed"
          end
          unsuspend(s, cg, details)
          after_reversal(s, cg)
          s:close("Complete", "Write off reversed")
          return "reversed"
        end

        -- Step 11: after a rejection, amend and resubmit, or close.
        s:add_note("Rejected by the team leader: " .. decision.fields.reasons)
        s:set_status("In Progress")
        local next = task.await {
          inbox = "caseworker", kind = "rejected_reversal", sr = s,
          title = "The team leader rejected the reversal: amend and resubmit, or close",
          outcomes = { "amend and resubmit", "close" },
        }
        if next.outcome == "close" then
          s:close("Complete", "Rejected")
          return "rejected"
        end
      end
      ::again::
    end
  end,
}
