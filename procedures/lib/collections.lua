-- Payment schedules as the missed-payment monitor and the procedures that issue and watch
-- them share them: collection dates, what counts towards them, when one counts as missed and
-- what that raises, and the letters that issue a schedule.
local M = {}

-- A collection counts as missed once this many days have passed since it fell due: a
-- standing order or direct debit takes up to three working days (the BACS cycle) to reach
-- the account, and five calendar days cover a weekend on the way. The missed-payment
-- monitor and case routing's monitoring (001 step 70) both wait this long; the consecutive
-- payment reviews of arrears_negotiation check a collection after the same five days.
M.GRACE_DAYS = 5

local step_days = { weekly = 7, fortnightly = 14, four_weekly = 28 }

-- The k-th collection date (k = 0 for the first) of a schedule table from payment.schedule.
function M.date(schedule, k)
  if schedule.frequency == "monthly" then
    return clock.add_months(schedule.first_collection_date, k)
  end
  return clock.add_days(schedule.first_collection_date, k * step_days[schedule.frequency])
end

-- How many collections from `first` fall before `day` (an annual review, say): at least one.
function M.before(first, frequency, day)
  local schedule = { first_collection_date = first, frequency = frequency }
  local n = 0
  while M.date(schedule, n) < day do n = n + 1 end
  return math.max(n, 1)
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

-- What the paying parent has paid towards a schedule's collections. A schedule spreads the
-- balance left after every payment recorded before it was issued (a card payment taken on
-- the call among them, recorded as its lump sum), so only payments recorded after it
-- count: money counted once. A schedule recorded after its collections began (the first
-- collection before the day it was issued) counts what was received from that first
-- collection on. Versions issued before schema 17 have no payments_before, and count from
-- the day they were issued. On an open case a collection pays the ongoing maintenance first
-- (payment.set_maintenance), so only what went to arrears counts: paying the maintenance
-- alone misses the arrears collection.
function M.paid(schedule, account)
  if schedule.first_collection_date < schedule.issued_on then
    return payment.paid { account = account, since = schedule.first_collection_date,
                          towards = "arrears" }
  end
  if schedule.payments_before then
    return payment.paid { account = account, after = schedule.payments_before,
                          towards = "arrears" }
  end
  return payment.paid { account = account, since = schedule.issued_on, towards = "arrears" }
end

-- What the paying parent should have paid towards a schedule by `day`: each collection due.
-- The lump sum is not among them: it was taken before the schedule, which spreads what it
-- left.
function M.expected_by(schedule, day)
  local count, last = M.due_by(schedule, day)
  return money.mul(schedule.amount_per_period, count), count, last
end

-- Whether a missed collection already has its Action Missed Payment SR: one is open (being
-- worked), or one was raised for this collection of this schedule version. The monitor and
-- the consecutive payment reviews both ask, so a missed collection raises one SR. A case
-- routing task raised for it during enforcement monitoring (001 step 70) counts as well.
function M.missed_payment_raised(cg, schedule, collection)
  local function for_this(s)
    return s:field("schedule_version") == tostring(schedule.version)
      and s:field("missed_collection") == collection
  end
  for _, s in ipairs(sr.find { casegroup = cg, sub_area = "Action Missed Payment" }) do
    if s.is_open or for_this(s) then return true end
  end
  for _, s in ipairs(sr.find { casegroup = cg, sub_area = "Review Case and Decide on Action" }) do
    if for_this(s) then return true end
  end
  return false
end

-- Why no missed collection of a casegroup raises an SR (the first reasons below), or nil.
function M.unmonitored_because(cg)
  if cg.service_type == "Direct Pay" then return "the casegroup is on Direct Pay" end
  if cg:has_flag("disable_missed_payment_monitor") then
    return "the Disable Missed Payment Monitor flag is set"
  end
  if cg:has_flag("enforcement_monitoring") then
    return "case routing monitors its payments until the transfer to maintenance (001 step 70)"
  end
  return nil
end

-- Why a missed collection raises no Action Missed Payment SR, or nil when it raises one.
-- One rule for the monitor and the consecutive payment reviews alike:
-- - on Direct Pay the paying parent pays the receiving parent, outside the ledger, so the
--   ledger cannot show a collection missed (source 000: Direct Pay arrears are the PWC's
--   balance, and its letters go clerically);
-- - the Disable Missed Payment Monitor flag stops missed payment SRs (001 step 75: "to
--   prevent more missed payment SR's being generated");
-- - while case routing monitors an enforcement case until its transfer to maintenance (001
--   step 70), a missed payment is its to act on, with a case routing task, not an SR;
-- - a missed collection has one SR (missed_payment_raised).
function M.not_raised_because(cg, schedule, collection)
  local unmonitored = M.unmonitored_because(cg)
  if unmonitored then return unmonitored end
  if M.missed_payment_raised(cg, schedule, collection) then
    return "an Action Missed Payment SR is open or was raised for this collection"
  end
  return nil
end

-- Raises the Action Missed Payment SR for a missed collection, tells each receiving parent
-- with CMSL6000 (source 000, "We haven't received a child maintenance payment") and starts
-- arrears_negotiation on it ("Determine Reason for Missed Payment"). `how` says who found
-- it, for the SR's note. Returns the SR and the instance id. Callers first ask
-- not_raised_because.
function M.raise_missed_payment(cg, schedule, collection, expected, paid, how)
  local shortfall = money.sub(expected, paid)
  -- Source 000 links only the case being negotiated: with one case, that one; with several,
  -- the missed collection is the casegroup's and so is the SR.
  local cases = cg:cases()
  local s = sr.create { process = "Arrears", area = "Arrears Management",
                        sub_area = "Action Missed Payment", casegroup = cg,
                        reason = "Missed Payment", case = #cases == 1 and cases[1] or nil }
  s:set_field("schedule_version", schedule.version)
  s:set_field("shortfall", shortfall)
  s:set_field("missed_collection", collection)
  s:add_note(string.format("%s: the collection due %s was not received in full: paid %s of %s "
    .. "expected.", how, collection, money.format(paid), money.format(expected)))
  for _, c in ipairs(cases) do
    letter.send { template = "CMSL6000", to = c.receiving_parent, casegroup = cg, sr = s,
                  fields = { amount_missed = money.format(shortfall), due_date = collection } }
  end
  local instance = procedures.start { name = "arrears_negotiation", casegroup = cg,
                                      params = { sr = tostring(s.id) } }
  return s, instance
end

-- Source 000 step 26: CMSL6056 to the paying parent and CMSL6051 to each receiving parent,
-- for a schedule just issued (`arrears` is the balance it spreads). Returns the letters.
function M.schedule_letters(s, cg, schedule, arrears)
  local fields = {
    arrears_total = money.format(arrears),
    lump_sum = schedule.lump_sum > 0 and money.format(schedule.lump_sum) or false,
    amount_per_period = money.format(schedule.amount_per_period),
    frequency = string.gsub(schedule.frequency, "_", "-"),
    periods = tostring(schedule.periods),
    first_collection_date = schedule.first_collection_date,
  }
  local sent = { letter.send { template = "CMSL6056", to = cg.paying_parent, casegroup = cg,
                               sr = s, fields = fields } }
  for _, c in ipairs(cg:cases()) do
    sent[#sent + 1] = letter.send { template = "CMSL6051", to = c.receiving_parent,
                                    casegroup = cg, sr = s, fields = fields }
  end
  return sent
end

return M
