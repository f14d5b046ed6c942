-- Arrears negotiation (source 000), "Initiate Arrears Action": a negotiation that did not
-- succeed, recorded, and an Arrears Review SR where enforcement is to be considered.

local common = require("arrears.common")
local await = common.await

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

return {
  unsuccessful = unsuccessful,
}
