-- Missed-payment monitor (operator job).
--
-- For each casegroup with a payment schedule in place, compares what the paying parent has
-- paid towards it (from the day it was issued, so a lump sum paid before the first collection
-- counts; collections.counted_from) with what had fallen due five days ago (GRACE_DAYS). A
-- returned payment (payment.return_payment) does not count. A shortfall raises one
-- Action Missed Payment SR and tells each receiving parent with CMSL6000 (source 000,
-- "We haven't received a child maintenance payment"), unless the casegroup has the
-- disable_missed_payment_monitor flag, has an open Action Missed Payment SR, or already had
-- one for this missed collection: running the job twice, or again after the SR closed,
-- raises nothing twice. Each SR raised starts
-- procedures/arrears_negotiation.lua on it (source 000, "Determine Reason for Missed
-- Payment"); from `casekit exec`, `schedule run` or the scheduler alike.
local collections = require("collections")

local PAGE = 500
-- A collection counts as missed once this many days have passed since it fell due: a
-- standing order or direct debit takes up to three working days (the BACS cycle) to reach
-- the account, and five calendar days cover a weekend on the way. The consecutive payment
-- reviews of arrears_negotiation check a collection after the same five days.
local GRACE_DAYS = 5
local today = clock.today()
local due_by = clock.add_days(today, -GRACE_DAYS)
local checked, raised, letters = 0, 0, 0

local function raise(cg, schedule, expected, paid, last_due)
  local shortfall = money.sub(expected, paid)
  -- Source 000 links only the case being negotiated: with one case, that one; with several,
  -- the missed collection is the casegroup's and so is the SR.
  local cases = cg:cases()
  local s = sr.create{process = "Arrears", area = "Arrears Management",
    sub_area = "Action Missed Payment", casegroup = cg, reason = "Missed Payment",
    case = #cases == 1 and cases[1] or nil}
  s:set_field("schedule_version", schedule.version)
  s:set_field("shortfall", shortfall)
  s:set_field("missed_collection", last_due)
  s:add_note(string.format("Collection due %s not received in full: paid %s of %s expected.",
    last_due, money.format(paid), money.format(expected)))
  for _, c in ipairs(cases) do
    letter.send{template = "CMSL6000", to = c.receiving_parent, casegroup = cg, sr = s,
      fields = {amount_missed = money.format(shortfall), due_date = last_due}}
    letters = letters + 1
  end
  local instance = procedures.start{name = "arrears_negotiation", casegroup = cg,
    params = {sr = tostring(s.id)}}
  raised = raised + 1
  print(string.format("casegroup %d (%s): missed payment, SR %d raised, arrears_negotiation %d",
    cg.id, cg.csa_ref or "-", s.id, instance))
end

local after = 0
repeat
  local page = case.list{after = after, limit = PAGE}
  for _, cg in ipairs(page) do
    after = cg.id
    local schedule = payment.schedule(cg)
    if schedule and not cg:has_flag("disable_missed_payment_monitor") then
      checked = checked + 1
      local expected, _, last_due = collections.expected_by(schedule, due_by)
      local paid = payment.paid{account = payment.account(cg),
        since = collections.counted_from(schedule)}
      if paid < expected and not collections.missed_payment_raised(cg, schedule, last_due) then
        raise(cg, schedule, expected, paid, last_due)
      end
    end
  end
until #page < PAGE

print(string.format("missed-payment monitor %s: %d schedules checked, %d SRs raised, %d letters queued",
  today, checked, raised, letters))
