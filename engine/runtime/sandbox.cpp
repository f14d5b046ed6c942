// The sandbox's lifecycle: a state is built with its budget and globals, loads and calls
// chunks or resumes a procedure's coroutine (failures become ScriptError with a
// traceback), and is renewed with a fresh environment for the next instance.
#include "engine/runtime/sandbox_internal.hpp"

namespace casekit {

using namespace sandbox;

namespace {

int traceback_handler(lua_State* L) {
  luaL_tolstring(L, 1, nullptr);
  luaL_traceback(L, L, lua_tostring(L, -1), 1);
  return 1;
}

}  // namespace

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

void Sandbox::put_aside(lua_State* co) {
  lua_pushnil(L_);
  lua_rawsetp(L_, LUA_REGISTRYINDEX, co);
  lua::set_host(L_, nullptr);
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

}  // namespace casekit
