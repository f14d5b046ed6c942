-- Arrears negotiation (source 000), "Reactivate the BaNCS Account": a paying parent who was
-- already on the system with no active cases has an inactive BaNCS account, which the Client
-- Fund Account Team (CFAT) reactivates.
--
-- "As soon as you have identified" it, the caseworker emails CFAT with the SCIN and the BaNCS
-- account number (`request`, which nothing waits on: "You can continue progressing the
-- application"); "you mustn't complete the application before CFAT confirm the account is
-- reactivated", so the schedule waits for the caseworker to record CFAT's confirmation
-- (`confirmed`). The ledger refuses a schedule on an inactive account in any case.

local await = require("arrears.common").await

local CFAT = "CM 2012 Scheme CFAT Banking & Accounting"

local function request(s, cg, account)
  if not account or account.status ~= "inactive" then return end
  local pp = cg.paying_parent
  task.create {
    inbox = "caseworker", kind = "cfat_reactivation", sr = s, due_in_days = 1,
    title = "Email CFAT (" .. CFAT .. ") to reactivate " .. pp.name .. "'s BaNCS account "
      .. account.bancs_number .. ": give the SCIN (client " .. pp.id .. ") and the BaNCS "
      .. "account number",
    outcomes = { "emailed" }, fields = { "note" },
  }
  s:add_note("BaNCS account " .. account.bancs_number .. " is inactive: CFAT asked to "
    .. "reactivate it; the schedule waits for their confirmation")
end

local function confirmed(s, account)
  if not account or account.status ~= "inactive" then return end
  local answer = await(s, {
    kind = "cfat_confirmation", due_in_days = 5,
    title = "Record CFAT's confirmation (by phone or email) that BaNCS account "
      .. account.bancs_number .. " is reactivated: the schedule cannot be issued before",
    outcomes = { "reactivated" }, fields = { "note" },
  })
  account:set_status("active")
  s:add_note("CFAT confirmed BaNCS account " .. account.bancs_number .. " reactivated"
    .. (answer.fields.note and (": " .. answer.fields.note) or ""))
end

return {
  request = request,
  confirmed = confirmed,
}
