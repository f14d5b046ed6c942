-- Collection dates of a payment schedule: shared by the missed-payment monitor and the
-- procedures that negotiate schedules.
local M = {}

local step_days = { weekly = 7, fortnightly = 14, four_weekly = 28 }

-- The k-th collection date (k = 0 for the first) of a schedule table from payment.schedule.
function M.date(schedule, k)
  if schedule.frequency == "monthly" then
    return clock.add_months(schedule.first_collection_date, k)
  end
  return clock.add_days(schedule.first_collection_date, k * step_days[schedule.frequency])
end

-- How many collections fell due on or before `day`, and the latest of them (nil if none).
function M.due_by(schedule, day)
  local count, last = 0, nil
  while count < schedule.periods do
    local d = M.date(schedule, count)
    if d > day then break end -- ISO dates compare correctly as strings
    count = count + 1
    last = d
  end
  return count, last
end

-- The first day whose payments count towards a schedule: the day it was issued, when the
-- paying parent may pay the lump sum before the first collection, or the first collection
-- date if that is earlier (a schedule recorded after collections began).
function M.counted_from(schedule)
  if schedule.issued_on < schedule.first_collection_date then return schedule.issued_on end
  return schedule.first_collection_date
end

-- What the paying parent should have paid by `day`: lump sum plus each collection due.
function M.expected_by(schedule, day)
  local count, last = M.due_by(schedule, day)
  local expected = money.add(schedule.lump_sum, money.mul(schedule.amount_per_period, count))
  return expected, count, last
end

-- Whether a missed collection already has its Action Missed Payment SR: one is open (being
-- worked), or one was raised for this collection of this schedule version. The monitor and
-- the consecutive payment reviews both ask, so a missed collection raises one SR.
function M.missed_payment_raised(cg, schedule, collection)
  for _, s in ipairs(sr.find { casegroup = cg, sub_area = "Action Missed Payment" }) do
    if s.is_open then return true end
    if s:field("schedule_version") == tostring(schedule.version)
        and s:field("missed_collection") == collection then
      return true
    end
  end
  return false
end

return M
