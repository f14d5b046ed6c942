// What a script's environment holds: the allow-listed globals (a fresh table per
// environment), the standard libraries and binding modules as read-only tables shared by
// every environment of a state, built on first use, and strict lookups both ways.
#include <cstring>

#include "bindings/journal.hpp"
#include "bindings/modules.hpp"
#include "engine/runtime/deterministic.hpp"
#include "engine/runtime/safe_stdlib.hpp"
#include "engine/runtime/sandbox_internal.hpp"

namespace casekit {

using namespace sandbox;

namespace {

// xpcall(f, handler, ...): Lua runs a message handler before unwinding, and if the error
// was raised by a hook it runs with hooks switched off (Lua clears allowhook while a hook
// runs and only pcall restores it), so a looping handler could escape the instruction
// budget. This version runs f under pcall and calls the handler afterwards, as ordinary
// code; after a sandbox kill it does not call the handler at all. It is yieldable (a
// procedure may wait inside it), hence the continuation.
int xpcall_finish(lua_State* L, int, lua_KContext) {
  // Stack: [handler, ok, results or error...]
  if (lua_toboolean(L, 2)) return lua_gettop(L) - 1;
  if (!budget_of(L).killed.empty()) {
    lua_pushvalue(L, 3);
    return lua_error(L);
  }
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 3);
  lua_call(L, 1, 1);
  lua_pushboolean(L, 0);
  lua_insert(L, -2);
  return 2;
}

int sandbox_xpcall(lua_State* L) {
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_pushvalue(L, 2);
  lua_insert(L, 1);  // handler below f
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 2);  // pcall below f: [handler, pcall, f, handler(dup), args...]
  lua_remove(L, 4);
  lua_callk(L, lua_gettop(L) - 2, LUA_MULTRET, 0, xpcall_finish);
  return xpcall_finish(L, LUA_OK, 0);
}

int sandbox_print(lua_State* L) {
  const int n = lua_gettop(L);
  luaL_Buffer buf;
  luaL_buffinit(L, &buf);
  for (int i = 1; i <= n; ++i) {
    if (i > 1) luaL_addchar(&buf, '\t');
    luaL_tolstring(L, i, nullptr);
    luaL_addvalue(&buf);
  }
  luaL_pushresult(&buf);
  lua::Host* h = *static_cast<lua::Host**>(lua_getextraspace(L));
  // A replayed instance printed this already, when it ran live; an upgrade check only replays.
  if (h && h->journal && (h->journal->replaying() || h->journal->verify_only())) return 0;
  if (h && h->print) h->print(lua_tostring(L, -1));
  return 0;
}

// A read-only view of a library table: reads pass through, writes raise.
int readonly_newindex(lua_State* L) {
  return luaL_error(L, "attempt to modify read-only table '%s'",
                    lua_tostring(L, lua_upvalueindex(1)));
}

int readonly_pairs(lua_State* L) {
  return push_ordered_iteration(L, lua_upvalueindex(1));
}

// Replaces the table at the top of the stack with a read-only proxy of it.
void make_readonly(lua_State* L, const char* name) {
  const int real = lua_gettop(L);
  lua_createtable(L, 0, 0);
  lua_createtable(L, 0, 4);
  lua_pushvalue(L, real);
  lua_setfield(L, -2, "__index");
  lua_pushstring(L, name);
  lua_pushcclosure(L, readonly_newindex, 1);
  lua_setfield(L, -2, "__newindex");
  lua_pushvalue(L, real);
  lua_pushcclosure(L, readonly_pairs, 1);
  lua_setfield(L, -2, "__pairs");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_replace(L, real);
}

// The standard libraries a script may name. `string` is opened at setup (it also gives
// strings their methods); the others on first use.
struct Library {
  const char* name;
  lua_CFunction open;  // nullptr: already open, kept in the registry
};
constexpr Library kLibraries[] = {
    {"string", nullptr}, {"table", luaopen_table}, {"math", luaopen_math}, {"utf8", luaopen_utf8}};

