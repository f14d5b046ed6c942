#pragma once
// The domain sits below bindings/ and may not include from it.
#include "bindings/support.hpp"
