-- Review-date monitor (operator job).
--
-- Source 001, "Set review date" (steps 13-23): a case set for review stays in enforcement on
-- hold until its review date; "when the wait period expires the system will automatically
-- generate a fresh Case Routing SR", and a review date changed before it falls "will
-- override the previously set review date and the CMS System will not create multiple Case
-- Routing SRs".
--
-- So: each casegroup whose review date has been reached gets one Review Case and Decide on
-- Action SR (reason Review duration time elapsed) for that date, and case routing starts on
-- it. The SR remembers the date it was raised for (field raised_for_review_date): running the job twice,
-- or on later days, raises nothing more for the same date; a changed date is a new one, and
-- the old date, never reached, raised nothing.
local PAGE = 500
local SUB_AREA = "Review Case and Decide on Action"
local today = clock.today()
local checked, raised = 0, 0

local function already_raised(cg)
  for _, s in ipairs(sr.find{casegroup = cg, sub_area = SUB_AREA}) do
    if s:field("raised_for_review_date") == cg.review_date then return true end
  end
  return false
end

local after = 0
repeat
  local page = case.list{review_due_by = today, after = after, limit = PAGE}
  for _, cg in ipairs(page) do
    after = cg.id
    checked = checked + 1
    if not already_raised(cg) then
      local s = sr.create{process = "Enforcement", area = "Assess Next Action",
        sub_area = SUB_AREA, casegroup = cg, reason = "Review duration time elapsed"}
      s:set_field("raised_for_review_date", cg.review_date)
      s:add_note("Case review date " .. cg.review_date .. " reached")
      local instance = procedures.start{name = "case_routing", casegroup = cg,
        params = {sr = tostring(s.id)}}
      raised = raised + 1
      print(string.format("casegroup %d (%s): review date %s reached, SR %d raised, "
        .. "case_routing %d", cg.id, cg.csa_ref or "-", cg.review_date, s.id, instance))
    end
  end
until #page < PAGE

print(string.format("review-date monitor %s: %d review dates reached, %d SRs raised", today,
  checked, raised))
