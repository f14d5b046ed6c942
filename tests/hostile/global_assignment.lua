-- expect: assignment to global 'helper'; declare it local
helper = 1
