-- expect: unknown global 'coroutine'
coroutine.wrap(function() end)()
