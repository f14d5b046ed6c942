-- Arrears negotiation (source 000), "Negotiate New Arrears Payment Schedule": the agreement
-- and its checks (the debt steer, 40% of net income, a DEO's NDR), the schedule issued with
-- its letters and the call to the receiving parents, and the consecutive payment reviews.

local collections = require("collections")
local common = require("arrears.common")
local DEBT_STEER_MONTHS = common.DEBT_STEER_MONTHS
local FIRST_COLLECTION_MONTHS = common.FIRST_COLLECTION_MONTHS
local FREQUENCIES = common.FREQUENCIES
local INCOME_SHARE_PERCENT = common.INCOME_SHARE_PERCENT
local LETTER_CHECK_DAYS = common.LETTER_CHECK_DAYS
local REVIEW_AFTER_COLLECTION_DAYS = common.REVIEW_AFTER_COLLECTION_DAYS
local await = common.await
local ensure_open = common.ensure_open
local integer = common.integer
local pause = common.pause
local receiving_parent_names = common.receiving_parent_names
local arrears_only = require("arrears.scheduling_arrears_only")
local employer_interface = arrears_only.employer_interface
local get_employment_status = arrears_only.get_employment_status
local determine = require("arrears.determine_reason")
local close_paid = determine.close_paid
local reactivate_bancs_account = require("arrears.reactivate_bancs_account")

-- ---- Negotiate New Arrears Payment Schedule -------------------------------------------------

-- Whether a schedule of `periods` collections from `first` is paid within 24 months of the
-- agreement (today): its last collection falls before the same day 24 months on.
local function within_debt_steer(first, frequency, periods)
  local last = collections.date({ first_collection_date = first, frequency = frequency },
                                periods - 1)
  return last < clock.add_months(clock.today(), DEBT_STEER_MONTHS)
end

-- The payments a collection takes (step 4: "the arrears amounts would take the payments
-- above 40%"): the arrears instalment with the regular OGM and collection charges.
local function payments_per_collection(t)
  return money.add(money.add(t.amount_per_period, t.ogm), t.collection_fee)
end

local function over_income_share(payments, net_income)
  return money.mul(payments, 100) > money.mul(net_income, INCOME_SHARE_PERCENT)
end

local NEGOTIATE_FIELDS = {
  "amount_per_period", "frequency", "first_collection_date", "lump_sum", "schedule_in_place",
  "schedule_acceptable", "decision_note", "net_income", "ogm", "collection_fee", "max_ndr",
  "annual_gross_income", "deo_collection_amount",
}

-- Steps 15 and 20: a DEO with a direct debit or standing order beside it, two methods of
-- payment. Step 12 sends a Segment 5 compliance opportunity with a DEO and a DD to the same
-- steps (through step 19, which sends one method of payment on to step 24).
local function two_methods(account)
  return account and account.method == "DEO" and account.second_method ~= nil
end

-- Whether any of the casegroup's cases is undergoing a Segment 5 compliance opportunity.
local function compliance_opportunity(cg)
  for _, c in ipairs(cg:cases()) do
    if c.compliance_opportunity then return true end
  end
  return false
end

-- The collection fee due with each collection when the caseworker gives none: the ledger's
-- latest collection charge on the casegroup (what one collection was charged), else nothing
-- (Direct Pay has no collection charges).
local function collection_fee(cg)
  local fee = 0
  for _, c in ipairs(payment.charges(cg)) do
    if c.kind == "collection" then fee = c.amount end
  end
  return fee
end

-- Reads and checks the caseworker's figures; returns them, or nil and the problems. On a
-- DEO for a casegroup with ongoing maintenance the regular OGM is required: step 18's NDR is
-- arrears per period + Regular OGM + Collection Fee, and an NDR of the arrears alone would
-- leave the maintenance uncollected.
local function read_terms(f, cg, arrears, account, need_amount)
  local problems = {}
  local function positive(name, optional)
    local v = f[name]
    if v == nil or v == "" then
      if not optional then problems[#problems + 1] = name .. " is required" end
      return nil
    end
    local n = integer(v)
    if not n or n < 0 or (n == 0 and not optional) then
      problems[#problems + 1] = name .. " '" .. v .. "' is not a whole number of pence"
      return nil
    end
    return n
  end
  local t = {
    frequency = f.frequency or "monthly",
    first_collection_date = f.first_collection_date,
    lump_sum = positive("lump_sum", true) or 0,
    amount_per_period = positive("amount_per_period", not need_amount),
  }
  if not FREQUENCIES[t.frequency] then
    problems[#problems + 1] = "frequency '" .. t.frequency
      .. "' is not weekly, fortnightly, four_weekly or monthly"
  elseif account and account.method == "DEO" and t.frequency ~= "monthly" then
    -- Steps 16-18 set a Monthly NDR: the arrears instalment is one of its parts.
    problems[#problems + 1] = "a DEO collects a monthly NDR: frequency must be monthly"
  end
  if not clock.is_date(t.first_collection_date) or t.first_collection_date < clock.today() then
    problems[#problems + 1] = "first_collection_date must be a date from today on"
  elseif t.first_collection_date > clock.add_months(clock.today(), FIRST_COLLECTION_MONTHS) then
    problems[#problems + 1] = "first_collection_date must be within " .. FIRST_COLLECTION_MONTHS
      .. " months of today, the day of the agreement (the debt steer's 24 months run from it)"
  end
  -- Step 5: the regular OGM and collection charges due with each collection. Steps 17 and
  -- 22: a DEO's NDR record needs the Annual Gross Income and the Maximum NDR; with two
  -- methods of payment (step 20), the Collection Amount of the DEO row is its monthly NDR.
  local deo = account and account.method == "DEO" and need_amount
  local two = deo and two_methods(account)
  t.ogm = positive("ogm", two or not (deo and not cg.arrears_only)) or 0
  t.collection_fee = positive("collection_fee", true) or collection_fee(cg)
  if deo then
    t.max_ndr = positive("max_ndr")
    t.annual_gross_income = positive("annual_gross_income")
  end
  if two then t.deo_collection_amount = positive("deo_collection_amount") end
  if #problems > 0 then return nil, problems end
  return t
end

-- Steps 16-18: a DEO's monthly NDR is the arrears per period plus the regular OGM and the
-- collection fee; steps 20-23, with a DD or SO beside the DEO, it is the Collection Amount
-- of the DEO row. Either way it may not exceed the maximum NDR.
local function deo_ndr(t)
  local ndr = t.deo_collection_amount
    or money.add(money.add(t.amount_per_period, t.ogm), t.collection_fee)
  if ndr > t.max_ndr then
    return nil, "monthly NDR " .. money.format(ndr) .. " is more than the maximum NDR "
      .. money.format(t.max_ndr)
  end
  return ndr
end

-- Steps 13-28: issue the schedule, the letters, close the SR, then the consecutive payment
-- reviews. Returns the instance's result.
local issue

-- The checks below each return nil when the terms may go on, a list of problems (the
-- caseworker is asked again), or "unsuccessful" (step 11: negotiation unsuccessful).

-- Step 4, no contact on a default standing order: the residual arrears evenly up to the
-- annual review, unless that is more than 40% of the paying parent's net income; then the
-- caseworker considers the debt steer.
local function schedule_to_annual_review(s, cg, t, f, arrears)
  local net = integer(f.net_income)
  if not cg.annual_review_date then
    return { "the casegroup has no annual review date to schedule up to" }
  end
  if not net or net <= 0 then
    return { "net_income (pence per collection) is required to check the 40% limit" }
  end
  if not cg.arrears_only and (f.ogm or "") == "" then
    return { "ogm (the regular maintenance per collection, pence) is required to check the "
      .. "40% limit on a casegroup with ongoing maintenance" }
  end
  t.periods = collections.before(t.first_collection_date, t.frequency, cg.annual_review_date)
  t.amount_per_period = money.div_ceil(arrears, t.periods)
  local payments = payments_per_collection(t)
  if not over_income_share(payments, net) then
    s:add_note("No contact: residual arrears scheduled evenly to the annual review "
      .. cg.annual_review_date .. " (Schedule Only)")
    t.outcome = "Schedule Only"
    return nil
  end
  s:add_note(string.format("%s a collection to the annual review (%s of arrears, %s OGM, %s "
    .. "collection charges) is more than 40%% of net income %s: consider the debt steer",
    money.format(payments), money.format(t.amount_per_period), money.format(t.ogm),
    money.format(t.collection_fee), money.format(net)))
  local steer = await(s, {
    kind = "debt_steer", due_in_days = 2,
    title = "Consider the debt steer: the default schedule is more than 40% of the paying "
      .. "parent's net income",
    outcomes = { "apply schedule", "no agreement" },
    fields = { "amount_per_period", "decision_note" },
    required = { ["apply schedule"] = { "amount_per_period", "decision_note" } },
  })
  if steer.outcome == "no agreement" then
    s:set_field("negotiation_outcome", "No Agreement Reached")
    return "unsuccessful"
  end
  local amount = integer(steer.fields.amount_per_period)
  if not amount or amount <= 0 then
    return { "amount_per_period '" .. steer.fields.amount_per_period
      .. "' is not a whole number of pence" }
  end
  t.amount_per_period, t.periods, t.decided = amount, nil, true
  s:add_note("Discretionary decision (debt steer): " .. steer.fields.decision_note)
  return nil
end

-- Step 4, no contact on another method: a schedule applied from the paying parent's
-- circumstances is a discretionary decision.
local function applied_without_contact(s, t, f)
  if not f.decision_note then
    return { "no contact on a method of payment other than a standing order: the "
      .. "schedule applied from the paying parent's circumstances needs a decision_note" }
  end
  s:add_note("No contact: schedule applied from the paying parent's circumstances. "
    .. "Discretionary decision: " .. f.decision_note)
  t.decided = true
  return nil
end

-- Steps 9-11: the caseworker judges every schedule (step 9, Negotiated Schedule
-- Acceptable: "reasonable considering their circumstances ... even if it exceeds 24
-- months"); one not acceptable is unsuccessful. Within 24 months of the first collection
-- is Negotiation Satisfactory; beyond is Breaches Debt Steer, and accepting it is a
-- discretionary decision recorded in the notes. A schedule the caseworker applied as a
-- recorded discretionary decision (no contact) was judged when it was decided.
local function debt_steer_outcome(s, t, f)
  local within = within_debt_steer(t.first_collection_date, t.frequency, t.periods)
  t.outcome = within and "Negotiation Satisfactory" or "Breaches Debt Steer"
  if t.decided and not f.schedule_acceptable then return nil end
  if f.schedule_acceptable ~= "yes" and f.schedule_acceptable ~= "no" then
    return { "schedule_acceptable (yes or no) is required: is the paying parent's offer "
      .. "reasonable considering their circumstances? (step 9)" }
  end
  if f.schedule_acceptable == "no" then
    s:set_field("negotiation_outcome", t.outcome)
    s:add_note(t.periods .. " " .. t.frequency .. " collections ("
      .. (within and "within" or "beyond") .. " 24 months): the schedule is not acceptable")
    return "unsuccessful"
  end
  if within then return nil end
  if not f.decision_note then
    return { "a schedule beyond 24 months is accepted only as a discretionary decision: "
      .. "decision_note is required" }
  end
  s:add_note("Schedule beyond 24 months accepted. Discretionary decision: " .. f.decision_note)
  return nil
end

-- Returns a result, or "unsuccessful".
local function negotiate(s, cg, account)
  s:set_status("In Progress", "Pending Negotiation")
  if cg.arrears_only and not cg.paying_parent.employment_status then
    get_employment_status(s, cg)
  end
  -- Step 8: the Negotiated Payment Amount is the outstanding arrears balance, which already
  -- has every payment taken off, a card payment taken on the call among them: the lump sum
  -- field records that payment, and is not taken off again. On Direct Pay it is the PWC
  -- Outstanding Arrears Balance: what is owed to the receiving parents, not to the
  -- Secretary of State.
  local arrears = cg.service_type == "Direct Pay"
    and payment.balance { casegroup = cg, state = "active", owed_to = "RP" }
    or payment.balance { casegroup = cg, state = "active" }
  if arrears <= 0 then return close_paid(s, "Full Payment Made") end
  s:set_field("negotiated_payment_amount", arrears)
  while true do
    local n = await(s, {
      kind = "negotiate_schedule", due_in_days = 2,
      title = "Negotiate an arrears payment schedule with the paying parent ("
        .. money.format(arrears) .. " to schedule)",
      outcomes = { "agreed", "refused", "no contact" }, fields = NEGOTIATE_FIELDS,
      -- An agreement has an instalment and a first collection (step 8); the item refuses
      -- one without them at the field, before the terms are read.
      required = { agreed = { "amount_per_period", "first_collection_date" } },
    })
    if n.outcome == "refused" then
      s:set_field("negotiation_outcome", "No Agreement Reached")
      return "unsuccessful"
    end
    local default_so = n.outcome == "no contact" and account and account.method == "SO"
    local t, problems = read_terms(n.fields, cg, arrears, account, not default_so)
    if t and default_so then
      problems = schedule_to_annual_review(s, cg, t, n.fields, arrears)
    elseif t and n.outcome == "no contact" then
      problems = applied_without_contact(s, t, n.fields)
    end
    if t and not problems then
      t.periods = t.periods or money.div_ceil(arrears, t.amount_per_period)
      if not t.outcome then problems = debt_steer_outcome(s, t, n.fields) end
    end
    if problems == "unsuccessful" then return problems end
    if t and not problems and t.max_ndr then
      local ndr, why = deo_ndr(t)
      t.ndr = ndr
      problems = why and { why }
    end
    if t and not problems then
      t.in_place = n.fields.schedule_in_place == "yes"
      return issue(s, cg, account, arrears, t)
    end
    s:add_note("Schedule not accepted: " .. table.concat(problems, "; "))
  end
end

-- Step 28: the SR closes once every letter is fulfilled. The instance sleeps until each
-- letter leaves the queue (`casekit letters fulfil` wakes it). Letters not fulfilled within
-- LETTER_CHECK_DAYS (still queued, or failed) go to a person, who sends them clerically or
-- gives the outbox another LETTER_CHECK_DAYS.
local function await_fulfilment(s, sent)
  while true do
    local deadline = clock.add_days(clock.today(), LETTER_CHECK_DAYS)
    local unsent = 0
    for _, l in ipairs(sent) do
      local left = clock.days_between(clock.today(), deadline)
      if l.status == "queued" and left > 0 then
        event.await { kind = "letter", letter = l, timeout_days = left }
        ensure_open(s)
      end
      if l.status ~= "fulfilled" then unsent = unsent + 1 end
    end
    if unsent == 0 then return end
    -- A letter that failed early is looked at with the rest, at the deadline.
    local left = clock.days_between(clock.today(), deadline)
    if left > 0 then pause(s, left) end
    local answer = await(s, {
      kind = "letters_not_fulfilled", due_in_days = 1,
      title = unsent .. " negotiation outcome letters are not fulfilled after "
        .. LETTER_CHECK_DAYS .. " days: check the outbox, or send them clerically",
      outcomes = { "sent clerically", "keep waiting" },
    })
    if answer.outcome == "sent clerically" then
      s:add_note(unsent .. " negotiation outcome letters sent clerically")
      return
    end
  end
end

-- Step 27: five days after the first (then the second) collection, check it was paid. On
-- Direct Pay the paying parent pays the receiving parent, outside the ledger, so there is
-- nothing here to review the collections against: the instance ends "direct_pay_agreed".
local function payment_reviews(s, cg, account, schedule)
  if cg.service_type == "Direct Pay" then return "direct_pay_agreed" end
  for k = 0, math.min(schedule.periods, 2) - 1 do
    local collection = collections.date(schedule, k)
    wait { at = clock.add_days(collection, REVIEW_AFTER_COLLECTION_DAYS) }
    local expected = collections.expected_by(schedule, collection)
    local paid = collections.paid(schedule, account)
    if paid < expected then
      local why_not = collections.not_raised_because(cg, schedule, collection)
      if why_not then
        s:add_note("Consecutive payment review: the collection due " .. collection
          .. " was not paid in full; no Action Missed Payment SR, as " .. why_not)
      else
        collections.raise_missed_payment(cg, schedule, collection, expected, paid,
                                         "Consecutive payment review")
      end
      return "review_failed"
    end
  end
  return "schedule_agreed"
end

-- Step 26: "Call the receiving parent when the schedule has been set up." The procedure does
-- not wait on the call (nothing it decides depends on it): the caseworker's item is created
-- on the SR and the letters and reviews go on.
local function call_receiving_parents(s, cg, schedule)
  task.create {
    inbox = "caseworker", kind = "call_receiving_parent", sr = s, due_in_days = 2,
    title = "Call " .. receiving_parent_names(cg) .. ": the arrears schedule has been set up ("
      .. schedule.periods .. " " .. schedule.frequency .. " collections of "
      .. money.format(schedule.amount_per_period) .. " from " .. schedule.first_collection_date
      .. ")",
    outcomes = { "called", "not reached" }, fields = { "note" },
  }
end

-- "When creating a new schedule and the following conditions apply, contact AAC to consider
-- whether manual allocation may be appropriate": a case undergoing a compliance opportunity,
-- and another that is not, with legacy arrears transitioned (now being rescheduled) and 2012
-- arrears. Legacy arrears are dues from the CSA transition; 2012 arrears any other arrears
-- on that case. "Manual Allocation flag must not be set unless directed by AAC."
local function aac_conditions(cg)
  if not compliance_opportunity(cg) then return false end
  local legacy, scheme_2012 = {}, {}
  for _, d in ipairs(payment.dues(cg)) do
    if d.case and d.kind == "arrears" then
      local from_csa = d.origin and string.find(d.origin, "^CSA transition") ~= nil
      if from_csa then legacy[d.case.id] = true else scheme_2012[d.case.id] = true end
    end
  end
  for _, c in ipairs(cg:cases()) do
    if not c.compliance_opportunity and legacy[c.id] and scheme_2012[c.id] then return true end
  end
  return false
end

local function aac_check(s, cg)
  if not aac_conditions(cg) or cg:has_flag("manual_allocation") then return end
  local aac = await(s, {
    kind = "aac_manual_allocation", due_in_days = 2,
    title = "Contact AAC: one case is undergoing a compliance opportunity and another has "
      .. "transitioned legacy arrears beside 2012 arrears. Does AAC direct manual allocation?",
    outcomes = { "manual allocation directed", "not directed" }, fields = { "note" },
  })
  if aac.outcome == "manual allocation directed" then
    cg:set_flag("manual_allocation")
    s:add_note("Manual allocation flag set, as directed by AAC (" .. aac.by .. ")")
  else
    s:add_note("AAC contacted: manual allocation not directed")
  end
end

issue = function(s, cg, account, arrears, t)
  employer_interface(s, cg)
  reactivate_bancs_account.confirmed(s, account)
  aac_check(s, cg)
  local before = payment.schedule(cg)
  local schedule = payment.issue_schedule {
    casegroup = cg, amount_per_period = t.amount_per_period, periods = t.periods,
    first_collection_date = t.first_collection_date, frequency = t.frequency,
    lump_sum = t.lump_sum, acceptable = true,
  }
  if before and schedule.version <= before.version then
    error("the promise to pay did not update the schedule version: investigate")
  end
  s:set_field("negotiation_outcome", t.outcome)
  s:set_field("negotiated_arrears_per_period", t.amount_per_period)
  s:set_field("negotiated_periods", t.periods)
  s:set_field("negotiated_schedule_in_place", t.in_place and "yes" or "no")
  s:set_field("schedule_version", schedule.version)
  if t.ndr then
    s:set_field("monthly_ndr", t.ndr)
    s:set_field("max_ndr", t.max_ndr)
    s:set_field("annual_gross_income", t.annual_gross_income)
    if t.deo_collection_amount then
      s:add_note("DEO beside a " .. account.second_method .. ": monthly NDR "
        .. money.format(t.ndr) .. ", the DEO row's collection amount (steps 20-23)"
        .. (compliance_opportunity(cg) and "; Maximum NDR from the ATNIC calculator, over the "
          .. "system's 40% of gross monthly income (Segment 5 compliance opportunity)" or ""))
    end
    s:add_note("DEO: monthly NDR " .. money.format(t.ndr) .. " (no further 2040 to the employer)")
  end
  s:add_note("Promise to pay issued: schedule version " .. schedule.version .. ", "
    .. t.periods .. " " .. t.frequency .. " collections of " .. money.format(t.amount_per_period)
    .. " from " .. t.first_collection_date)
  call_receiving_parents(s, cg, schedule)

  if cg.service_type == "Direct Pay" then
    await(s, {
      kind = "clerical_letters", due_in_days = 2,
      title = "Direct Pay: issue CMSL6056 to the paying parent and CMSL6051 to each receiving "
        .. "parent clerically",
      outcomes = { "sent" },
    })
  else
    await_fulfilment(s, collections.schedule_letters(s, cg, schedule, arrears))
  end
  if cg.service_type ~= "Direct Pay" then
    s:add_note("Consecutive payment reviews set for five days after the first and second "
      .. "collection dates")
  end
  s:close("Complete")
  return payment_reviews(s, cg, account, schedule)
end

return {
  negotiate = negotiate,
}
