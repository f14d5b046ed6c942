// The error tables bindings raise: {code=, message=, where=}, whose tostring is
// "file:line: message", and the names and lines they are built from.
#include "bindings/support.hpp"

namespace casekit::lua {

// "file:line" of the nearest Lua frame, or "" when there is none; a binding may be a few C
// frames deep (a property getter runs under the object's __index).
std::string script_line(lua_State* L) {
  lua_Debug ar;
  for (int level = 1; lua_getstack(L, level, &ar); ++level) {
    lua_getinfo(L, "Sl", &ar);
    if (ar.currentline > 0) return std::string(ar.short_src) + ":" + std::to_string(ar.currentline);
  }
  return "";
}

namespace {

void push_where(lua_State* L) {
  const std::string line = script_line(L);
  push_string(L, line.empty() ? line : line + ":");
}

int error_tostring(lua_State* L) {
  lua_getfield(L, 1, "where");
  lua_getfield(L, 1, "message");
  const char* where = lua_tostring(L, -2);
  const char* message = lua_tostring(L, -1);
  if (where && *where) {
    lua_pushfstring(L, "%s %s", where, message ? message : "?");
  } else {
    lua_pushstring(L, message ? message : "?");
  }
  return 1;
}

void ensure_error_metatable(lua_State* L) {
  if (luaL_newmetatable(L, kErrorMetatable)) {
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
  }
  lua_pop(L, 1);
}

}  // namespace

void push_error(lua_State* L, ErrorCode code, const std::string& message) {
  push_error(L, code_name(code), message);
}

void push_error(lua_State* L, const char* code, const std::string& message) {
  lua_createtable(L, 0, 3);
  lua_pushstring(L, code);
  lua_setfield(L, -2, "code");
  push_string(L, message);
  lua_setfield(L, -2, "message");
  push_where(L);
  lua_setfield(L, -2, "where");
  ensure_error_metatable(L);
  luaL_setmetatable(L, kErrorMetatable);
}

const Function kFixedProperty{"", nullptr, "", "", Replay::fixed};

const Function* declaration_of(lua_State* L) {
  return static_cast<const Function*>(lua_touserdata(L, lua_upvalueindex(2)));
}

std::string qualified_name(lua_State* L) {
  const char* name = lua_tostring(L, lua_upvalueindex(1));
  return name ? name : "?";
}

}  // namespace casekit::lua
