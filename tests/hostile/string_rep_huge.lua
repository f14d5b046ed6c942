-- expect: exceeds the memory limit
local s = string.rep('x', 1 << 40)
