// Reading a binding's arguments: each check raises "bad argument #i 'name' to 'fn' (...)"
// naming the function, the argument and what was wrong.
#include "bindings/support.hpp"

#include <cmath>

namespace casekit::lua {

std::string Args::function_name() {
  return qualified_name(L);
}

const char* Args::type_name(int i) {
  if (lua_type(L, i) == LUA_TUSERDATA && lua_getmetatable(L, i)) {
    lua_getfield(L, -1, "__name");
    const char* name = lua_tostring(L, -1);
    lua_pop(L, 2);  // the name stays alive: the metatable is in the registry
    if (name) return name;
  }
  if (lua_type(L, i) == LUA_TNUMBER) return lua_isinteger(L, i) ? "integer" : "float";
  return luaL_typename(L, i);
}

void Args::fail(int i, const char* name, const std::string& message) {
  throw ArgError("bad argument #" + std::to_string(i) + " '" + name + "' to '" + function_name() +
                 "' (" + message + ")");
}

void Args::fail_field(int t, const char* key, const std::string& message) {
  throw ArgError("bad argument #" + std::to_string(t) + " to '" + function_name() + "': field '" +
                 key + "' (" + message + ")");
}

std::int64_t Args::integer(int i, const char* name) {
  if (!lua_isinteger(L, i)) fail(i, name, std::string("integer expected, got ") + type_name(i));
  return lua_tointeger(L, i);
}

Pence Args::pence(int i, const char* name) {
  if (lua_type(L, i) == LUA_TNUMBER && !lua_isinteger(L, i)) {
    fail(i, name, "pence must be an integer, got float " + std::to_string(lua_tonumber(L, i)));
  }
  return integer(i, name);
}

std::string Args::string(int i, const char* name) {
  if (lua_type(L, i) != LUA_TSTRING) {
    fail(i, name, std::string("string expected, got ") + type_name(i));
  }
  size_t len = 0;
  const char* s = lua_tolstring(L, i, &len);
  return std::string(s, len);
}

std::optional<std::string> Args::opt_string(int i, const char* name) {
  if (none(i)) return std::nullopt;
  return string(i, name);
}

bool Args::boolean(int i, const char* name) {
  if (lua_type(L, i) != LUA_TBOOLEAN) {
    fail(i, name, std::string("boolean expected, got ") + type_name(i));
  }
  return lua_toboolean(L, i) != 0;
}

std::string Args::date(int i, const char* name) {
  std::string s = string(i, name);
  if (!is_date(s)) fail(i, name, "date YYYY-MM-DD expected, got '" + s + "'");
  return s;
}

std::optional<std::string> Args::opt_date(int i, const char* name) {
  if (none(i)) return std::nullopt;
  return date(i, name);
}

Id Args::object(int i, const Type& type, const char* name) {
  void* p = luaL_testudata(L, i, type.name);
  if (!p) fail(i, name, std::string(type.name) + " expected, got " + type_name(i));
  return *static_cast<Id*>(p);
}

Id Args::object_or_id(int i, const Type& type, const char* name) {
  if (lua_isinteger(L, i)) return lua_tointeger(L, i);
  if (!luaL_testudata(L, i, type.name)) {
    fail(i, name, std::string(type.name) + " or id expected, got " + type_name(i));
  }
  return object(i, type, name);
}

void* Args::context_pointer() {
  void* context = lua_touserdata(L, lua_upvalueindex(3));
  if (!context) throw Error(ErrorCode::internal, function_name() + " has no context");
  return context;
}

void Args::table(int i, const char* name) {
  const Function* f = declaration_of(L);
  if (!f || f->keys.empty()) {
    throw Error(ErrorCode::internal, function_name() + " declares no keys for its table");
  }
  table(i, name, f->keys);
}

void Args::table(int i, const char* name, std::span<const Key> keys) {
  if (lua_type(L, i) != LUA_TTABLE)
    fail(i, name, std::string("table expected, got ") + type_name(i));
  const int t = lua_absindex(L, i);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    bool known = false;
    if (lua_type(L, -1) == LUA_TSTRING) {
      const char* key = lua_tostring(L, -1);
      for (const Key& k : keys) known = known || std::string_view(k.name) == key;
    }
    if (!known) {
      std::string key = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : type_name(-1);
      std::string expected;
      for (const Key& k : keys) expected += (expected.empty() ? "" : ", ") + std::string(k.name);
      lua_pop(L, 1);
      fail(i, name, "unknown field '" + key + "'; expected: " + expected);
    }
  }
}

int Args::push_field(int t, const char* key) {
  lua_pushstring(L, key);
  return lua_rawget(L, t);
}

std::optional<std::string> Args::opt_field_string(int t, const char* key) {
  const int type = push_field(t, key);
  std::optional<std::string> out;
  if (type == LUA_TSTRING) {
    size_t len = 0;
    const char* s = lua_tolstring(L, -1, &len);
    out = std::string(s, len);
  }
  lua_pop(L, 1);
  if (type != LUA_TNIL && type != LUA_TSTRING) {
    fail_field(t, key, std::string("string expected, got ") + lua_typename(L, type));
  }
  return out;
}

std::string Args::field_string(int t, const char* key) {
  auto s = opt_field_string(t, key);
  if (!s) fail_field(t, key, "string expected, got nil");
  return *s;
}

