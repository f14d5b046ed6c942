// Engine objects as scripts see them: typed full userdata holding an id, with locked
// metatables built on first use; module tables; and pushing plain results.
#include "bindings/support.hpp"

namespace casekit::lua {

namespace {

int object_index(lua_State* L) {
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;  // a method
  lua_pop(L, 1);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL) {  // a property getter
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    return 1;
  }
  lua_getfield(L, lua_upvalueindex(3), "name");
  const char* type = lua_tostring(L, -1);
  const char* key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : luaL_typename(L, 2);
  push_error(L, ErrorCode::bad_argument,
             std::string(type ? type : "object") + " has no field or method '" + key + "'");
  return lua_error(L);
}

int object_newindex(lua_State* L) {
  lua_getfield(L, lua_upvalueindex(1), "name");
  push_error(L, ErrorCode::bad_argument,
             std::string(lua_tostring(L, -1)) + " fields are read-only; use its methods");
  return lua_error(L);
}

int object_tostring(lua_State* L) {
  lua_getfield(L, lua_upvalueindex(1), "name");
  lua_pushfstring(L, "%s %I", lua_tostring(L, -1),
                  static_cast<LUAI_UACINT>(*static_cast<Id*>(lua_touserdata(L, 1))));
  return 1;
}

int object_eq(lua_State* L) {
  const bool same_type =
      lua_getmetatable(L, 1) && lua_getmetatable(L, 2) && lua_rawequal(L, -1, -2);
  lua_pushboolean(L, same_type && *static_cast<Id*>(lua_touserdata(L, 1)) ==
                                      *static_cast<Id*>(lua_touserdata(L, 2)));
  return 1;
}

void register_type(lua_State* L, const Type& type) {
  if (!luaL_newmetatable(L, type.name)) {
    lua_pop(L, 1);
    return;
  }
  const int mt = lua_gettop(L);
  lua_createtable(L, 0, 1);  // info table shared by the metamethods
  lua_pushstring(L, type.name);
  lua_setfield(L, -2, "name");
  const int info = lua_gettop(L);

  lua_createtable(L, 0, static_cast<int>(type.methods.size()));
  for (const auto& m : type.methods) {
    lua_pushfstring(L, "%s:%s", type.name, m.name);
    push_function(L, lua_tostring(L, -1), m);
    lua_remove(L, -2);
    lua_setfield(L, -2, m.name);
  }
  lua_createtable(L, 0, static_cast<int>(type.properties.size()));
  for (const auto& p : type.properties) {
    lua_pushfstring(L, "%s.%s", type.name, p.name);
    if (p.fixed) {
      // Upvalues as a function's: its name, then its declaration (declaration_of).
      lua_pushlightuserdata(L, const_cast<Function*>(&kFixedProperty));
      lua_pushcclosure(L, p.get, 2);
    } else {
      lua_pushcclosure(L, p.get, 1);
    }
    lua_setfield(L, -2, p.name);
  }
  lua_pushvalue(L, info);
  lua_pushcclosure(L, object_index, 3);
  lua_setfield(L, mt, "__index");

  lua_pushvalue(L, info);
  lua_pushcclosure(L, object_newindex, 1);
  lua_setfield(L, mt, "__newindex");
  lua_pushvalue(L, info);
  lua_pushcclosure(L, object_tostring, 1);
  lua_setfield(L, mt, "__tostring");
  lua_pushcfunction(L, object_eq);
  lua_setfield(L, mt, "__eq");
  lua_pushboolean(L, 0);
  lua_setfield(L, mt, "__metatable");
  lua_settop(L, mt - 1);
}

}  // namespace

void push_function(lua_State* L, const char* qualified, const Function& f, void* context) {
  lua_pushstring(L, qualified);
  // Never seen by scripts: C closures' upvalues are out of their reach (no debug library).
  lua_pushlightuserdata(L, const_cast<Function*>(&f));
  if (context) {
    lua_pushlightuserdata(L, context);
    lua_pushcclosure(L, f.fn, 3);
  } else {
    lua_pushcclosure(L, f.fn, 2);
  }
}

void push_module(lua_State* L, const Module& module, void* context) {
  lua_createtable(L, 0, static_cast<int>(module.functions.size()));
  for (const auto& f : module.functions) {
    if (!f.fn) continue;  // written in Lua by the module's prelude
    lua_pushfstring(L, "%s.%s", module.name, f.name);
    push_function(L, lua_tostring(L, -1), f, context);
    lua_remove(L, -2);
    lua_setfield(L, -2, f.name);
  }
}

std::string signature_of(const Function& f) {
  std::string_view signature = f.signature;
  const auto table = signature.find("{}");
  if (f.keys.empty() || table == std::string_view::npos) return std::string(signature);
  std::string out(signature.substr(0, table + 1));
  for (std::size_t i = 0; i < f.keys.size(); ++i) {
    const Key& k = f.keys[i];
    out += (i ? ", " : "") + std::string(k.name) + "=";
    if (k.shown_default) out += k.shown_default;
  }
  out += signature.substr(table + 1);
  return out;
}

void push_object(lua_State* L, const Type& type, Id id) {
  auto* box = static_cast<Id*>(lua_newuserdatauv(L, sizeof(Id), 0));
  *box = id;
  // A type's metatable is built the first time an object of it is pushed, so an
  // activation pays only for the types it meets.
  if (luaL_getmetatable(L, type.name) == LUA_TNIL) {
    lua_pop(L, 1);
    register_type(L, type);
    luaL_getmetatable(L, type.name);
  }
  lua_setmetatable(L, -2);
}

Id self_id(lua_State* L) {
  return *static_cast<Id*>(lua_touserdata(L, 1));
}

void push_string(lua_State* L, std::string_view s) {
  lua_pushlstring(L, s.data(), s.size());
}

void push_optional(lua_State* L, const std::optional<std::string>& s) {
  if (s) {
    push_string(L, *s);
  } else {
    lua_pushnil(L);
  }
}

void push_optional(lua_State* L, const std::optional<std::int64_t>& n) {
  if (n) {
    lua_pushinteger(L, *n);
  } else {
    lua_pushnil(L);
  }
}

}  // namespace casekit::lua
