-- Liability-order paid-off monitor (operator job): BaNCS's side of source 001 steps 50, 53
-- and 61.
--
-- "The interface with BaNCS will generate an SR once it recognises that an LO has been fully
-- paid off." So: each open Liability Order SR (an order in force) whose order is paid off gets one Review Case and
-- Decide on Action SR (reason Liability order paid off) naming it (field original_sr), and
-- case routing starts on it; the case manager then decides Clear Enforcement Artefacts, with
-- or without artefacts outstanding (steps 50-60), through the line manager's authorisation
-- when the case is not in enforcement (steps 61-64).
--
-- An order is paid off when what the paying parent has paid towards arrears since the order's
-- date (lo_date) reaches the amount it was granted for (lo_amount), or, for an order with no
-- amount recorded, when nothing active is left owed on the casegroup. (Allocation pays the
-- oldest arrears first, and the order's debt is the oldest: docs/money.md.)
--
-- The Liability Order SR remembers the day it was found paid off (field paid_off_on): running
-- the job again raises nothing more for it. Where case routing's own monitoring (step 70) has
-- already raised an SR for the same reason and it is still open, that one serves.
local PAGE = 500
local SUB_AREA = "Review Case and Decide on Action"
local REASON = "Liability order paid off"
local today = clock.today()
local checked, raised = 0, 0

local function paid_off(lo, cg)
  local amount = math.tointeger(tonumber(lo:field("lo_amount") or ""))
  local since = lo:field("lo_date")
  local account = payment.find_account(cg.paying_parent)
  if amount and since and account then
    if payment.paid { account = account, since = since, towards = "arrears" } >= amount then
      return true
    end
  end
  return payment.balance { casegroup = cg, state = "active" } == 0
end

local function open_routing_sr(cg)
  for _, s in ipairs(sr.find { casegroup = cg, sub_area = SUB_AREA, open = true }) do
    if s.reason == REASON then return s end
  end
  return nil
end

local after = 0
repeat
  local page = sr.find { sub_area = "Liability Order", open = true, after = after, limit = PAGE }
  for _, lo in ipairs(page) do
    after = lo.id
    local cg = lo.casegroup
    if cg and not lo:field("paid_off_on") then
      checked = checked + 1
      if paid_off(lo, cg) then
        lo:set_field("paid_off_on", today)
        lo:add_note("Liability order paid off (found " .. today .. ")")
        local existing = open_routing_sr(cg)
        if existing then
          existing:set_field("original_sr", lo.id)
          print(string.format("casegroup %d: liability order SR %d paid off; case routing SR %d "
            .. "already open for it", cg.id, lo.id, existing.id))
        else
          local s = sr.create { process = "Enforcement", area = "Assess Next Action",
                                sub_area = SUB_AREA, casegroup = cg, reason = REASON }
          s:set_field("original_sr", lo.id)
          s:add_note("BaNCS: liability order SR " .. lo.id
            .. (lo:field("lo_reference") and (" (" .. lo:field("lo_reference") .. ")") or "")
            .. " fully paid off")
          local instance = procedures.start { name = "case_routing", casegroup = cg,
                                              params = { sr = tostring(s.id) } }
          raised = raised + 1
          print(string.format("casegroup %d (%s): liability order SR %d paid off, SR %d raised, "
            .. "case_routing %d", cg.id, cg.csa_ref or "-", lo.id, s.id, instance))
        end
      end
    end
  end
until #page < PAGE

print(string.format("LO paid-off monitor %s: %d liability orders checked, %d SRs raised", today,
  checked, raised))
