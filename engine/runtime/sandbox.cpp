#include "engine/runtime/sandbox.hpp"

#include <cstdlib>
#include <cstring>
#include <fstream>

#include "engine/bindings/journal.hpp"
#include "engine/bindings/modules.hpp"
#include "engine/runtime/deterministic.hpp"
#include "engine/runtime/safe_stdlib.hpp"

namespace casekit {

struct Sandbox::Budget {
  std::size_t used = 0;
  std::size_t limit = 0;
  bool memory_exceeded = false;
  std::uint64_t instructions = 0;
  std::uint64_t instruction_limit = 0;
  // Set once a limit has killed the script; the hook then fails every instruction.
  std::string killed;
  std::vector<LibraryDir> libraries;
  ChunkCache* chunks = nullptr;
  // The text of each library module this state has loaded, by chunk name; its function is
  // kept in the registry (kModuleChunks).
  std::unordered_map<std::string, std::string> module_texts;
};

namespace {

// Instructions between two hook calls: small enough to stop a loop promptly, large enough
// that the hook costs nothing measurable.
constexpr int kHookInterval = 1000;
// Room left after the cap is hit so that the error and its traceback can still be built.
constexpr std::size_t kHeadroom = 1u << 20;
constexpr std::size_t kMaxScriptBytes = 4u << 20;

// Registry keys.
constexpr const char* kStringLibrary = "casekit.string";
constexpr const char* kBaseLibrary = "casekit.base";
constexpr const char* kEnvironmentMeta = "casekit.environment";
constexpr const char* kLoaded = "casekit.loaded";  // require's cache, one per environment
constexpr const char* kProcedureMain = "casekit.main";
constexpr const char* kModuleChunks = "casekit.modules";
// The read-only library and module tables built so far, by global name.
constexpr const char* kSharedLibraries = "casekit.libraries";

void* budget_alloc(void* ud, void* ptr, std::size_t osize, std::size_t nsize) {
  auto* b = static_cast<Sandbox::Budget*>(ud);
  const std::size_t old = ptr ? osize : 0;
  if (nsize == 0) {
    std::free(ptr);
    b->used -= old;
    return nullptr;
  }
  if (nsize > old) {
    const std::size_t cap = b->memory_exceeded ? b->limit + kHeadroom : b->limit;
    if (b->used - old + nsize > cap) {
      b->memory_exceeded = true;
      return nullptr;
    }
  }
  void* p = std::realloc(ptr, nsize);
  if (!p) return nullptr;
  b->used = b->used - old + nsize;
  return p;
}

Sandbox::Budget& budget_of(lua_State* L) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  return *static_cast<Sandbox::Budget*>(ud);
}

void push_position(lua_State* L) {
  lua_Debug ar;
  if (lua_getstack(L, 0, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
    lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
  } else {
    lua_pushliteral(L, "");
  }
}

void count_hook(lua_State* L, lua_Debug*) {
  auto& b = budget_of(L);
  if (b.killed.empty()) {
    b.instructions += kHookInterval;
    if (b.memory_exceeded) {
      b.killed = "memory limit of " + std::to_string(b.limit >> 20) + " MiB exceeded";
    } else if (b.instructions > b.instruction_limit) {
      b.killed = "instruction budget of " + std::to_string(b.instruction_limit) + " exhausted";
    }
    if (b.killed.empty()) return;
    // From now on every instruction fails, so a pcall that catches this error gets
    // nowhere: the next instruction after it raises again.
    lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
  }
  push_position(L);
  lua_pushstring(L, b.killed.c_str());
  lua_concat(L, 2);
  lua_error(L);
}

int traceback_handler(lua_State* L) {
  luaL_tolstring(L, 1, nullptr);
  luaL_traceback(L, L, lua_tostring(L, -1), 1);
  return 1;
}

bool valid_module_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || name.front() == '.' || name.back() == '.') return false;
  char prev = '.';
  for (char c : name) {
    const bool word = std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    if (!word && c != '.') return false;
    if (c == '.' && prev == '.') return false;
    prev = c;
  }
  return true;
}

