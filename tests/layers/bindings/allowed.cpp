// bindings/ may call the Lua C API and include from the domain below it.
#include "engine/domain/engine.hpp"
void push_nothing(lua_State* L) { lua_pushnil(L); }
