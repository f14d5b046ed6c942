-- expect: unknown global 'io'
local f = io.open("/etc/passwd")