// The function on top of the stack as bytecode, debug information kept (errors name lines).
std::string bytecode_of_top(lua_State* L) {
  std::string out;
  lua_dump(
      L,
      [](lua_State*, const void* p, size_t n, void* ud) {
        static_cast<std::string*>(ud)->append(static_cast<const char*>(p), n);
        return 0;
      },
      &out, 0);
  return out;
}

// A main chunk's first upvalue is its _ENV: points that of the chunk on top of the stack at
// the sandbox's current globals, as loading from source does.
void point_env_at_globals(lua_State* L) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
}

// Pushes the function compiled (by us, never bytecode from outside) into `bytecode`, or its
// error message and returns false.
bool load_bytecode(lua_State* L, std::string_view bytecode, const std::string& chunkname) {
  if (luaL_loadbufferx(L, bytecode.data(), bytecode.size(), chunkname.c_str(), "b") != LUA_OK)
    return false;
  point_env_at_globals(L);
  return true;
}

// Pushes the compiled module, or its error message and returns false. A module found in
// the cache is loaded from the bytecode our own compiler made of the same text.
bool load_module(lua_State* L, ChunkCache* cache, const std::string& source,
                 const std::string& chunkname) {
  if (const std::string* bytecode = cache ? cache->find(source) : nullptr) {
    return load_bytecode(L, *bytecode, chunkname);
  }
  if (luaL_loadbufferx(L, source.data(), source.size(), chunkname.c_str(), "t") != LUA_OK)
    return false;
  if (cache) cache->keep(source, bytecode_of_top(L));
  return true;
}

// The text of a library file, or nullopt if there is none; through the runtime's cache
// when there is one.
std::optional<std::string> library_text(ChunkCache* cache, const std::filesystem::path& file) {
  if (cache) {
    const std::string* text = cache->read(file);
    return text ? std::optional(*text) : std::nullopt;
  }
  if (!std::filesystem::is_regular_file(file)) return std::nullopt;
  return read_script(file);
}

// Pushes the module's chunk, loaded before by this state from the same text, pointed at the
// current environment; false, pushing nothing, if there is none. A chunk run again makes a
// fresh module, as one loaded afresh would (the instance that ran it before is gone).
bool push_kept_module(lua_State* L, const std::string& chunkname, const std::string& source) {
  auto& kept = budget_of(L).module_texts;
  const auto it = kept.find(chunkname);
  if (it == kept.end() || it->second != source) return false;
  lua_getfield(L, LUA_REGISTRYINDEX, kModuleChunks);
  lua_getfield(L, -1, chunkname.c_str());
  lua_remove(L, -2);
  point_env_at_globals(L);
  return true;
}

// Keeps the chunk on top of the stack (left there) for push_kept_module.
void keep_module(lua_State* L, const std::string& chunkname, std::string source) {
  lua_getfield(L, LUA_REGISTRYINDEX, kModuleChunks);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, chunkname.c_str());
  lua_pop(L, 1);
  budget_of(L).module_texts.insert_or_assign(chunkname, std::move(source));
}

// require(name): only modules under the sandbox's library folders, as source text.
int sandbox_require(lua_State* L) {
  const char* name = luaL_checkstring(L, 1);
  if (!valid_module_name(name)) {
    return luaL_error(L, "require: bad module name '%s' (use letters, digits, _ and dots)", name);
  }
  lua_getfield(L, LUA_REGISTRYINDEX, kLoaded);
  if (lua_getfield(L, -1, name) != LUA_TNIL) {
    if (lua_type(L, -1) == LUA_TLIGHTUSERDATA)
      return luaL_error(L, "require: '%s' requires itself", name);
    return 1;
  }
  lua_pop(L, 1);
  const int loaded = lua_gettop(L);
  std::string relative(name);
  for (char& c : relative) {
    if (c == '.') c = '/';
  }
  relative += ".lua";
  auto& b = budget_of(L);
  std::string tried;
  for (const auto& lib : b.libraries) {
    std::optional<std::string> source;
    try {
      source = library_text(b.chunks, lib.dir / relative);
    } catch (const std::exception& e) {
      return luaL_error(L, "require: %s", e.what());
    }
    if (!source) {
      tried += "\n\tno file " + lib.display + "/" + relative;
      continue;
    }
    const std::string chunkname = "@" + lib.display + "/" + relative;
    if (!push_kept_module(L, chunkname, *source)) {
      if (!load_module(L, b.chunks, *source, chunkname)) return lua_error(L);
      keep_module(L, chunkname, std::move(*source));
    }
    lua_pushlightuserdata(L, &b);  // a marker: "being loaded", to catch cycles
    lua_setfield(L, loaded, name);
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, loaded, name);
    return 1;
  }
  return luaL_error(L, "require: module '%s' not found:%s", name, tried.c_str());
}

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

