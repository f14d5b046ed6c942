-- expect: bad module name
require('../../../etc/passwd')
