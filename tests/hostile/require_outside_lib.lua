-- expect: module 'os' not found
require('os')