std::string read_script(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    throw Error(ErrorCode::not_found, "script not found: " + file.string());
  }
  if (std::filesystem::file_size(file, ec) > kMaxScriptBytes) {
    throw Error(ErrorCode::bad_argument, file.string() + ": script larger than 4 MiB");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorCode::io, "cannot read " + file.string());
  std::string text;
  char buffer[16384];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) text.append(buffer, in.gcount());
  if (in.bad()) throw Error(ErrorCode::io, "cannot read " + file.string());
  return text;
}

const std::string* ChunkCache::read(const std::filesystem::path& path) {
  if (!holding_) {
    unheld_ =
        std::filesystem::is_regular_file(path) ? std::optional(read_script(path)) : std::nullopt;
    return unheld_ ? &*unheld_ : nullptr;
  }
  auto it = files_.find(path.native());
  if (it == files_.end()) {
    std::optional<std::string> text;
    if (std::filesystem::is_regular_file(path)) text = read_script(path);
    it = files_.emplace(path.native(), std::move(text)).first;
  }
  return it->second ? &*it->second : nullptr;
}

void ChunkCache::hold_files(bool hold) {
  holding_ = hold;
  if (!hold) files_.clear();
}

Sandbox::Sandbox(const SandboxLimits& limits, std::vector<LibraryDir> libraries, lua::Host* host)
    : budget_(std::make_unique<Budget>()) {
  budget_->limit = limits.memory_bytes;
  budget_->instruction_limit = limits.instructions;
  budget_->libraries = std::move(libraries);
  L_ = lua_newstate(budget_alloc, budget_.get());
  if (!L_) throw Error(ErrorCode::limit, "cannot create a Lua state within the memory limit");
  lua::set_host(L_, host);
  try {
    install_globals();
  } catch (...) {
    // With the C++ build of Lua, a failed allocation during setup arrives here as Lua's own
    // exception type, which no caller knows; report it as the limit it is.
    lua_close(L_);
    L_ = nullptr;
    throw Error(ErrorCode::limit, "cannot set up a sandbox within the memory limit of " +
                                      std::to_string(limits.memory_bytes) + " bytes");
  }
  lua_sethook(L_, count_hook, LUA_MASKCOUNT, kHookInterval);
}