std::optional<std::string> Args::opt_field_date(int t, const char* key) {
  auto s = opt_field_string(t, key);
  if (s && !is_date(*s)) fail_field(t, key, "date YYYY-MM-DD expected, got '" + *s + "'");
  return s;
}

std::string Args::field_date(int t, const char* key) {
  auto d = opt_field_date(t, key);
  if (!d) fail_field(t, key, "date YYYY-MM-DD expected, got nil");
  return *d;
}

std::optional<std::int64_t> Args::opt_field_integer(int t, const char* key) {
  const int type = push_field(t, key);
  std::optional<std::int64_t> out;
  const bool ok = type == LUA_TNIL || lua_isinteger(L, -1);
  if (type != LUA_TNIL && ok) out = lua_tointeger(L, -1);
  const char* got = type == LUA_TNUMBER ? "float" : lua_typename(L, type);
  lua_pop(L, 1);
  if (!ok) fail_field(t, key, std::string("integer expected, got ") + got);
  return out;
}

std::optional<double> Args::opt_field_number(int t, const char* key) {
  const int type = push_field(t, key);
  std::optional<double> out;
  if (type == LUA_TNUMBER) out = lua_tonumber(L, -1);
  const char* got = lua_typename(L, type);
  lua_pop(L, 1);
  if (type != LUA_TNIL && !out) fail_field(t, key, std::string("number expected, got ") + got);
  return out;
}

std::map<std::string, std::string> Args::opt_field_string_map(int t, const char* key) {
  std::map<std::string, std::string> out;
  const int type = push_field(t, key);
  if (type == LUA_TNIL) {
    lua_pop(L, 1);
    return out;
  }
  if (type != LUA_TTABLE) {
    lua_pop(L, 1);
    fail_field(t, key, "table of names to values expected");
  }
  const int map = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, map)) {
    const int kt = lua_type(L, -2);
    const int vt = lua_type(L, -1);
    if (kt != LUA_TSTRING || (vt != LUA_TSTRING && vt != LUA_TNUMBER)) {
      lua_settop(L, map - 1);
      fail_field(t, key, "names must be strings and values strings or numbers");
    }
    // lua_tostring would turn a number key into a string in place and confuse lua_next;
    // copying the value first keeps the key untouched.
    lua_pushvalue(L, -1);
    out[lua_tostring(L, -3)] = lua_tostring(L, -1);
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
  return out;
}

std::optional<Pence> Args::opt_field_pence(int t, const char* key) {
  const int type = push_field(t, key);
  const bool is_float = type == LUA_TNUMBER && !lua_isinteger(L, -1);
  const double value = is_float ? lua_tonumber(L, -1) : 0;
  lua_pop(L, 1);
  if (is_float) fail_field(t, key, "pence must be an integer, got float " + std::to_string(value));
  return opt_field_integer(t, key);
}

Pence Args::field_pence(int t, const char* key) {
  auto p = opt_field_pence(t, key);
  if (!p) fail_field(t, key, "integer pence expected, got nil");
  return *p;
}

std::optional<bool> Args::opt_field_boolean(int t, const char* key) {
  const int type = push_field(t, key);
  std::optional<bool> out;
  if (type == LUA_TBOOLEAN) out = lua_toboolean(L, -1) != 0;
  lua_pop(L, 1);
  if (type != LUA_TNIL && type != LUA_TBOOLEAN) {
    fail_field(t, key, std::string("boolean expected, got ") + lua_typename(L, type));
  }
  return out;
}

std::vector<std::string> Args::field_string_list(int t, const char* key) {
  std::vector<std::string> out;
  lua_getfield(L, t, key);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return out;
  }
  if (!lua_istable(L, -1)) fail_field(t, key, "list of strings expected");
  const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, -1));
  for (lua_Integer i = 1; i <= n; ++i) {
    if (lua_rawgeti(L, -1, i) != LUA_TSTRING) fail_field(t, key, "list of strings expected");
    out.emplace_back(lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return out;
}

std::optional<Id> Args::opt_field_object(int t, const char* key, const Type& type) {
  const int lt = push_field(t, key);
  std::optional<Id> out;
  if (lt == LUA_TNUMBER && lua_isinteger(L, -1)) {
    out = lua_tointeger(L, -1);
  } else if (lt != LUA_TNIL) {
    void* p = luaL_testudata(L, -1, type.name);
    if (!p) {
      std::string got = type_name(-1);
      lua_pop(L, 1);
      fail_field(t, key, std::string(type.name) + " or id expected, got " + got);
    }
    out = *static_cast<Id*>(p);
  }
  lua_pop(L, 1);
  return out;
}

Id Args::field_object(int t, const char* key, const Type& type) {
  auto id = opt_field_object(t, key, type);
  if (!id) fail_field(t, key, std::string(type.name) + " expected, got nil");
  return *id;
}

Instant days_from_now(Args& a, int t, const char* key, std::int64_t days) {
  constexpr std::int64_t kMaxWaitDays = 3660;
  if (days < 0 || days > kMaxWaitDays) a.fail_field(t, key, "must be 0 to 3660 days");
  return host(a.L).engine.clock.now() + std::chrono::days(days);
}

}  // namespace casekit::lua
