-- expect: attempt to modify read-only table 'case'
case.get = function() return 'pwned' end