Sandbox::~Sandbox() {
  if (L_) lua_close(L_);  // runs no script code: __gc metamethods are refused
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
  lua_pushcfunction(L, sandbox_require);
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

void Sandbox::cache_libraries_in(ChunkCache* cache) {
  budget_->chunks = cache;
}

void Sandbox::load(std::string_view source, const std::string& chunkname) {
  const std::string name = "@" + chunkname;
  const int rc = luaL_loadbufferx(L_, source.data(), source.size(), name.c_str(), "t");
  if (rc != LUA_OK) {
    std::string message = lua_tostring(L_, -1) ? lua_tostring(L_, -1) : "cannot load script";
    lua_pop(L_, 1);
    if (message.find("attempt to load a binary chunk") != std::string::npos) {
      message = chunkname + ": binary (precompiled) chunks are refused; load source text";
    }
    throw ScriptError(rc == LUA_ERRMEM ? ErrorCode::limit : ErrorCode::script, message, "");
  }
}

std::string Sandbox::dump_function() {
  return bytecode_of_top(L_);
}

void Sandbox::load_own_bytecode(std::string_view bytecode, const std::string& chunkname) {
  if (!load_bytecode(L_, bytecode, "@" + chunkname)) {
    std::string message = lua_tostring(L_, -1) ? lua_tostring(L_, -1) : "cannot load chunk";
    lua_pop(L_, 1);
    throw ScriptError(ErrorCode::limit, message, "");
  }
}

void Sandbox::call(int nargs, int nresults) {
  const int func = lua_gettop(L_) - nargs;
  lua_pushcfunction(L_, traceback_handler);
  lua_insert(L_, func);
  const int rc = lua_pcall(L_, nargs, nresults, func);
  lua_remove(L_, func);
  if (rc == LUA_OK) return;
  std::string traceback = lua_tostring(L_, -1) ? lua_tostring(L_, -1) : "";
  lua_pop(L_, 1);
  fail(rc, std::move(traceback));
}

lua_State* Sandbox::new_thread() {
  lua_State* co = lua_newthread(L_);
  // Anchored in the registry for the sandbox's lifetime.
  lua_rawsetp(L_, LUA_REGISTRYINDEX, co);
  return co;
}

Sandbox::Resume Sandbox::resume(lua_State* co, int nargs, int* nresults) {
  const int rc = lua_resume(co, nullptr, nargs, nresults);
  if (rc == LUA_YIELD) return Resume::yielded;
  if (rc == LUA_OK) return Resume::finished;
  luaL_traceback(L_, co, luaL_tolstring(co, -1, nullptr), 0);
  std::string traceback = lua_tostring(L_, -1) ? lua_tostring(L_, -1) : "";
  lua_pop(L_, 1);
  lua_settop(co, 0);
  fail(rc, std::move(traceback));
}

void Sandbox::start_activation() {
  budget_->instructions = 0;
}

void Sandbox::keep_main() {
  lua_pushvalue(L_, -1);
  lua_setfield(L_, LUA_REGISTRYINDEX, kProcedureMain);
}

bool Sandbox::push_main() {
  if (lua_getfield(L_, LUA_REGISTRYINDEX, kProcedureMain) != LUA_TFUNCTION) {
    lua_pop(L_, 1);
    return false;
  }
  // The previous run's closures share this upvalue, but the instance that made them will
  // not run in this sandbox again.
  point_env_at_globals(L_);
  return true;
}

bool Sandbox::reusable() const {
  // Garbage left by earlier instances counts against the memory cap until collected; past
  // this a new sandbox is cheaper than a full collection.
  constexpr std::size_t kReuseBelow = 4u << 20;
  return budget_->killed.empty() && !budget_->memory_exceeded && budget_->used < kReuseBelow;
}

void Sandbox::renew(lua::Host* host) {
  lua::set_host(L_, host);
  try {
    new_environment();
  } catch (...) {
    // As in the constructor: Lua's own exception type, from a failed allocation.
    throw Error(ErrorCode::limit, "cannot renew a sandbox within the memory limit");
  }
  budget_->instructions = 0;
}

void Sandbox::drop_thread(lua_State* co) {
  lua_pushnil(L_);
  lua_rawsetp(L_, LUA_REGISTRYINDEX, co);
}

void Sandbox::fail(int rc, std::string traceback) {
  std::string message = traceback.substr(0, traceback.find("\nstack traceback:"));
  ErrorCode code = ErrorCode::script;
  if (!budget_->killed.empty() || budget_->memory_exceeded || rc == LUA_ERRMEM) {
    code = ErrorCode::limit;
    if (budget_->killed.empty()) {
      budget_->killed = "memory limit of " + std::to_string(budget_->limit >> 20) + " MiB exceeded";
    }
    if (message.find(budget_->killed) == std::string::npos) message = budget_->killed;
  } else if (message.find("stack overflow") != std::string::npos) {
    code = ErrorCode::limit;
  }
  throw ScriptError(code, message, traceback);
}

void Sandbox::run_file(const std::filesystem::path& file, const std::string& display) {
  load(read_script(file), display);
  call(0, 0);
}

std::size_t Sandbox::memory_used() const {
  return budget_->used;
}

std::uint64_t Sandbox::instructions_used() const {
  return budget_->instructions;
}

}  // namespace casekit
