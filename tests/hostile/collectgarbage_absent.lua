-- expect: unknown global 'collectgarbage'
collectgarbage("stop")
