-- Arrears negotiation (source 000), "Gather Information": the SR to work (a renegotiation
-- request on an SR not raised today makes way for a new one), the case it is about, the
-- clients' addresses, an arrears-only casegroup's suppression and DFB, and the CRA search.

local service_request = require("service_request")
local common = require("arrears.common")
local AMP = common.AMP
local RENEGOTIATION = common.RENEGOTIATION
local REQUESTS = common.REQUESTS
local await = common.await
local integer = common.integer
local raised_on = common.raised_on

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

return {
  address_check = address_check,
  credit_check = credit_check,
  new_method_of_payment = new_method_of_payment,
  remove_suppression = remove_suppression,
  the_sr = the_sr,
}
