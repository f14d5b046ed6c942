// What the sandbox's parts share, and scripts never see. The sandbox is split along its
// seams: the budget (sandbox_budget.cpp: the allocator that caps memory, the hook that
// counts instructions), require and its chunk cache (sandbox_require.cpp), what an
// environment holds (sandbox_globals.cpp: the allowed globals, read-only libraries, strict
// lookups) and the lifecycle (sandbox.cpp: build, load, call, resume, renew).
#pragma once

#include <lua.hpp>

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/runtime/sandbox.hpp"

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
  const LibraryFiles* pinned = nullptr;  // Sandbox::pin_libraries
  // The text of each library module this state has loaded, by chunk name; its function is
  // kept in the registry (kModuleChunks).
  std::unordered_map<std::string, std::string> module_texts;
};

namespace sandbox {

// Instructions between two hook calls: small enough to stop a loop promptly, large enough
// that the hook costs nothing measurable.
constexpr int kHookInterval = 1000;
// Room left after the cap is hit so that the error and its traceback can still be built.
constexpr std::size_t kHeadroom = 1u << 20;

// Registry keys.
constexpr const char* kStringLibrary = "casekit.string";
constexpr const char* kBaseLibrary = "casekit.base";
constexpr const char* kEnvironmentMeta = "casekit.environment";
constexpr const char* kLoaded = "casekit.loaded";  // require's cache, one per environment
constexpr const char* kProcedureMain = "casekit.main";
constexpr const char* kModuleChunks = "casekit.modules";
// The read-only library and module tables built so far, by global name.
constexpr const char* kSharedLibraries = "casekit.libraries";

// The allocator every sandbox state uses (its user data is the Budget): refuses to grow
// past the memory cap, leaving headroom for the error once the cap is hit.
void* budget_alloc(void* ud, void* ptr, std::size_t osize, std::size_t nsize);
Sandbox::Budget& budget_of(lua_State* L);
// The instruction hook: counts, and once a limit is hit fails every instruction.
void count_hook(lua_State* L, lua_Debug*);

// The function on top of the stack as bytecode, debug information kept (errors name lines).
std::string bytecode_of_top(lua_State* L);
// A main chunk's first upvalue is its _ENV: points that of the chunk on top of the stack at
// the sandbox's current globals, as loading from source does.
void point_env_at_globals(lua_State* L);
// Pushes the function compiled (by us, never bytecode from outside) into `bytecode`, or its
// error message and returns false.
bool load_bytecode(lua_State* L, std::string_view bytecode, const std::string& chunkname);
// The global require(name): only modules under the sandbox's library folders.
int require(lua_State* L);

}  // namespace sandbox
}  // namespace casekit
