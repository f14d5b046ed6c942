-- expect: exceeds the memory limit
local s = ('abc'):rep(1 << 40, ',')
