-- Arrears negotiation (source 000), "Scheduling Arrears Only Case Groups": what must be in
-- place before an arrears-only casegroup is scheduled: the paying parent's employment
-- status, the receiving parents' payment details, and the Employer Interface (source 003).

local common = require("arrears.common")
local EMPLOYMENT = common.EMPLOYMENT
local await = common.await
local receiving_parent_names = common.receiving_parent_names

-- Scheduling Arrears Only Case Groups: "Method of Payment To and bank details of the Receiving
-- Parent are required before attempting negotiation with the Paying Parent and then
-- scheduling the arrears." Asked before an arrears-only casegroup's first schedule; a later
-- negotiation finds them held.
local function receiving_parent_payment_details(s, cg)
  if not cg.arrears_only or payment.schedule(cg) then return end
  local r = await(s, {
    kind = "receiving_parent_payment_details", due_in_days = 2,
    title = "Before negotiating: make sure the Method of Payment To and bank details of "
      .. receiving_parent_names(cg) .. " are held (arrears-only casegroup)",
    outcomes = { "held", "obtained" }, fields = { "note" },
  })
  s:add_note("Receiving parent's Method of Payment To and bank details " .. r.outcome .. " ("
    .. r.by .. ") before negotiation")
end

-- ---- Scheduling Arrears Only Case Groups ----------------------------------------------------

-- The source's six steps, taken before anything is scheduled: an Arrears Review SR In
-- Progress, Get Employment Status, the review closed Cancelled, then back to this SR.
-- Scheduling without the status is what creates the Error / Technical Arrears Trigger SRs
-- the source warns of, so this runs first and no such SR is ever made.
local function get_employment_status(s, cg)
  local pp = cg.paying_parent
  local review = sr.create { process = "Arrears", area = "Arrears Management",
                             sub_area = "Arrears Review", casegroup = cg, parent = s,
                             status = "In Progress" }
  while true do
    local got = await(s, {
      kind = "get_employment_status", due_in_days = 1,
      title = "Arrears Review SR " .. review.id .. ": Get Employment Status for the paying parent",
      outcomes = { "recorded" }, fields = { "employment_status" },
      required = { "employment_status" },
    })
    if EMPLOYMENT[got.fields.employment_status] then
      pp:set_employment_status(got.fields.employment_status)
      break
    end
    s:add_note("Employment status '" .. got.fields.employment_status .. "' is not employed, "
      .. "self-employed or unemployed")
  end
  review:close("Cancelled")
  s:add_note("Employment status recorded: " .. pp.employment_status)
end

-- Source 003: the Employer Interface does not transition from the 1993/2003 systems, so it
-- is issued by hand before an arrears-only casegroup is scheduled for the first time; without
-- it later missed payment SRs go into error. Asked once per casegroup (the flag records it).
local function employer_interface(s, cg)
  if not cg.arrears_only or cg:has_flag("employer_interface_issued") or payment.schedule(cg) then
    return
  end
  local r = await(s, {
    kind = "employer_interface", due_in_days = 1,
    title = "Issue the Employer Interface by hand before this arrears-only casegroup is "
      .. "scheduled for the first time (it does not transition from the 1993/2003 systems)",
    outcomes = { "issued" },
  })
  cg:set_flag("employer_interface_issued")
  s:add_note("Employer Interface issued by hand by " .. r.by .. " before the first schedule")
end

return {
  employer_interface = employer_interface,
  get_employment_status = get_employment_status,
  receiving_parent_payment_details = receiving_parent_payment_details,
}
