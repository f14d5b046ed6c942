// The sandbox a script runs in: a Lua state with a fresh environment per instance (renew),
// holding only allow-listed globals, with a memory cap (through the state's allocator) and an
// instruction budget (through a count hook that re-arms, so pcall cannot swallow the kill).
//
// engine/runtime/ and bindings/ are the layers that talk to the Lua API (with the
// scenario runner, whose `t` module is a binding); the layering test enforces it.
#pragma once

#include <lua.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "bindings/api_doc.hpp"
#include "bindings/support.hpp"
#include "engine/core/error.hpp"
#include "engine/runtime/library_files.hpp"

namespace casekit {

struct SandboxLimits {
  std::size_t memory_bytes = 64u << 20;
  std::uint64_t instructions = 200'000'000;
};

// What a runtime keeps of library modules between sandboxes.
//
// Their bytecode, by source text, for the runtime's life: each text is compiled once.
// And, while a batch holds them (hold_files), the files themselves: every instance of the
// batch requires the same text, and each file is read once per batch instead of once per
// require. Outside a batch every require reads the file, so an edit takes effect at the
// next start.
class ChunkCache {
 public:
  // The bytecode compiled from `source`, or null.
  const std::string* find(const std::string& source) const {
    auto it = bytecode_.find(source);
    return it == bytecode_.end() ? nullptr : &it->second;
  }
  void keep(std::string source, std::string bytecode) {
    bytecode_.insert_or_assign(std::move(source), std::move(bytecode));
  }

  // The text of the library file at `path` (read_script's checks and errors), or null if
  // there is no such file. Valid until the next call.
  const std::string* read(const std::filesystem::path& path);
  // Keeps what read() finds until the hold ends (a batch of activations); ending it
  // forgets the files.
  void hold_files(bool hold);

 private:
  std::unordered_map<std::string, std::string> bytecode_;
  bool holding_ = false;
  std::unordered_map<std::string, std::optional<std::string>> files_;  // by path; none: absent
  std::optional<std::string> unheld_;
};

// A script failed: the message names file and line; the traceback says how it got there.
class ScriptError : public Error {
 public:
  ScriptError(ErrorCode code, const std::string& message, std::string traceback)
      : Error(code, message), traceback_(std::move(traceback)) {}
  const std::string& traceback() const { return traceback_; }

 private:
  std::string traceback_;
};

class Sandbox {
 public:
  // host may be null for a sandbox without bindings (the linter, benchmarks).
  Sandbox(const SandboxLimits& limits, std::vector<LibraryDir> libraries, lua::Host* host);
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  lua_State* state() { return L_; }

  // Keeps the library modules this sandbox requires compiled in `cache` (which must outlive
  // the sandbox) and loads them from it.
  void cache_libraries_in(ChunkCache* cache);
  // Makes require() load from `files` (which must outlive their use) instead of the
  // library folders; null goes back to the folders. A module absent from `files` is not
  // found, as it would not have been when they were read.
  void pin_libraries(const LibraryFiles* files);

  // Compiles source text (binary chunks are refused) and pushes the function.
  void load(std::string_view source, const std::string& chunkname);
  // The compiled form of the function on top of the stack (with line information), and
  // loading it back. Only for chunks this process compiled from source itself: it saves
  // recompiling a procedure on every replay. Bytecode from anywhere else is refused (load).
  std::string dump_function();
  void load_own_bytecode(std::string_view bytecode, const std::string& chunkname);
  // Calls the function below nargs arguments on the stack, leaving nresults results.
  // Failures throw ScriptError with the script position and a traceback.
  void call(int nargs, int nresults);
  // A coroutine for a procedure instance, anchored for the sandbox's lifetime. It inherits
  // the instruction hook.
  lua_State* new_thread();
  enum class Resume { yielded, finished };
  // Resumes `co` with nargs values on its stack; `nresults` are left on it. Failures throw
  // ScriptError as call() does.
  Resume resume(lua_State* co, int nargs, int* nresults);
  // A new activation of a kept (warm) sandbox gets a fresh instruction budget.
  void start_activation();

  // Reuse ("the fresh _ENV per instance", docs/architecture.md). Once the instance a sandbox held
  // has finished or been put aside, the sandbox can take the next instance of the same procedure:
  // renew() gives it that instance's host, a fresh environment holding only the allowed globals,
  // and an empty require cache, so nothing one script assigned is seen by the next (shared tables
  // are read-only). The procedure's chunk, kept by keep_main(), is pointed at the new environment
  // by push_main() instead of being loaded again.
  void keep_main();  // keeps the function on top of the stack (left there)
  bool push_main();  // false, pushing nothing, if none was kept
  // Only a sandbox that no limit has stopped, and not grown large, is reused.
  bool reusable() const;
  void renew(lua::Host* host);
  // Puts the sandbox aside once its instance is done with it: the instance's coroutine
  // (made by new_thread) is left to the collector, and the host it ran for is forgotten
  // until renew() gives the next instance its own.
  void put_aside(lua_State* co);

  // Adds a global the engine trusts (the value on top of the stack, popped) to the
  // sandbox's environment, which scripts themselves cannot add to. `casekit test` uses it
  // for its scenario API.
  void set_global(const char* name);
  // Loads and runs a file; `display` is the name errors use (e.g. scripts/demo.lua).
  void run_file(const std::filesystem::path& file, const std::string& display);

  std::size_t memory_used() const;
  std::uint64_t instructions_used() const;

  struct Budget;  // allocator and hook state; public so the C callbacks can name it

 private:
  void install_globals();
  void new_environment();
  [[noreturn]] void fail(int rc, std::string traceback);

  std::unique_ptr<Budget> budget_;
  lua_State* L_ = nullptr;
};

// Reads a script file, refusing unreadable or oversized files with one clear message.
std::string read_script(const std::filesystem::path& file);

// The globals every sandbox has besides the binding modules, with a line of doc each.
std::span<const lua::GlobalDoc> sandbox_globals();

// What a script can name, besides the binding modules: the global names, and for each
// library table (string, math, ...) its members. Read from a real sandbox.
struct SandboxSurface {
  std::set<std::string, std::less<>> globals;
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>> libraries;
};
SandboxSurface sandbox_surface();

}  // namespace casekit
