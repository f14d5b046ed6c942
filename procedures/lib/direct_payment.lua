-- Source 000, "Determine Reason for Missed Payment" step 5: the paying parent says they paid
-- the receiving parent directly. Shared by procedures/direct_payment_claim.lua (started by
-- hand) and procedures/arrears_negotiation.lua (the call's "direct payment claimed").
--
-- The paying parent is asked for evidence (bank statements, say) within 14 days and the
-- receiving parent is asked to confirm:
--   - the receiving parent confirms: no further verification; ask *them* whether they wish
--     to change service type to Direct Pay;
--   - they deny it or cannot be contacted: the SR waits 14 days for the evidence;
--     acceptable evidence: call the paying parent and ask them; none: back to negotiation
--     (step 6).
-- A payment confirmed or evidenced is recorded in the ledger as a direct payment to that
-- receiving parent (payment.record_direct), so that what is owed is right and the next
-- collection does not count it as missed (docs/money.md).
local service_request = require("service_request")

local M = {}

-- Step 5: "Ask if they wish to change service type to direct pay": the receiving parent
-- when they confirmed the payment, the paying parent when they evidenced it.
local function offer_direct_pay(s, who)
  local answer = task.await {
    inbox = "caseworker", kind = "offer_direct_pay", sr = s, due_in_days = 2,
    title = "Call the " .. who .. ": do they wish to change service type to Direct Pay?",
    outcomes = { "agreed", "declined" },
  }
  local Who = who:gsub("^%l", string.upper)
  if answer.outcome == "agreed" then
    s:add_note(Who .. " agreed to change service type to Direct Pay: refer to "
      .. "Change - Service Type - To Direct Pay")
  else
    s:add_note(Who .. " declined a change to Direct Pay")
  end
end

-- The fields a confirmed or evidenced payment needs, and the case whose receiving parent was
-- paid: the SR's, or the casegroup's only case; with several, the caseworker names it.
local PAYMENT_FIELDS = { "amount", "paid_on", "case" }

local function paid_case(s, fields)
  if s.case then return s.case end
  local cases = s.casegroup:cases()
  if #cases == 1 then return cases[1] end
  for _, c in ipairs(cases) do
    if tostring(c.id) == fields.case then return c end
  end
  return nil
end

-- Records the payment the item's fields describe; returns nil, or what is wrong with them
-- (nothing is recorded then, and the caseworker is asked again).
local function record(s, fields, how)
  local amount = service_request.integer(fields.amount)
  if not amount or amount <= 0 then
    return "amount '" .. (fields.amount or "") .. "' is not a positive whole number of pence"
  end
  if not clock.is_date(fields.paid_on) or fields.paid_on > clock.today() then
    return "paid_on must be the date the payment was made, not after today"
  end
  local c = paid_case(s, fields)
  if not c then return "case must be the id of the case whose receiving parent was paid" end
  local owed = 0
  for _, d in ipairs(payment.dues(s.casegroup)) do
    if d.case == c and d.owed_to == "RP" and d.state == "active" then
      owed = money.add(owed, d.outstanding)
    end
  end
  if amount > owed then
    return "a direct payment of " .. money.format(amount) .. " is more than the "
      .. money.format(owed) .. " owed to the receiving parent of case " .. c.id
  end
  payment.record_direct { case = c, amount = amount, date = fields.paid_on,
                          reference = "SR " .. s.id }
  s:add_note(string.format("Direct payment of %s made on %s to the receiving parent of case %d "
    .. "(%s) recorded", money.format(amount), fields.paid_on, c.id, how))
  return nil
end

-- Returns "confirmed", "evidenced" or "negotiate".
function M.verify(s)
  s:add_note("Paying parent claims a direct payment; advised to provide evidence (e.g. bank "
    .. "statements) within 14 days, and that the receiving parent will be asked to confirm")

  local call
  repeat
    call = task.await {
      inbox = "caseworker", kind = "confirm_direct_payment", sr = s, due_in_days = 1,
      title = "Call the receiving parent: did they receive the direct payment? If so, record "
        .. "how much and when",
      outcomes = { "confirmed", "denied", "no_contact" }, fields = PAYMENT_FIELDS,
      required = { confirmed = { "amount", "paid_on" } },
    }
    local problem = call.outcome == "confirmed"
      and record(s, call.fields, "confirmed by the receiving parent")
    if problem then s:add_note("Direct payment not recorded: " .. problem) end
  until not problem
  if call.outcome == "confirmed" then
    s:add_note("Receiving parent confirmed receipt of the direct payment")
    offer_direct_pay(s, "receiving parent")
    return "confirmed"
  end

  local evidence
  repeat
    evidence = service_request.while_waiting(s, nil, function()
      return task.await {
        inbox = "caseworker", kind = "direct_payment_evidence", sr = s, timeout_days = 14,
        title = "Record the paying parent's evidence of the direct payment",
        outcomes = { "acceptable", "not_acceptable" },
        fields = { "evidence", "amount", "paid_on", "case" },
        required = { acceptable = { "evidence", "amount", "paid_on" } },
      }
    end)
    local problem = evidence.outcome == "acceptable"
      and record(s, evidence.fields, "evidenced: " .. evidence.fields.evidence)
    if problem then s:add_note("Direct payment not recorded: " .. problem) end
  until not problem
  if evidence.outcome == "acceptable" then
    s:add_note("Acceptable evidence received: " .. evidence.fields.evidence)
    offer_direct_pay(s, "paying parent")
    return "evidenced"
  end
  s:add_note(evidence.timeout and "No evidence within 14 days; continue negotiation"
    or "Evidence not acceptable; continue negotiation")
  return "negotiate"
end

return M
