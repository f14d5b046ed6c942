-- expect: attempt to modify read-only table 'string'
string.upper = function() return 'pwned' end
