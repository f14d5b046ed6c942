-- What every procedure does with the SR it works: find it (given by whoever started the
-- instance, or raised for it) and hold it in Wait while the procedure waits on someone.
local M = {}

-- A work item's field as a whole number (pence, an id), or nil if it is not one.
function M.integer(text)
  return math.tointeger(tonumber(text or ""))
end
local integer = M.integer

-- The SR this instance works. Given as ctx.params.sr (by a monitor, the transition or
-- another procedure), it must be a `sub_area` SR of the instance's casegroup, or the
-- instance stops with an error before doing anything; otherwise `create()` raises one, and
-- what it returns is returned.
function M.the_sr(ctx, cg, sub_area, create)
  if ctx.params.sr then
    local s = sr.get(integer(ctx.params.sr) or error("params.sr must be an SR id"))
    -- Objects compare by type and id; an SR without a casegroup never equals one.
    if s.sub_area ~= sub_area or s.casegroup ~= cg then
      local article = sub_area:find("^[AEIOU]") and "an " or "a "
      error("SR " .. s.id .. " is not " .. article .. sub_area .. " SR of casegroup " .. cg.id, 2)
    end
    return s
  end
  return create()
end

-- Puts the SR in Wait while `wait_for` waits (a timer, a work item, an event), then back In
-- Progress with `sub_status` (nil for none). Returns what `wait_for` returned.
function M.while_waiting(s, sub_status, wait_for)
  s:set_status("Wait")
  local result = wait_for()
  s:set_status("In Progress", sub_status)
  return result
end

return M
