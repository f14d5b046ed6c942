-- Arrears negotiation (source 000): what every section shares. The SR reasons that route
-- the work, the periods the procedure waits, and the helpers every wait goes through.
-- procedures/arrears_negotiation.lua reads the sections in the source's order;
-- docs/procedures/arrears_negotiation.md maps each step to them and to the tests.

local AMP = "Action Missed Payment"
-- The Action Missed Payment SR's activity plan: its five activities (001 step 79 updates
-- "all five" on an SR raised only to record the missed payment indicators).
local PLAN = { "Check address", "Search CRA", "Determine reason for missed payment",
               "Call paying parent", "Negotiate new arrears payment schedule" }

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
-- every wait ends with this check, and the instance stops quietly. A person's step ends with
-- the SR (ends_with_sr): closing it cancels the step's work item and ends the wait at once,
-- so nobody is left a step on a closed SR.
local SUPERSEDED = {}

local function ensure_open(s)
  if not s.is_open then error(SUPERSEDED) end
end

local function await(s, spec)
  spec.sr = s
  spec.ends_with_sr = true
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

local integer = require("service_request").integer

-- "Robin Receiver and Alex Receiver": the receiving parents of the casegroup's cases, for a
-- work item's title.
local function receiving_parent_names(cg)
  local names = {}
  for _, c in ipairs(cg:cases()) do names[#names + 1] = c.receiving_parent.name end
  return table.concat(names, " and ")
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

return {
  AMP = AMP,
  CHANGE_MOPF_CODES = CHANGE_MOPF_CODES,
  DEATH_CODE = DEATH_CODE,
  DEBT_STEER_MONTHS = DEBT_STEER_MONTHS,
  EMPLOYMENT = EMPLOYMENT,
  FIRST_COLLECTION_MONTHS = FIRST_COLLECTION_MONTHS,
  FREQUENCIES = FREQUENCIES,
  INCOME_SHARE_PERCENT = INCOME_SHARE_PERCENT,
  LETTER_CHECK_DAYS = LETTER_CHECK_DAYS,
  MISSED_PAYMENT = MISSED_PAYMENT,
  NEW_MOPF_CODES = NEW_MOPF_CODES,
  PARAMS = PARAMS,
  PLAN = PLAN,
  RECENT_DEATH_SR_DAYS = RECENT_DEATH_SR_DAYS,
  RENEGOTIATION = RENEGOTIATION,
  REQUESTS = REQUESTS,
  REVIEW_AFTER_COLLECTION_DAYS = REVIEW_AFTER_COLLECTION_DAYS,
  SUPERSEDED = SUPERSEDED,
  WAIT_FOR_PAYMENT_DAYS = WAIT_FOR_PAYMENT_DAYS,
  await = await,
  ensure_open = ensure_open,
  integer = integer,
  owed = owed,
  paid_since_sr = paid_since_sr,
  pause = pause,
  raised_on = raised_on,
  receiving_parent_names = receiving_parent_names,
}
