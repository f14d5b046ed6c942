// Guards on standard-library functions that run in C, where the instruction hook cannot
// interrupt them: string.rep and the pattern functions. Plus setmetatable without __gc,
// so no script code runs at an arbitrary moment (or while the state closes).
#pragma once

#include <lua.hpp>

#include <cstddef>

namespace casekit {

// Worst-case steps a pattern call may cost before it is refused.
inline constexpr double kMaxPatternCost = 2e8;

// Patches the string library table at `index`: no dump, guarded rep/find/match/gmatch/gsub,
// and the string metatable locked against getmetatable("").
void harden_string_library(lua_State* L, int index, std::size_t memory_limit);

// setmetatable(t, mt) that refuses mt with a __gc field; upvalue 1 is the real one.
int safe_setmetatable(lua_State* L);

// The worst-case cost of matching `pattern` against a subject of `subject_len` bytes:
// Lua's matcher backtracks, so each unbounded quantifier (*, +, -) multiplies the work by
// the subject length, and an unanchored search tries every start position.
double pattern_cost(std::size_t subject_len, const char* pattern, std::size_t pattern_len);

}  // namespace casekit
