// Calls the Lua C API from a layer that may not.
void push_nothing(lua_State* L) { lua_pushnil(L); }
