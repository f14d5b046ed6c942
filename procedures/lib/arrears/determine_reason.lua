-- Arrears negotiation (source 000), "Determine Reason for Missed Payment": the benefit status
-- from CIS (step 1), direct debit failures by reason code (step 2), and the call to the
-- paying parent with its outcomes (steps 3 to 22).

local direct_payment = require("direct_payment")
local service_request = require("service_request")
local common = require("arrears.common")
local CHANGE_MOPF_CODES = common.CHANGE_MOPF_CODES
local DEATH_CODE = common.DEATH_CODE
local NEW_MOPF_CODES = common.NEW_MOPF_CODES
local RECENT_DEATH_SR_DAYS = common.RECENT_DEATH_SR_DAYS
local WAIT_FOR_PAYMENT_DAYS = common.WAIT_FOR_PAYMENT_DAYS
local await = common.await
local ensure_open = common.ensure_open
local integer = common.integer
local owed = common.owed
local paid_since_sr = common.paid_since_sr
local pause = common.pause
local raised_on = common.raised_on

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
  "contact failed", "direct payment claimed", "says they paid", "still paying the CSA",
  "card payment", "DD represent", "non-immediate payment", "not willing", "negotiation requested",
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

-- Step 9: "If the paying parent claims to have made the payment, it may have allocated to the
-- suspense account. Take the payment details from the paying parent and ask the banking
-- payment assignment service (BPAS) Managing Exceptions team to search for the payment."
-- Found, BPAS moves it out of suspense onto the paying parent's account: it is recorded there
-- today (its details in the reference) and counts like any payment.
local function suspense_search(s, account)
  while true do
    local r = await(s, {
      kind = "bpas_search", due_in_days = 5,
      title = "The paying parent says they paid: take the payment details and ask BPAS "
        .. "Managing Exceptions to search the suspense account for the payment",
      outcomes = { "found", "not found" }, fields = { "payment_details", "amount" },
      required = { found = { "payment_details", "amount" }, ["not found"] = { "payment_details" } },
    })
    if r.outcome == "not found" then
      s:add_note("BPAS did not find the payment in the suspense account (" ..
        r.fields.payment_details .. ")")
      return
    end
    if not account then
      s:add_note("No account to allocate the payment to")
      return
    end
    local amount = integer(r.fields.amount)
    if amount and amount > 0 then
      payment.record { account = account, amount = amount, date = clock.today(),
                       method = "suspense", reference = "BPAS: " .. r.fields.payment_details }
      s:add_note("BPAS found " .. money.format(amount) .. " in the suspense account ("
        .. r.fields.payment_details .. "); allocated to the paying parent's account")
      return
    end
    s:add_note("Suspense payment amount '" .. r.fields.amount
      .. "' is not a whole number of pence above 0")
  end
end

-- Gather Information: "If the paying parent indicates that they are still making payments on
-- a CSA case with the named receiving parent check the case to confirm whether the Data
-- Warehouse look up has been triggered. Where it hasn't, refer the case to the 1993/2003
-- Rules Reassessment Team Dual Liability single point of contact (SPOC)." The referral is
-- that team's item; the call goes on.
local function dual_liability(s)
  local r = await(s, {
    kind = "data_warehouse_lookup", due_in_days = 1,
    title = "The paying parent says they still pay on a CSA case with this receiving parent: "
      .. "has the Data Warehouse look up been triggered?",
    outcomes = { "triggered", "not triggered" },
  })
  if r.outcome == "triggered" then
    s:add_note("Still paying on a CSA case: the Data Warehouse look up has been triggered")
    return
  end
  local id = task.create {
    inbox = "reassessment_team", kind = "dual_liability", sr = s, due_in_days = 5,
    title = "Dual Liability SPOC: the paying parent says they still pay on a CSA case with the "
      .. "named receiving parent, and the Data Warehouse look up was not triggered",
    outcomes = { "resolved" }, fields = { "note" },
  }
  s:add_note("Still paying on a CSA case, Data Warehouse look up not triggered: referred to the "
    .. "1993/2003 Rules Reassessment Team Dual Liability SPOC (work item " .. id .. ")")
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
    elseif c.outcome == "still paying the CSA" then
      dual_liability(s) -- then back to the call
    elseif c.outcome == "says they paid" then
      suspense_search(s, account)
      route = after_payment(s, cg, account, false)
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

return {
  benefit_check = benefit_check,
  close_paid = close_paid,
  dd_failure = dd_failure,
  the_call = the_call,
}
