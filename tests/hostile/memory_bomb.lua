-- expect: memory limit
local t = {}
for i = 1, math.maxinteger do t[i] = tostring(i) .. ('x'):rep(64) end
