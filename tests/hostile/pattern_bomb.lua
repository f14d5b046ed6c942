-- expect: pattern too costly
local s = string.rep('a', 60000)
string.find(s, '.-.-.-.-b')
