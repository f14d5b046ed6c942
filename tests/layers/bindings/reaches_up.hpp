#pragma once
// A layer outside engine/ is checked as the others are: bindings/ sits below the runtime.
#include "engine/runtime/sandbox.hpp"
