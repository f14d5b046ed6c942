-- expect: attempt to call a nil value (field 'random')
local n = math.random(10)
