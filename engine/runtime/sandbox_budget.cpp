// The budget: memory capped through the state's allocator, instructions counted by a hook
// that re-arms, so that pcall cannot swallow the kill.
#include <cstdlib>

#include "engine/runtime/sandbox_internal.hpp"

namespace casekit::sandbox {
namespace {

void push_position(lua_State* L) {
  lua_Debug ar;
  if (lua_getstack(L, 0, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
    lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
  } else {
    lua_pushliteral(L, "");
  }
}

}  // namespace

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

}  // namespace casekit::sandbox

namespace casekit {

std::size_t Sandbox::memory_used() const {
  return budget_->used;
}

std::uint64_t Sandbox::instructions_used() const {
  return budget_->instructions;
}

void Sandbox::start_activation() {
  budget_->instructions = 0;
}

}  // namespace casekit
