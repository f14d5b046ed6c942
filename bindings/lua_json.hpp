// Lua values <-> JSON: how a procedure's calls, results and input are recorded and read back.
//
// Tables become arrays (keys 1..n) or objects (all keys strings, written sorted), other
// tables {"$pairs": [[k, v], ...]}; engine objects {"$object": "SR", "id": 7}; error tables
// {"$error": {...}}. Functions and threads cannot be recorded and raise.
#pragma once

#include <lua.hpp>

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace casekit::lua {

nlohmann::json to_json(lua_State* L, int index);
// Values index..top as a JSON array.
nlohmann::json values_to_json(lua_State* L, int first);
// The same as dump(values_to_json(L, first)), written without building the tree: every
// binding call a procedure makes is recorded this way.
std::string values_to_text(lua_State* L, int first);
void push_json(lua_State* L, const nlohmann::json& value);
// The same from JSON text (a recorded result, an instance's input), without the tree.
void push_json_text(lua_State* L, std::string_view text);
// The same from a tree parsed with its keys in the text's order: the values are those
// push_json_text builds from that text, and each table is filled in the same order (so
// pairs() walks it the same way). An instance's first activation uses it for an input that
// its creator had already parsed (an extract row). Pushes nothing and returns false for a
// tree nested more than 256 deep: parse its text instead.
bool push_json_tree(lua_State* L, const nlohmann::ordered_json& value);
// Pushes each element of a JSON array text (a recorded list of results); returns how many.
int push_json_values(lua_State* L, std::string_view text);
// The compact text form used for args and results.
std::string dump(const nlohmann::json& value);

}  // namespace casekit::lua
