// The `t` table a scenario function receives: driving the world (import, start, complete
// work items, move the clock) and asserting on it. Declared as a binding module, through
// the same entry/Args boundary and error tables as the modules in bindings/, and documented
// with them in docs/lua-api.md. It lives here rather than in bindings/ because it drives
// the durable runtime and the import, which sit above bindings/ and which bindings/ must
// not see.
#pragma once

#include "bindings/support.hpp"
#include "engine/runtime/sandbox.hpp"
#include "engine/scenario/world.hpp"

namespace casekit {

extern const lua::Module kScenarioModule;

// Pushes the `t` table for scenarios running against `world` (which must outlive it).
void push_t(Sandbox& sandbox, World& world);

}  // namespace casekit
