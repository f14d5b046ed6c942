-- expect: unknown global 'load'
load("return 1")()
