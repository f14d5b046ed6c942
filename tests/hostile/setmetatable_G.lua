-- expect: unknown global 'os'
-- Removing the environment's metatable must not reveal anything.
local ok = pcall(setmetatable, _G, nil)
assert(not ok)
os.exit(1)
