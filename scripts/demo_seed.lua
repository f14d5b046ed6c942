-- A small demo dataset: five casegroups on the simulated clock, each showing one thing
-- the missed-payment monitor must get right.
local function family(t)
  local pp = case.create_client{name = t.pp, nino = t.pp_nino, dob = "1982-04-11",
    employment_status = "employed",
    address = {line1 = t.pp_address, town = t.town, postcode = t.pp_postcode}}
  local cg = case.create_casegroup{paying_parent = pp, csa_ref = t.ref, segment = t.segment,
    region = t.region or "E&W", arrears_only = t.arrears_only or false,
    annual_review_date = "2027-06-30"}
  local cases = {}
  for i, rp_name in ipairs(t.rps) do
    local rp = case.create_client{name = rp_name, nino = t.rp_ninos[i],
      address = {line1 = (10 + i) .. " Church Lane", town = t.town, postcode = t.rp_postcode}}
    cases[i] = cg:add_case{receiving_parent = rp}
  end
  local account = payment.open_account{client = pp, method = t.method}
  for i, c in ipairs(cases) do
    payment.add_due{casegroup = cg, case = c, owed_to = "RP", amount = t.arrears[i], origin = "CMS"}
  end
  if t.sos then
    payment.add_due{casegroup = cg, owed_to = "SOS_GB", state = "deferred", amount = t.sos}
  end
  if t.schedule then
    payment.issue_schedule{casegroup = cg, amount_per_period = t.schedule.per_period,
      periods = t.schedule.periods, first_collection_date = t.schedule.from, acceptable = true}
  end
  for _, p in ipairs(t.payments or {}) do
    payment.record{account = account, amount = p[2], date = p[1], method = t.method}
  end
  for _, flag in ipairs(t.flags or {}) do cg:set_flag(flag) end
  return cg
end

-- Paid September and October, but not November's £50.
family{ref = "CSA-1001", segment = "Arrears", pp = "Daniel Hughes", pp_nino = "JH482913A",
  pp_address = "4 Mill Street", town = "Leeds", pp_postcode = "LS2 7EY",
  rps = {"Sarah Hughes"}, rp_ninos = {"JK193847B"}, rp_postcode = "LS6 2AB", method = "SO",
  arrears = {60000}, schedule = {per_period = 5000, periods = 12, from = "2026-09-01"},
  payments = {{"2026-09-01", 5000}, {"2026-10-01", 5000}}}

-- Every collection paid: nothing to do.
family{ref = "CSA-1002", segment = "Arrears", pp = "Priya Shah", pp_nino = "NP672301C",
  pp_address = "22 Oak Road", town = "Leicester", pp_postcode = "LE1 5WW",
  rps = {"Arjun Shah"}, rp_ninos = {"NP553412D"}, rp_postcode = "LE2 1TR", method = "DD",
  arrears = {36000}, schedule = {per_period = 3000, periods = 12, from = "2026-08-15"},
  payments = {{"2026-08-15", 3000}, {"2026-09-15", 3000}, {"2026-10-15", 3000}, {"2026-11-15", 3000}}}

-- Missed payments, but the monitor is disabled for this casegroup (court enforced schedule).
family{ref = "CSA-1003", segment = "Enforcement", pp = "Mark Ellis", pp_nino = "SE904521A",
  pp_address = "7 Quay Side", town = "Bristol", pp_postcode = "BS1 4RN",
  rps = {"Joanne Ellis"}, rp_ninos = {"SE118273B"}, rp_postcode = "BS3 1QE", method = "SO",
  arrears = {150000}, schedule = {per_period = 10000, periods = 15, from = "2026-07-01"},
  payments = {{"2026-07-01", 10000}},
  flags = {"disable_missed_payment_monitor", "court_enforced_schedule", "ever_in_enforcement"}}

-- Arrears only, owed to the receiving parent and the Secretary of State, no schedule yet.
family{ref = "CSA-1004", segment = "Arrears Only Categorised", arrears_only = true,
  region = "Scotland", pp = "Ross Campbell", pp_nino = "RC330198A", pp_address = "3 Glebe Row",
  town = "Dundee", pp_postcode = "DD1 1AA", rps = {"Fiona Campbell"}, rp_ninos = {"RC771023B"},
  rp_postcode = "DD2 3BX", method = "DFB", arrears = {84250}, sos = 12000}

-- Two receiving parents; paid only part of November: each is told with CMSL6000.
family{ref = "CSA-1005", segment = "Maintenance", pp = "Kevin Doyle", pp_nino = "KD208876C",
  pp_address = "15 Tower Court", town = "Manchester", pp_postcode = "M4 6BF",
  rps = {"Emma Doyle", "Lisa Grant"}, rp_ninos = {"KD310045A", "LG870214B"},
  rp_postcode = "M20 2PQ", method = "DD", arrears = {42000, 18000},
  schedule = {per_period = 7500, periods = 8, from = "2026-10-05"},
  payments = {{"2026-10-05", 7500}, {"2026-11-05", 4000}}}

print(string.format("demo data: %d casegroups with their parents, dues, schedules and payments", #case.list{}))
