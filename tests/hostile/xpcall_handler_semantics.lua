-- expect: handled: test.lua:3: boom
-- xpcall still works for ordinary errors: the handler sees the error and its result is returned.
local ok, msg = xpcall(function() error("boom") end, function(e) return "handled: " .. e end)
assert(not ok)
error(msg, 0)
