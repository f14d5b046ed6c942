#include "engine/bindings/support.hpp"

#include <cmath>

#include "engine/bindings/journal.hpp"

namespace casekit::lua {

void set_host(lua_State* L, Host* h) {
  *static_cast<Host**>(lua_getextraspace(L)) = h;
}

Host& host(lua_State* L) {
  Host* h = *static_cast<Host**>(lua_getextraspace(L));
  if (!h) throw Error(ErrorCode::internal, "binding called outside an engine sandbox");
  return *h;
}

// ---- errors ---------------------------------------------------------------------------------

namespace {

constexpr const char* kErrorMeta = "casekit.error";

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
  if (luaL_newmetatable(L, kErrorMeta)) {
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
  luaL_setmetatable(L, kErrorMeta);
}

std::string qualified_name(lua_State* L) {
  const char* name = lua_tostring(L, lua_upvalueindex(1));
  return name ? name : "?";
}

// ---- the dispatcher ---------------------------------------------------------------------------

namespace {

// A binding's outcome: its result count, or the error to raise once the C++ exception is
// finished with.
struct Outcome {
  int results = 0;
  std::optional<std::pair<std::string, std::string>> error;  // code name, message
};

template <typename F>
Outcome guarded(lua_State* L, F&& run) {
  try {
    return {run(), std::nullopt};
  } catch (const ArgError& e) {
    return {0, std::pair{std::string(code_name(e.code())), std::string(e.what())}};
  } catch (const Error& e) {
    return {0, std::pair{std::string(code_name(e.code())), qualified_name(L) + ": " + e.what()}};
  } catch (const std::exception& e) {
    return {0, std::pair{std::string(code_name(ErrorCode::internal)),
                         qualified_name(L) + ": " + e.what()}};
  }
}

// Raised outside any catch block, so the C++ exception is finished with before Lua unwinds
// (and so this is correct for a longjmp build of Lua too).
int raise(lua_State* L, const std::pair<std::string, std::string>& error) {
  push_error(L, error.first.c_str(), error.second);
  return lua_error(L);
}

Replay replay_mode(lua_State* L) {
  // Module functions carry their mode as a second upvalue; object methods and properties
  // read the store and are always recorded.
  return lua_isinteger(L, lua_upvalueindex(2))
             ? static_cast<Replay>(lua_tointeger(L, lua_upvalueindex(2)))
             : Replay::record;
}

Journal* journal_of(lua_State* L) {
  Host* h = *static_cast<Host**>(lua_getextraspace(L));
  return h ? h->journal : nullptr;
}

int raise_halted(lua_State* L, const Journal& journal) {
  return raise(L, {code_name(ErrorCode::script), journal.halt_message()});
}

// Pushes a recorded result (an array of values) or raises the recorded error.
int push_recorded(lua_State* L, const std::string& result) {
  if (result.starts_with('{')) {
    push_json_text(L, result);  // an error table
    return lua_error(L);
  }
  return push_json_values(L, result);
}

// What identifies a call in the journal: the function, its arguments (as JSON) and the
// script line it was made from.
struct Call {
  std::string name;
  std::string args;
  std::string line;
};

Outcome describe(lua_State* L, Call& call) {
  return guarded(L, [&] {
    call.name = qualified_name(L);
    call.args = values_to_text(L, 1);  // throws for a value that cannot be recorded
    call.line = script_line(L);
    if (call.line.empty()) call.line = "?";
    return 0;
  });
}

// Where a call stands against the journal: replayed (its recorded twin), halted (a
// divergence, or the end of a verify-only replay), or neither: run it live.
struct Step {
  const Command* recorded = nullptr;
  bool halted = false;
};

Step step_of(Journal& journal, const Call& call) {
  if (journal.replaying()) {
    const Command* recorded = journal.match(call.name, call.args, call.line);
    return {recorded, recorded == nullptr};
  }
  if (journal.verify_only()) {
    journal.stop_at_end();
    return {nullptr, true};
  }
  return {};
}

int journaled_call(lua_State* L, Journal& journal, int (*impl)(Args&)) {
  if (journal.halted()) return raise_halted(L, journal);
  Call call;
  if (const auto error = describe(L, call).error) return raise(L, *error);
  const Step step = step_of(journal, call);
  if (step.halted) return raise_halted(L, journal);
  if (step.recorded) return push_recorded(L, step.recorded->result.value_or("[]"));
  Outcome out = guarded(L, [&] {
    Args a(L);
    return impl(a);
  });
  if (out.error) {
    const nlohmann::json e = {
        {"$error", {{"code", out.error->first}, {"message", out.error->second}}}};
    journal.record(std::move(call.name), std::move(call.args), dump(e), std::move(call.line));
    return raise(L, *out.error);
  }
  Outcome recorded = guarded(L, [&] {
    journal.record(std::move(call.name), std::move(call.args),
                   values_to_text(L, lua_gettop(L) - out.results + 1), std::move(call.line));
    return 0;
  });
  if (recorded.error) return raise(L, *recorded.error);
  return out.results;
}

}  // namespace

int call_binding(lua_State* L, int (*impl)(Args&)) {
  if (Journal* journal = journal_of(L)) {
    switch (replay_mode(L)) {
      case Replay::record:
        return journaled_call(L, *journal, impl);
      case Replay::skip:
        if (journal->replaying()) return 0;
        break;
      case Replay::pure:
        break;
    }
  }
  Outcome out = guarded(L, [&] {
    Args a(L);
    return impl(a);
  });
  if (out.error) return raise(L, *out.error);
  return out.results;
}

int call_wait(lua_State* L, PendingWait (*impl)(Args&)) {
  Journal* journal = journal_of(L);
  if (!journal) {
    return raise(L, {code_name(ErrorCode::invalid), qualified_name(L) +
                                                        ": only a procedure instance can wait "
                                                        "(this script is not running as one)"});
  }
  if (journal->halted()) return raise_halted(L, *journal);
  Call call;
  if (const auto error = describe(L, call).error) return raise(L, *error);
  const Step step = step_of(*journal, call);
  if (step.halted) return raise_halted(L, *journal);
  if (step.recorded) {
    if (step.recorded->result) return push_recorded(L, *step.recorded->result);
    // Still pending: the instance is waiting here, exactly as a warm one would be.
    return lua_yield(L, 0);
  }
  PendingWait wait;
  Outcome out = guarded(L, [&] {
    Args a(L);
    wait = impl(a);
    return 0;
  });
  if (out.error) return raise(L, *out.error);
  if (wait.ready) {
    // Recorded as an ordinary call: a replay returns the same result without waiting.
    journal->record(std::move(call.name), std::move(call.args), *wait.ready, std::move(call.line));
    return push_recorded(L, *wait.ready);
  }
  journal->record(std::move(call.name), std::move(call.args), std::nullopt, std::move(call.line));
  wait.seq = journal->history().back().seq;
  journal->pending = std::move(wait);
  return lua_yield(L, 0);
}

// ---- objects ------------------------------------------------------------------------------

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

void push_closure(lua_State* L, const char* type, const char* separator, const char* name,
                  lua_CFunction fn) {
  lua_pushfstring(L, "%s%s%s", type, separator, name);
  lua_pushcclosure(L, fn, 1);
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
    push_closure(L, type.name, ":", m.name, m.fn);
    lua_setfield(L, -2, m.name);
  }
  lua_createtable(L, 0, static_cast<int>(type.properties.size()));
  for (const auto& p : type.properties) {
    push_closure(L, type.name, ".", p.name, p.get);
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

void push_module(lua_State* L, const Module& module) {
  lua_createtable(L, 0, static_cast<int>(module.functions.size()));
  for (const auto& f : module.functions) {
    lua_pushfstring(L, "%s.%s", module.name, f.name);
    lua_pushinteger(L, static_cast<lua_Integer>(f.replay));
    lua_pushcclosure(L, f.fn, 2);
    lua_setfield(L, -2, f.name);
  }
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

// ---- arguments ----------------------------------------------------------------------------

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

void Args::table(int i, const char* name, std::initializer_list<const char*> allowed) {
  if (lua_type(L, i) != LUA_TTABLE)
    fail(i, name, std::string("table expected, got ") + type_name(i));
  const int t = lua_absindex(L, i);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    bool known = false;
    if (lua_type(L, -1) == LUA_TSTRING) {
      const char* key = lua_tostring(L, -1);
      for (const char* a : allowed) known = known || std::string_view(a) == key;
    }
    if (!known) {
      std::string key = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : type_name(-1);
      std::string expected;
      for (const char* a : allowed) expected += (expected.empty() ? "" : ", ") + std::string(a);
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

}  // namespace casekit::lua
