#include "engine/runtime/safe_stdlib.hpp"

#include <cmath>

namespace casekit {

double pattern_cost(std::size_t subject_len, const char* p, std::size_t len) {
  int quantifiers = 0;
  const bool anchored = len > 0 && p[0] == '^';
  for (std::size_t i = anchored ? 1 : 0; i < len; ++i) {
    if (p[i] == '%') {
      ++i;  // the escaped character is a single class
    } else if (p[i] == '[') {
      // Skip the set; ']' right after '[' or '[^' is a literal member.
      ++i;
      if (i < len && p[i] == '^') ++i;
      if (i < len && p[i] == ']') ++i;
      while (i < len && p[i] != ']') {
        if (p[i] == '%') ++i;
        ++i;
      }
    } else if (p[i] == '*' || p[i] == '+' || p[i] == '-') {
      if (i > 0) ++quantifiers;
    }
  }
  const double n = static_cast<double>(subject_len) + 1;
  return std::pow(n, quantifiers + (anchored ? 0 : 1));
}

namespace {

// Arguments: (s, pattern, init, plain) for find; (s, pattern, ...) for the others.
template <bool IsFind>
int guarded_pattern(lua_State* L) {
  std::size_t subject_len = 0;
  std::size_t pattern_len = 0;
  luaL_checklstring(L, 1, &subject_len);
  const char* pattern = luaL_checklstring(L, 2, &pattern_len);
  const bool plain = IsFind && lua_toboolean(L, 4);
  if (!plain && pattern_cost(subject_len, pattern, pattern_len) > kMaxPatternCost) {
    return luaL_error(L,
                      "pattern too costly for a %d-byte subject (each *, + or - multiplies the "
                      "work); anchor it with ^, simplify it or split the text",
                      static_cast<int>(subject_len));
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

int guarded_rep(lua_State* L) {
  std::size_t len = 0;
  std::size_t sep_len = 0;
  luaL_checklstring(L, 1, &len);
  const lua_Integer n = luaL_checkinteger(L, 2);
  luaL_optlstring(L, 3, "", &sep_len);
  // An empty result still costs n iterations inside the C function.
  if (n <= 0 || len + sep_len == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  const auto limit = static_cast<double>(lua_tointeger(L, lua_upvalueindex(2)));
  const double size = static_cast<double>(len + sep_len) * static_cast<double>(n);
  if (size > limit) {
    return luaL_error(L, "string.rep: result of %f bytes exceeds the memory limit", size);
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

// Replaces lib[name] with guard, which reaches the original as upvalue 1.
void wrap(lua_State* L, int lib, const char* name, lua_CFunction guard) {
  lua_getfield(L, lib, name);
  lua_pushcclosure(L, guard, 1);
  lua_setfield(L, lib, name);
}

}  // namespace

void harden_string_library(lua_State* L, int index, std::size_t memory_limit) {
  const int lib = lua_absindex(L, index);
  lua_pushnil(L);
  lua_setfield(L, lib, "dump");
  wrap(L, lib, "find", guarded_pattern<true>);
  wrap(L, lib, "match", guarded_pattern<false>);
  wrap(L, lib, "gmatch", guarded_pattern<false>);
  wrap(L, lib, "gsub", guarded_pattern<false>);
  lua_getfield(L, lib, "rep");
  lua_pushinteger(L, static_cast<lua_Integer>(memory_limit));
  lua_pushcclosure(L, guarded_rep, 2);
  lua_setfield(L, lib, "rep");

  // getmetatable("") now returns false, so nothing can reach or replace the metatable.
  lua_pushliteral(L, "");
  if (lua_getmetatable(L, -1)) {
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

int safe_setmetatable(lua_State* L) {
  if (lua_type(L, 2) == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");
    const bool has_gc = lua_rawget(L, 2) != LUA_TNIL;
    lua_pop(L, 1);
    if (has_gc) return luaL_error(L, "setmetatable: __gc metamethods are not allowed in scripts");
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

}  // namespace casekit
