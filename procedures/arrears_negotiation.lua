-- Arrears negotiation and missed payments.
--
-- Source: DWP procedure 000 (Arrears Negotiation and Missed Payments). Works one
-- Action Missed Payment SR of a casegroup, from the checks before work to the SR's closure
-- and the consecutive payment reviews after it. Started by:
--   - the missed-payment monitor (scripts/missed_payment_monitor.lua), params.sr;
--   - the phase-2 transition, params.sr (its reason "Automated Financial Transition");
--   - the write-off reversal, when the client asks to negotiate: reason "Reverse write off";
--   - case routing's negotiation decision (001 step 69), params.sr (a child SR);
--   - a caseworker or the paying parent's request, by hand:
--       casekit start arrears_negotiation --casegroup 7 --param reason="Negotiation Requested"
--     (params: sr, reason, dd_reason_code, case; see docs/procedures/arrears_negotiation.md).
-- A person's steps are work items in the caseworker inbox; the procedure branches on their
-- outcomes as the source does. docs/procedures/arrears_negotiation.md maps each source step
-- to these lines and to the tests.
--
-- Returns what became of the SR: "paid", "schedule_agreed", "direct_pay_agreed", "review_failed",
-- "arrears_review", "neg_unsuccessful_nfa", "neg_unsuccessful", "direct_payment",
-- "cancelled_no_address", "active_duty" or "superseded".

local collections = require("collections")
local direct_payment = require("direct_payment")
local service_request = require("service_request")

local AMP = "Action Missed Payment"

