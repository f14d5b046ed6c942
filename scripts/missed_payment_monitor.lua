-- Missed-payment monitor (operator job).
--
-- For each casegroup with a payment schedule in place, compares what the paying parent has
-- paid towards it (the payments recorded after it was issued: those before, a lump sum
-- among them, are out of the balance it spreads; collections.paid) with what had fallen due
-- five days ago (collections.GRACE_DAYS). A returned payment (payment.return_payment) does
-- not count. A shortfall raises one Action Missed Payment SR and tells each receiving parent
-- with CMSL6000 (collections.raise_missed_payment). Nothing is checked for a casegroup that
-- collections.unmonitored_because names (Direct Pay, the disable_missed_payment_monitor
-- flag, case routing's monitoring), and nothing is raised for a collection that already has
-- its SR (collections.missed_payment_raised), so running the job twice, or again after the
-- SR closed, raises nothing twice. Each SR raised starts procedures/arrears_negotiation.lua
-- on it (source 000, "Determine Reason for Missed Payment"); from `casekit exec`,
-- `schedule run` or the scheduler alike.
local collections = require("collections")

local PAGE = 500
local today = clock.today()
-- The ongoing maintenance that fell due by today is owed first: raised before anything is
-- judged, so that balances and allocations are those of today (payment.set_maintenance).
local maintenance_raised = payment.raise_maintenance { by = today }
local due_by = clock.add_days(today, -collections.GRACE_DAYS)
local checked, raised, letters = 0, 0, 0

local function raise(cg, schedule, expected, paid, last_due)
  local s, instance = collections.raise_missed_payment(cg, schedule, last_due, expected, paid,
    "Missed-payment monitor")
  raised = raised + 1
  letters = letters + #cg:cases()
  print(string.format("casegroup %d (%s): missed payment, SR %d raised, arrears_negotiation %d",
    cg.id, cg.csa_ref or "-", s.id, instance))
end

local after = 0
repeat
  local page = case.list{after = after, limit = PAGE}
  for _, cg in ipairs(page) do
    after = cg.id
    local schedule = payment.schedule(cg)
    if schedule and not collections.unmonitored_because(cg) then
      checked = checked + 1
      local expected, _, last_due = collections.expected_by(schedule, due_by)
      local paid = collections.paid(schedule, payment.account(cg))
      if paid < expected and not collections.missed_payment_raised(cg, schedule, last_due) then
        raise(cg, schedule, expected, paid, last_due)
      end
    end
  end
until #page < PAGE

print(string.format("missed-payment monitor %s: %d schedules checked, %d SRs raised, %d letters queued, "
  .. "%d maintenance dues raised", today, checked, raised, letters, maintenance_raised))
