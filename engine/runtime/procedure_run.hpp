// Running a procedure chunk in a sandbox: what the durable runtime asks of Lua, so that it
// never calls the Lua API itself.
//
// A procedure file ends with `return procedure{name=, run=function(ctx) ... end}`. Its chunk
// runs afresh for each instance (its top-level locals are the instance's own); run(ctx) then
// runs on a coroutine that yields at each wait and is resumed with the wait's result.
#pragma once

#include <lua.hpp>

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "engine/domain/casegroups.hpp"
#include "engine/runtime/sandbox.hpp"

namespace casekit {

// What ctx holds: ctx.instance, .procedure, .started_by, .casegroup (a Casegroup, if the
// instance has one), and .params and .input from the instance's stored input.
struct ProcedureContext {
  Id instance = 0;
  std::string_view procedure;
  std::string_view started_by;
  std::optional<Id> casegroup;
  // The stored input, {"input": ..., "params": {...}} as JSON text, and the same already
  // parsed (keys in the text's order) when its creator had it: ctx is then built from the
  // tree, which gives the same tables in the same order (lua::push_json_tree).
  std::string_view input;
  const nlohmann::ordered_json* parsed_input = nullptr;
};

// Runs the procedure chunk on top of the sandbox's stack and checks what it returns: a
// declaration of procedure `procedure`, with a run function. Leaves the declaration on the
// stack. `file` is the name errors give ("procedures/x.lua").
void run_declaration(Sandbox& sandbox, const std::string& procedure, const std::string& file);

// Takes run from the declaration on top of the stack (popping it) onto a new coroutine of
// the sandbox, with ctx as its argument, ready for its first resume with one value.
lua_State* start_run(Sandbox& sandbox, const ProcedureContext& ctx);

// Pushes a wait's recorded result (a JSON array of values) onto the coroutine for its
// resume; returns how many values.
int push_wait_result(lua_State* co, std::string_view result);

// What run returned (the top `count` values of the coroutine), as JSON text of the first;
// nothing if it returned nothing or something that cannot be stored.
std::optional<std::string> run_result(lua_State* co, int count);

}  // namespace casekit