-- SR reasons that send the SR to "Determine Reason for Missed Payment"; any other reason
-- (negotiation requested, residual arrears, Automated Financial Transition, a caseworker's
-- or case routing's negotiation) goes straight to "Negotiate New Arrears Payment Schedule".
local MISSED_PAYMENT = {
  ["Missed Payment"] = true, ["Initial Payment"] = true, ["ADDACS"] = true, ["ARUDD"] = true,
}
local RENEGOTIATION = "Negotiation Requested"
-- Reasons that are the paying parent's own request to negotiate: the SR is worked at once,
-- and an open SR not raised today makes way for a new one (Gather Information). After a
-- write-off reversal the client is asked whether they want to negotiate (source 004 step
-- 14): that request says why it came.
local REQUESTS = { [RENEGOTIATION] = true, ["Reverse write off"] = true }
-- The params an instance may be started with; any other is a caller's mistake.
local PARAMS = { sr = true, reason = true, dd_reason_code = true, case = true }

-- Direct debit failure reason codes (step 2).
local NEW_MOPF_CODES = { ["4"] = 1, ["5"] = 1, ["6"] = 1, ["7"] = 1, ["8"] = 1, ["9"] = 1,
                         A = 1, B = 1 }
local DEATH_CODE = "2"
local CHANGE_MOPF_CODES = { ["1"] = 1, ["3"] = 1 }
-- "If there is no recent Death of client SR": the source does not say how recent; ours.
local RECENT_DEATH_SR_DAYS = 90

local DEBT_STEER_MONTHS = 24      -- Negotiation Satisfactory within, Breaches Debt Steer beyond
-- The first collection may be at most this far from the agreement. Ours: the source sets no
-- bound, but without one the 24 months could be pushed away at will. Two months cover the
-- next collection date under any method of payment, with the ten working days a new direct
-- debit takes to set up.
local FIRST_COLLECTION_MONTHS = 2
local INCOME_SHARE_PERCENT = 40   -- default SO schedule: at most this share of net income
local WAIT_FOR_PAYMENT_DAYS = 5   -- DD represent and non-immediate payments (steps 16, 18)
local REVIEW_AFTER_COLLECTION_DAYS = 5 -- consecutive payment reviews (step 27)
local LETTER_CHECK_DAYS = 30      -- how long to wait for the letters before asking a person

local FREQUENCIES = { weekly = true, fortnightly = true, four_weekly = true, monthly = true }
local EMPLOYMENT = { employed = true, ["self-employed"] = true, unemployed = true }

-- Another Action Missed Payment SR replaced this one (a renegotiation request closed it):
-- every wait ends with this check, and the instance stops quietly.
local SUPERSEDED = {}

local function ensure_open(s)
  if not s.is_open then error(SUPERSEDED) end
end

local function await(s, spec)
  spec.sr = s
  spec.inbox = spec.inbox or "caseworker"
  local answer = task.await(spec)
  ensure_open(s)
  return answer
end

local function pause(s, days)
  wait { days = days }
  ensure_open(s)
end

-- The date an SR was raised (created_at is an instant).
local function raised_on(s)
  return string.sub(s.created_at, 1, 10)
end

local function integer(text)
  local n = math.tointeger(tonumber(text or ""))
  return n
end

-- ---- the SR ---------------------------------------------------------------------------

-- "A paying parent's request to renegotiate on an SR not generated today: close it Closed /
-- Cancelled and create a new one" (Gather Information). Returns the SR to work, or an open
-- SR raised today and true: that one is already being worked.
local function renegotiation_sr(cg)
  local today = clock.today()
  for _, open in ipairs(sr.find { casegroup = cg, sub_area = AMP, open = true }) do
    if raised_on(open) == today then
      open:add_note("Paying parent requested renegotiation of the arrears; the SR was raised "
        .. "today and is worked as it is")
      return open, true
    end
    open:add_note("Paying parent requested renegotiation of the arrears: SR not generated "
      .. "today, closed and cancelled; a new Action Missed Payment SR negotiates the "
      .. "outstanding balance")
    open:close("Cancelled")
  end
  return nil
end

-- "Only the case in which the arrears negotiation is being performed should be linked to
-- this SR" (Gather Information): params.case names it; a casegroup of one case links that
-- one; with several and none named, the SR is the casegroup's.
local function negotiated_case(ctx, cg)
  local cases = cg:cases()
  if ctx.params.case then
    local id = integer(ctx.params.case)
    for _, c in ipairs(cases) do
      if c.id == id then return c end
    end
    error("case " .. ctx.params.case .. " is not a case of casegroup " .. cg.id, 0)
  end
  if #cases == 1 then return cases[1] end
  return nil
end

-- Returns the SR, and true when it is already being worked (raised today).
local function the_sr(ctx, cg)
  return service_request.the_sr(ctx, cg, AMP, function()
    local reason = ctx.params.reason or RENEGOTIATION
    if REQUESTS[reason] then
      local today_sr, in_hand = renegotiation_sr(cg)
      if in_hand then return today_sr, true end
    end
    local s = sr.create { process = "Arrears", area = "Arrears Management", sub_area = AMP,
                         casegroup = cg, case = negotiated_case(ctx, cg), reason = reason }
    if ctx.params.dd_reason_code then s:set_field("dd_reason_code", ctx.params.dd_reason_code) end
    return s
  end)
end

-- ---- checks before work (Gather Information) --------------------------------------------

-- The clients of the SR ("check the Addresses tab ... if the client's correspondence address
-- is marked as DLO or NFA"): the paying parent, and the receiving parent of the case linked,
-- or of every case when the SR is the casegroup's.
local function clients_of(s, cg)
  local clients = { { "Paying parent", cg.paying_parent } }
  local cases = s.case and { s.case } or cg:cases()
  for _, c in ipairs(cases) do
    clients[#clients + 1] = { "Receiving parent " .. c.receiving_parent.name, c.receiving_parent }
  end
  return clients
end

-- Returns a result when the SR must not be worked, else nil.
local function address_check(s, cg)
  for _, client in ipairs(clients_of(s, cg)) do
    local who, status = client[1], (client[2].address or {}).status
    if status == "DLO" or status == "NFA" then
      s:add_note(who .. "'s correspondence address is marked " .. status
        .. ": SR closed and cancelled")
      s:close("Cancelled")
      return "cancelled_no_address"
    end
  end
  if (cg.paying_parent.address or {}).status == "JPAC" then
    s:add_note("Paying parent's address is the JPAC Process Team: on active duty, no arrears "
      .. "action is required against them")
    s:set_field("active_duty", "yes")
    s:close("Complete", "No Arrears Action - Active Duty")
    return "active_duty"
  end
  return nil
end

local function remove_suppression(s, cg)
  for _, c in ipairs(cg:cases()) do
    local rp = c.receiving_parent
    if rp.contact_suppressed then
      rp:set_contact_suppressed(false)
      s:add_note("Arrears-only case: outbound contact suppression removed for " .. rp.name)
    end
  end
end

-- A new method of payment agreed with the paying parent and made active; "no contact"
-- keeps the one there is. `replacing` names it in the notes when it is being replaced.
local function new_method_of_payment(s, account, title, outcomes, replacing)
  local answer = await(s, { kind = "new_method_of_payment", due_in_days = 2, title = title,
                            outcomes = outcomes })
  if answer.outcome == "no contact" then
    s:add_note("New method of payment not agreed: paying parent not contacted"
      .. (replacing and ("; " .. replacing .. " stays") or ""))
    return
  end
  account:set_method(answer.outcome, "active")
  s:add_note(replacing and ("Method of payment " .. replacing .. " replaced by " .. answer.outcome)
    or ("New method of payment: " .. answer.outcome))
end

-- Scheduling Arrears Only Case Groups: "Method of Payment To and bank details of the Receiving
-- Parent are required before attempting negotiation with the Paying Parent and then
-- scheduling the arrears." Asked before an arrears-only casegroup's first schedule; a later
-- negotiation finds them held.
local function receiving_parent_payment_details(s, cg)
  if not cg.arrears_only or payment.schedule(cg) then return end
  local names = {}
  for _, c in ipairs(cg:cases()) do names[#names + 1] = c.receiving_parent.name end
  local r = await(s, {
    kind = "receiving_parent_payment_details", due_in_days = 2,
    title = "Before negotiating: make sure the Method of Payment To and bank details of "
      .. table.concat(names, " and ") .. " are held (arrears-only casegroup)",
    outcomes = { "held", "obtained" }, fields = { "note" },
  })
  s:add_note("Receiving parent's Method of Payment To and bank details " .. r.outcome .. " ("
    .. r.by .. ") before negotiation")
end

-- "Before selecting the Search CRA button please ensure there is a 'Confirmed Permanent
-- Residential' address for the PP. Failure to do so will result in an error message and no
-- financial data will be returned." So the search is made only at a confirmed address; a
-- refusal from the agency is noted and the step left undone.
local function credit_check(s, pp)
  if (pp.address or {}).status ~= "confirmed" then
    s:skip_step("Search CRA")
    s:add_note("CRA search not made: the paying parent has no confirmed permanent residential "
      .. "address")
    return
  end
  local found = cra.search(pp)
  if found.ok then
    s:complete_step("Search CRA")
    s:add_note("CRA searched: " .. found.message)
  else
    s:skip_step("Search CRA")
    s:add_note("CRA search refused: " .. found.message)
  end
end

-- Determine Reason step 1: "Check the paying parent benefit status using CIS". What CIS says
-- is recorded on the paying parent; when CIS cannot answer, the status on record is noted as
-- such.
local function benefit_check(s, pp)
  local cis_answer = cis.benefit_details(pp)
  if cis_answer.ok then
    if cis_answer.benefit_status ~= pp.benefit_status then
      pp:set_benefit_status(cis_answer.benefit_status)
    end
    s:add_note("Paying parent's benefit status (CIS): " .. cis_answer.message)
  else
    s:add_note("CIS benefit check failed (" .. cis_answer.message .. "); benefit status on "
      .. "record: " .. (pp.benefit_status or "none"))
  end
end

-- ---- what is owed, what was paid ----------------------------------------------------------

-- The amount the SR is about: the monitor's shortfall for a missed payment, else the
-- casegroup's active arrears.
local function owed(s, cg)
  return integer(s:field("shortfall")) or payment.balance { casegroup = cg, state = "active" }
end

-- What was paid towards the arrears since the SR was raised: on an open case the ongoing
-- maintenance takes its share of a payment first, and does not pay the shortfall.
local function paid_since_sr(s, account)
  if not account then return 0 end
  return payment.paid { account = account, since = raised_on(s), towards = "arrears" }
end

-- ---- Determine Reason for Missed Payment, step 2: direct debit failures ------------------

local function suspend_dd(s, cg, account, arudd)
  if account.method_status ~= "active" then return false end
  local amend = sr.create { process = "Payments", area = "MOPF", sub_area = "Amend existing MOPF",
                            casegroup = cg, parent = s, status = "In Progress",
                            reason = arudd and "ARUDD file" or nil }
  account:set_method("DD", "suspended")
  amend:add_note("Direct debit suspended" .. (arudd and "; reason code ARUDD file" or ""))
  amend:close("Complete")
  s:add_note("Direct debit suspended (Payments / MOPF / Amend existing MOPF SR " .. amend.id .. ")")
  return true
end

local function raise_once(s, cg, spec, is_recent)
  for _, other in ipairs(sr.find { casegroup = cg, sub_area = spec.sub_area }) do
    if is_recent(other) then
      s:add_note(spec.sub_area .. " SR " .. other.id .. " already exists; none raised")
      return nil
    end
  end
  spec.casegroup = cg
  local raised = sr.create(spec)
  s:relate(raised)
  s:add_note(spec.process .. " / " .. spec.area .. " / " .. spec.sub_area .. " SR " .. raised.id
    .. " raised")
  return raised
end

-- Returns true when a new method of payment and schedule are to be obtained.
local function dd_failure(s, cg, account, code)
  s:add_note("Direct debit failure reason code " .. code)
  if NEW_MOPF_CODES[code] then
    suspend_dd(s, cg, account, true)
    return true
  end
  if code == DEATH_CODE then
    suspend_dd(s, cg, account, false)
    local today = clock.today()
    raise_once(s, cg, { process = "CofC", area = "Change client status",
                        sub_area = "Death of client" },
      function(other)
        return clock.days_between(raised_on(other), today)
          <= RECENT_DEATH_SR_DAYS
      end)
    return false
  end
  if CHANGE_MOPF_CODES[code] then
    if not suspend_dd(s, cg, account, true) then
      raise_once(s, cg, { process = "CofC", area = "Change MOP", sub_area = "Change MOPF" },
        function(other) return other.is_open end)
    end
    return true
  end
  s:add_note("Reason code " .. code .. " needs no direct debit action")
  return false
end

-- ---- the call (steps 3 to 26) -------------------------------------------------------------

local CALL_OUTCOMES = {
  "contact failed", "direct payment claimed", "card payment", "DD represent",
  "non-immediate payment", "not willing", "negotiation requested",
}
local NEGOTIATION_OUTCOMES = {
  "Full pay made", "Part pay", "Part pay + promise to pay", "Part pay + negotiation reached",
  "Negotiation requested", "No pay", "Allowable change of circ pending",
}

local function change_of_circumstances(s, cg, details)
  local cofc = sr.create { process = "CofC", area = "Change of circumstances",
                           sub_area = "Allowable change", casegroup = cg, parent = s,
                           status = "In Progress" }
  cofc:add_note("Reported during arrears negotiation: " .. details)
  s:add_note("Change of circumstances reported (SR " .. cofc.id .. "): " .. details
    .. "; negotiation continues")
end

local function close_paid(s, resolution)
  s:add_note("Arrears paid in full")
  s:close("Complete", resolution)
  return "paid"
end

-- Step 15: a card payment through a One-off Payment SR. Returns the amount taken.
local function card_payment(s, cg, account)
  local one_off = sr.create { process = "Payments", area = "Take Payment",
                              sub_area = "One-off Payment", casegroup = cg, parent = s,
                              status = "In Progress" }
  while true do
    local taken = await(s, {
      kind = "card_payment", due_in_days = 1,
      title = "Take the paying parent's card payment (One-off Payment SR " .. one_off.id .. ")",
      outcomes = { "successful", "failed" }, fields = { "amount" },
      required = { successful = { "amount" } },
    })
    if taken.outcome == "failed" then
      one_off:close("Cancelled")
      s:add_note("Card payment failed")
      return 0
    end
    local amount = integer(taken.fields.amount)
    if amount and amount > 0 then
      payment.record { account = account, amount = amount, date = clock.today(),
                       method = "card", reference = "SR " .. one_off.id }
      one_off:close("Complete")
      s:add_note("Card payment of " .. money.format(amount) .. " taken")
      return amount
    end
    s:add_note("Card payment amount '" .. taken.fields.amount .. "' is not a whole number of pence")
  end
end

-- Steps 16-19: wait five days for a payment promised or represented.
local function wait_for_payment(s)
  service_request.while_waiting(s, "Pending Payment", function()
    pause(s, WAIT_FOR_PAYMENT_DAYS)
  end)
end

-- Step 21: the caseworker records the outcome of negotiation. Returns "paid" (the SR is
-- closed), "negotiate", "promise" or "unsuccessful".
local function record_outcome(s, cg, account, represented)
  while true do
    local o = await(s, {
      kind = "negotiation_outcome", due_in_days = 1,
      title = "Record the outcome of negotiation with the paying parent",
      outcomes = NEGOTIATION_OUTCOMES, fields = { "change_of_circumstances" },
      required = { ["Allowable change of circ pending"] = { "change_of_circumstances" } },
    })
    s:set_field("negotiation_outcome", o.outcome)
    if o.outcome == "Full pay made" then
      local due, paid = owed(s, cg), paid_since_sr(s, account)
      if paid >= due then
        return close_paid(s, represented and "Direct Debit Represent" or "Full Payment Made")
      end
      s:add_note("Full pay made not recorded: " .. money.format(paid) .. " paid of "
        .. money.format(due))
    elseif o.outcome == "No pay" then
      s:set_resolution_code("Disclosure Appropriate")
      return "unsuccessful"
    elseif o.outcome == "Allowable change of circ pending" then
      change_of_circumstances(s, cg, o.fields.change_of_circumstances)
      return "negotiate"
    elseif o.outcome == "Negotiation requested" then
      return "negotiate"
    else
      s:set_resolution_code("Part Pay Made")
      return o.outcome == "Part pay + promise to pay" and "promise" or "negotiate"
    end
  end
end

-- After a payment attempt: paid in full closes the SR (step 22), else the outcome (21).
local function after_payment(s, cg, account, represented)
  if paid_since_sr(s, account) >= owed(s, cg) then
    return close_paid(s, represented and "Direct Debit Represent" or "Full Payment Made")
  end
  return record_outcome(s, cg, account, represented)
end

-- Steps 18-20: a non-immediate payment (or a further one-off promised): wait five days,
-- then call back and ask for a card payment.
local function promised_payment(s, cg, account)
  wait_for_payment(s)
  if paid_since_sr(s, account) >= owed(s, cg) then return close_paid(s, "Full Payment Made") end
  local back = await(s, {
    kind = "call_back", due_in_days = 1,
    title = "The promised payment has not arrived: call the paying parent back and ask for a "
      .. "card payment",
    outcomes = { "card payment", "no payment made" },
  })
  if back.outcome == "card payment" then
    card_payment(s, cg, account)
  else
    s:add_note("No Payment Made")
  end
  return after_payment(s, cg, account, false)
end

-- Returns "paid", "direct_payment", "negotiate" or "unsuccessful".
local function the_call(s, cg, account)
  while true do
    local c = await(s, {
      kind = "missed_payment_call", due_in_days = 1,
      title = "Call the paying parent about the missed payment and negotiate payment of the "
        .. "arrears",
      outcomes = CALL_OUTCOMES, fields = { "missed_payment_reason", "change_of_circumstances" },
    })
    if c.outcome == "contact failed" then
      s:set_status("In Progress", "Contact Failed")
      return "unsuccessful"
    end
    if c.fields.missed_payment_reason then
      s:add_note("Reason for the missed payment: " .. c.fields.missed_payment_reason)
    end
    if c.fields.change_of_circumstances then
      change_of_circumstances(s, cg, c.fields.change_of_circumstances)
    end
    s:set_status("In Progress", "Pending Payment")

    local route
    if c.outcome == "direct payment claimed" then
      local claim = direct_payment.verify(s)
      ensure_open(s)
      if claim ~= "negotiate" then
        s:close("Complete", "Direct Payment Made")
        return "direct_payment"
      end
    elseif c.outcome == "DD represent" then
      if not account or account.method ~= "DD" then
        s:add_note("DD represent needs a direct debit method of payment")
      else
        local represent = sr.create { process = "Payments", area = "Direct Debit",
                                      sub_area = "Represent Direct Debit", casegroup = cg,
                                      parent = s, status = "In Progress" }
        wait_for_payment(s)
        represent:close("Complete")
        route = after_payment(s, cg, account, true)
      end
    elseif c.outcome == "card payment" then
      card_payment(s, cg, account)
      route = after_payment(s, cg, account, false)
    elseif c.outcome == "non-immediate payment" then
      route = promised_payment(s, cg, account)
    elseif c.outcome == "not willing" then
      s:add_note("Paying parent not willing to make a payment: enforcement action that could "
        .. "be taken explained")
      route = record_outcome(s, cg, account, false)
    else -- negotiation requested
      route = "negotiate"
    end
    while route == "promise" do route = promised_payment(s, cg, account) end
    if route then return route end
  end
end

-- ---- Scheduling Arrears Only Case Groups ----------------------------------------------------

-- The source's six steps, taken before anything is scheduled: an Arrears Review SR In
-- Progress, Get Employment Status, the review closed Cancelled, then back to this SR.
-- Scheduling without the status is what creates the Error / Technical Arrears Trigger SRs
-- the source warns of, so this runs first and no such SR is ever made.
local function get_employment_status(s, cg)
  local pp = cg.paying_parent
  local review = sr.create { process = "Arrears", area = "Arrears Management",
                             sub_area = "Arrears Review", casegroup = cg, parent = s,
                             status = "In Progress" }
  while true do
    local got = await(s, {
      kind = "get_employment_status", due_in_days = 1,
      title = "Arrears Review SR " .. review.id .. ": Get Employment Status for the paying parent",
      outcomes = { "recorded" }, fields = { "employment_status" },
      required = { "employment_status" },
    })
    if EMPLOYMENT[got.fields.employment_status] then
      pp:set_employment_status(got.fields.employment_status)
      break
    end
    s:add_note("Employment status '" .. got.fields.employment_status .. "' is not employed, "
      .. "self-employed or unemployed")
  end
  review:close("Cancelled")
  s:add_note("Employment status recorded: " .. pp.employment_status)
end

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
}

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
  -- Step 5: the regular OGM and collection charges due with each collection.
  local deo = account and account.method == "DEO" and need_amount
  t.ogm = positive("ogm", not (deo and not cg.arrears_only)) or 0
  t.collection_fee = positive("collection_fee", true) or collection_fee(cg)
  if deo then t.max_ndr = positive("max_ndr") end
  if #problems > 0 then return nil, problems end
  return t
end

-- Steps 16-18: a DEO's monthly NDR is the arrears per period plus the regular OGM and the
-- collection fee, and may not exceed the maximum NDR.
local function deo_ndr(t)
  local ndr = money.add(money.add(t.amount_per_period, t.ogm), t.collection_fee)
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

-- Source 003: the Employer Interface does not transition from the 1993/2003 systems, so it
-- is issued by hand before an arrears-only casegroup is scheduled for the first time; without
-- it later missed payment SRs go into error. Asked once per casegroup (the flag records it).
local function employer_interface(s, cg)
  if not cg.arrears_only or cg:has_flag("employer_interface_issued") or payment.schedule(cg) then
    return
  end
  local r = await(s, {
    kind = "employer_interface", due_in_days = 1,
    title = "Issue the Employer Interface by hand before this arrears-only casegroup is "
      .. "scheduled for the first time (it does not transition from the 1993/2003 systems)",
    outcomes = { "issued" },
  })
  cg:set_flag("employer_interface_issued")
  s:add_note("Employer Interface issued by hand by " .. r.by .. " before the first schedule")
end

-- Step 26: "Call the receiving parent when the schedule has been set up." The procedure does
-- not wait on the call (nothing it decides depends on it): the caseworker's item is created
-- on the SR and the letters and reviews go on.
local function call_receiving_parents(s, cg, schedule)
  local names = {}
  for _, c in ipairs(cg:cases()) do names[#names + 1] = c.receiving_parent.name end
  task.create {
    inbox = "caseworker", kind = "call_receiving_parent", sr = s, due_in_days = 2,
    title = "Call " .. table.concat(names, " and ") .. ": the arrears schedule has been set up ("
      .. schedule.periods .. " " .. schedule.frequency .. " collections of "
      .. money.format(schedule.amount_per_period) .. " from " .. schedule.first_collection_date
      .. ")",
    outcomes = { "called", "not reached" }, fields = { "note" },
  }
end

issue = function(s, cg, account, arrears, t)
  employer_interface(s, cg)
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

-- ---- Initiate Arrears Action: negotiation unsuccessful --------------------------------------

local UNSUCCESSFUL = {
  "No contact made - Missed Initial Payment", "Refusal to pay - Missed Initial Payment",
  "Addition of Residual Arrears", "Not For Addition of Residual Arrears",
}

local function unsuccessful(s, cg)
  s:set_status("In Progress", "Arrears Action Pending")
  local u = await(s, {
    kind = "negotiation_unsuccessful", due_in_days = 1,
    title = "Negotiation unsuccessful: record whether it was for the addition of residual arrears",
    outcomes = UNSUCCESSFUL,
  })
  s:set_field("unsuccessful_outcome", u.outcome)
  if u.outcome ~= "Not For Addition of Residual Arrears" then
    local review = sr.create { process = "Arrears", area = "Arrears Management",
                               sub_area = "Arrears Review", casegroup = cg, parent = s,
                               reason = u.outcome }
    s:add_note("Arrears Review SR " .. review.id .. " raised to consider enforcement action")
    s:close("Complete")
    return "arrears_review"
  end
  local transferred = await(s, {
    kind = "call_transferred", due_in_days = 1,
    title = "Was the negotiation triggered by a call transferred from the collection service?",
    outcomes = { "yes", "no" },
  })
  if transferred.outcome == "yes" then
    s:close("Complete", "Neg Unsuccessful NFA")
    return "neg_unsuccessful_nfa"
  end
  s:add_note("Negotiation unsuccessful; no immediate action. A further missed payment raises a "
    .. "new SR")
  s:close("Complete")
  return "neg_unsuccessful"
end

-- ---- the procedure ----------------------------------------------------------------------

local PLAN = { "Check address", "Search CRA", "Determine reason for missed payment",
               "Call paying parent", "Negotiate new arrears payment schedule" }

-- Activity-plan steps are only marked while the SR is open: an outcome may have closed it.
local function step(s, name, done)
  if not s.is_open then return end
  if done == false then s:skip_step(name) else s:complete_step(name) end
end

local function work(ctx, cg)
  local s, in_hand = the_sr(ctx, cg)
  if in_hand then return "in_hand" end
  local pp = cg.paying_parent
  local stop = address_check(s, cg)
  if stop then return stop end
  s:set_status("In Progress")
  s:add_steps(PLAN)
  step(s, "Check address")
  local account = payment.find_account(pp)
  if cg.arrears_only then
    remove_suppression(s, cg)
    if account and account.method == "DFB" then
      -- DFB cannot collect arrears: a new method must be agreed and replace it.
      new_method_of_payment(s, account, "Arrears cannot be collected by deduction from "
        .. "benefit: agree a new method of payment (standing order or direct debit) with the "
        .. "paying parent", { "SO", "DD", "no contact" }, "DFB")
    end
  end
  credit_check(s, pp)
  receiving_parent_payment_details(s, cg)

  local route = "negotiate"
  if MISSED_PAYMENT[s.reason] then
    benefit_check(s, pp)
    local code = s:field("dd_reason_code")
    if code and account and account.method == "DD" and dd_failure(s, cg, account, code) then
      step(s, "Determine reason for missed payment")
      step(s, "Call paying parent", false)
      new_method_of_payment(s, account, "Obtain new method of payment details from the "
        .. "paying parent", { "DD", "SO", "DEO", "no contact" })
    else
      step(s, "Determine reason for missed payment")
      route = the_call(s, cg, account)
      step(s, "Call paying parent")
    end
  else
    step(s, "Determine reason for missed payment", false)
    step(s, "Call paying parent", false)
  end
  if route == "negotiate" then
    route = negotiate(s, cg, account)
    step(s, "Negotiate new arrears payment schedule")
  end
  if route == "unsuccessful" then return unsuccessful(s, cg) end
  return route
end

return procedure {
  name = "arrears_negotiation",
  description = "000: negotiate payment of arrears and deal with missed payments",
  run = function(ctx)
    local cg = ctx.casegroup or error("arrears_negotiation needs a casegroup (--casegroup)")
    for name in pairs(ctx.params) do
      if not PARAMS[name] then
        error("unknown param '" .. name .. "' (arrears_negotiation takes sr, reason, "
          .. "dd_reason_code and case)")
      end
    end
    local ok, result = pcall(work, ctx, cg)
    if ok then return result end
    if result == SUPERSEDED then return "superseded" end
    error(result, 0)
  end,
}