// Pushes the library or binding module a global name stands for; false if none.
bool push_library(lua_State* L, const char* name) {
  for (const auto& lib : kLibraries) {
    if (std::strcmp(name, lib.name) != 0) continue;
    if (!lib.open) {
      lua_getfield(L, LUA_REGISTRYINDEX, kStringLibrary);
      return true;
    }
    lua_pushcfunction(L, lib.open);
    lua_call(L, 0, 1);
    if (lib.open == luaopen_table) {
      lua_pushcfunction(L, stable_sort);
      lua_setfield(L, -2, "sort");
    }
    if (lib.open == luaopen_math) {
      // Procedures must replay identically; randomness will come from the engine.
      lua_pushnil(L);
      lua_setfield(L, -2, "random");
      lua_pushnil(L);
      lua_setfield(L, -2, "randomseed");
    }
    return true;
  }
  if (!*static_cast<lua::Host**>(lua_getextraspace(L))) return false;
  for (const lua::Module* m : lua::all_modules()) {
    if (std::strcmp(m->name, name) == 0) {
      lua::push_module(L, *m);
      return true;
    }
  }
  return false;
}

// Unknown globals are errors, both ways: a typo in a policy script fails at the line with
// the typo rather than quietly reading nil.
//
// Libraries and binding modules are built here, the first time a script names one, and
// then stored in the environment (read-only): an activation pays only for what it uses.
//
// Read-only as they are, the same tables serve every environment of the state: a reused
// sandbox's next instance finds them built.
int strict_index(lua_State* L) {
  if (lua_type(L, 2) == LUA_TSTRING) {
    lua_getfield(L, LUA_REGISTRYINDEX, kSharedLibraries);
    lua_pushvalue(L, 2);
    if (lua_rawget(L, -2) == LUA_TNIL) {
      lua_pop(L, 1);
      if (!push_library(L, lua_tostring(L, 2))) {
        return luaL_error(L, "unknown global '%s'", lua_tostring(L, 2));
      }
      make_readonly(L, lua_tostring(L, 2));
      lua_pushvalue(L, 2);
      lua_pushvalue(L, -2);
      lua_rawset(L, -4);
    }
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);  // env[name] = library, so the next use is a plain lookup
    return 1;
  }
  return luaL_error(L, "unknown global '%s'", luaL_tolstring(L, 2, nullptr));
}

int strict_newindex(lua_State* L) {
  return luaL_error(L, "assignment to global '%s'; declare it local",
                    luaL_tolstring(L, 2, nullptr));
}

const lua::GlobalDoc kGlobals[] = {
    {"assert, error, pcall", "As in Lua 5.4. A sandbox limit cannot be caught by pcall."},
    {"xpcall",
     "As in Lua 5.4, except that the handler runs after the stack has unwound "
     "(there is no debug library to inspect it with anyway), and not after a sandbox "
     "limit."},
    {"ipairs, select, type", "As in Lua 5.4."},
    {"pairs, next",
     "Visit keys in a fixed order: numbers ascending, then strings (bytewise), then false, "
     "true, then engine objects by type and id; the same in every run and process, so "
     "procedures replay. A table keyed by tables or functions cannot be iterated."},
    {"tonumber, tostring", "As in Lua 5.4."},
    {"rawequal, rawget, rawlen", "As in Lua 5.4 (no rawset)."},
    {"getmetatable, setmetatable", "As in Lua 5.4, but a metatable with `__gc` is refused."},
    {"print", "Writes to the script's output (stdout for `casekit exec`)."},
    {"require",
     "Loads `name` from procedures/lib or scripts/lib as source text; dots are folders."},
    {"string",
     "Read-only. No `dump`. `rep` refuses results over the memory cap; `find`, `match`, "
     "`gmatch` and `gsub` refuse patterns whose worst-case cost on that subject is too high."},
    {"table",
     "Read-only, as in Lua 5.4, except that `sort` is a stable merge sort (equal elements "
     "keep their order; the result never depends on chance)."},
    {"procedure{...}",
     "Declares a procedure: `return procedure{name=, run=function(ctx) ... end}` "
     "(docs/procedures-guide.md)."},
    {"wait{days=} / wait{at=}",
     "In a procedure instance: waits N calendar days, or until a date (midnight UTC) or "
     "instant. Returns `{fired_at=}`. (`until` is a Lua keyword: `wait{[\"until\"]=d}` "
     "also works.)"},
    {"math", "Read-only. No `random` or `randomseed` (procedures must be deterministic)."},
    {"utf8", "Read-only, as in Lua 5.4."},
    {"_VERSION", "\"Lua 5.4\"."},
};

}  // namespace

std::span<const lua::GlobalDoc> sandbox_globals() {
  return kGlobals;
}

