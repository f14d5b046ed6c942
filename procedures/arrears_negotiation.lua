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
-- outcomes as the source does. Each of the source's sections is a file of its own, read in
-- the source's order by `work` below:
--   Gather Information                      procedures/lib/arrears/gather_information.lua
--   Determine Reason for Missed Payment     procedures/lib/arrears/determine_reason.lua
--   Negotiate New Arrears Payment Schedule  procedures/lib/arrears/negotiate.lua
--   Initiate Arrears Action                 procedures/lib/arrears/initiate_arrears_action.lua
--   Scheduling Arrears Only Case Groups     procedures/lib/arrears/scheduling_arrears_only.lua
--   Reactivate the BaNCS Account            procedures/lib/arrears/reactivate_bancs_account.lua
-- with what they share in procedures/lib/arrears/common.lua.
-- docs/procedures/arrears_negotiation.md maps each source step to a function and its tests.
--
-- Returns what became of the SR: "paid", "schedule_agreed", "direct_pay_agreed", "review_failed",
-- "arrears_review", "neg_unsuccessful_nfa", "neg_unsuccessful", "direct_payment",
-- "cancelled_no_address", "active_duty" or "superseded".

local common = require("arrears.common")
local MISSED_PAYMENT, PARAMS, SUPERSEDED = common.MISSED_PAYMENT, common.PARAMS, common.SUPERSEDED

local gather = require("arrears.gather_information")
local the_sr, address_check, remove_suppression, new_method_of_payment, credit_check =
  gather.the_sr, gather.address_check, gather.remove_suppression, gather.new_method_of_payment,
  gather.credit_check

local determine = require("arrears.determine_reason")
local benefit_check, dd_failure, the_call = determine.benefit_check, determine.dd_failure,
  determine.the_call

local reactivate_bancs_account = require("arrears.reactivate_bancs_account")
local negotiate = require("arrears.negotiate").negotiate
local unsuccessful = require("arrears.initiate_arrears_action").unsuccessful
local receiving_parent_payment_details =
  require("arrears.scheduling_arrears_only").receiving_parent_payment_details

-- ---- the procedure ----------------------------------------------------------------------

local PLAN = common.PLAN

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
  reactivate_bancs_account.request(s, cg, account)
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
