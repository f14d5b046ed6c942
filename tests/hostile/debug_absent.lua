-- expect: unknown global 'debug'
debug.sethook()
