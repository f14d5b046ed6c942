-- expect: attempt to call a nil value (field 'dump')
string.dump(function() return 1 end)