SandboxSurface sandbox_surface() {
  // Asked of a real sandbox, so the linter cannot drift from the allow-list.
  Sandbox sandbox({}, {}, nullptr);
  lua_State* L = sandbox.state();
  sandbox.load(R"lua(
    for _, name in ipairs({...}) do local _ = _G[name] end  -- open each lazy library
    local out = {}
    for name, value in pairs(_G) do
      local members = {}
      if type(value) == "table" and name ~= "_G" then
        for member in pairs(value) do members[#members + 1] = member end
      end
      out[#out + 1] = {name, members}
    end
    return out
  )lua",
               "surface.lua");
  for (const auto& lib : kLibraries) lua_pushstring(L, lib.name);
  sandbox.call(static_cast<int>(std::size(kLibraries)), 1);
  SandboxSurface surface;
  const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, -1));
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, -1, i);
    lua_rawgeti(L, -1, 1);
    const std::string name = lua_tostring(L, -1);
    lua_pop(L, 1);
    surface.globals.insert(name);
    lua_rawgeti(L, -1, 2);
    const lua_Integer m = static_cast<lua_Integer>(lua_rawlen(L, -1));
    for (lua_Integer j = 1; j <= m; ++j) {
      lua_rawgeti(L, -1, j);
      if (lua_type(L, -1) == LUA_TSTRING) surface.libraries[name].insert(lua_tostring(L, -1));
      lua_pop(L, 1);
    }
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
  return surface;
}

void Sandbox::install_globals() {
  lua_State* L = L_;
  // Setup allocates a few hundred small objects that all stay alive; collecting while
  // building them is wasted work.
  lua_gc(L, LUA_GCSTOP);
  // Setup runs unprotected; with the C++ build of Lua, an allocation failure here
  // surfaces as an exception that the constructor turns into a clean failure.
  lua_pushcfunction(L, luaopen_base);
  lua_call(L, 0, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, kBaseLibrary);
  // The string library is opened now because it also gives strings their methods.
  lua_pushcfunction(L, luaopen_string);
  lua_call(L, 0, 1);
  harden_string_library(L, -1, budget_->limit);
  lua_setfield(L, LUA_REGISTRYINDEX, kStringLibrary);

  // Every environment shares one metatable: unknown globals are errors both ways.
  lua_createtable(L, 0, 3);
  lua_pushcfunction(L, strict_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, strict_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setfield(L, LUA_REGISTRYINDEX, kEnvironmentMeta);
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, kSharedLibraries);
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, kModuleChunks);

  new_environment();
  lua_gc(L, LUA_GCRESTART);
}

void Sandbox::new_environment() {
  lua_State* L = L_;
  lua_getfield(L, LUA_REGISTRYINDEX, kBaseLibrary);
  const int base = lua_gettop(L);
  // The new global environment: only what is listed here, plus the libraries and modules
  // strict_index adds on first use.
  lua_createtable(L, 0, 24);
  const int env = lua_gettop(L);
  static constexpr const char* kBase[] = {
      "assert", "error",    "ipairs", "pcall",  "select",       "tonumber", "tostring",
      "type",   "rawequal", "rawget", "rawlen", "getmetatable", "_VERSION"};
  for (const char* name : kBase) {
    lua_getfield(L, base, name);
    lua_setfield(L, env, name);
  }
  lua_pushcfunction(L, ordered_pairs);
  lua_setfield(L, env, "pairs");
  lua_pushcfunction(L, ordered_next);
  lua_setfield(L, env, "next");
  lua::open_procedure_globals(L, env);
  lua_getfield(L, base, "setmetatable");
  lua_pushcclosure(L, safe_setmetatable, 1);
  lua_setfield(L, env, "setmetatable");
  lua_getfield(L, base, "pcall");
  lua_pushcclosure(L, sandbox_xpcall, 1);
  lua_setfield(L, env, "xpcall");
  lua_pushcfunction(L, sandbox_print);
  lua_setfield(L, env, "print");
  lua_pushcfunction(L, sandbox::require);
  lua_setfield(L, env, "require");
  lua_pushvalue(L, env);
  lua_setfield(L, env, "_G");
  lua_getfield(L, LUA_REGISTRYINDEX, kEnvironmentMeta);
  lua_setmetatable(L, env);

  // Chunks loaded from now on see `env` as _ENV; the original globals become unreachable.
  lua_pushvalue(L, env);
  lua_rawseti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  // Modules are required afresh in each environment.
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, kLoaded);
  lua_settop(L, base - 1);
}

void Sandbox::set_global(const char* name) {
  lua_rawgeti(L_, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_pushstring(L_, name);
  lua_pushvalue(L_, -3);
  lua_rawset(L_, -3);  // raw: the environment's __newindex refuses scripts' globals
  lua_pop(L_, 2);
}

}  // namespace casekit
