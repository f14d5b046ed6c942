-- expect: unknown global 'dofile'
dofile("/etc/passwd")
