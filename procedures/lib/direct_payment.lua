-- Source 000, "Determine Reason for Missed Payment" step 5: the paying parent says they paid
-- the receiving parent directly. Shared by procedures/direct_payment_claim.lua (started by
-- hand) and procedures/arrears_negotiation.lua (the call's "direct payment claimed").
--
-- The paying parent is asked for evidence (bank statements, say) within 14 days and the
-- receiving parent is asked to confirm:
--   - the receiving parent confirms: no further verification; offer the move to Direct Pay;
--   - they deny it or cannot be contacted: the SR waits 14 days for the evidence;
--     acceptable evidence: offer the move to Direct Pay; none: back to negotiation (step 6).
local service_request = require("service_request")

local M = {}

local function offer_direct_pay(s)
  local answer = task.await {
    inbox = "caseworker", kind = "offer_direct_pay", sr = s, due_in_days = 2,
    title = "Call the paying parent: do they wish to change service type to Direct Pay?",
    outcomes = { "agreed", "declined" },
  }
  if answer.outcome == "agreed" then
    s:add_note("Paying parent agreed to change service type to Direct Pay: refer to "
      .. "Change - Service Type - To Direct Pay")
  else
    s:add_note("Paying parent declined a change to Direct Pay")
  end
end

-- Returns "confirmed", "evidenced" or "negotiate".
function M.verify(s)
  s:add_note("Paying parent claims a direct payment; advised to provide evidence (e.g. bank "
    .. "statements) within 14 days, and that the receiving parent will be asked to confirm")

  local call = task.await {
    inbox = "caseworker", kind = "confirm_direct_payment", sr = s, due_in_days = 1,
    title = "Call the receiving parent: did they receive the direct payment?",
    outcomes = { "confirmed", "denied", "no_contact" },
  }
  if call.outcome == "confirmed" then
    s:add_note("Receiving parent confirmed receipt of the direct payment")
    offer_direct_pay(s)
    return "confirmed"
  end

  local evidence = service_request.while_waiting(s, nil, function()
    return task.await {
      inbox = "caseworker", kind = "direct_payment_evidence", sr = s, timeout_days = 14,
      title = "Record the paying parent's evidence of the direct payment",
      outcomes = { "acceptable", "not_acceptable" }, fields = { "evidence" },
      required = { acceptable = { "evidence" } },
    }
  end)
  if evidence.outcome == "acceptable" then
    s:add_note("Acceptable evidence received: " .. evidence.fields.evidence)
    offer_direct_pay(s)
    return "evidenced"
  end
  s:add_note(evidence.timeout and "No evidence within 14 days; continue negotiation"
    or "Evidence not acceptable; continue negotiation")
  return "negotiate"
end

return M
