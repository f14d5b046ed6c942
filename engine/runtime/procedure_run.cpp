#include "engine/runtime/procedure_run.hpp"

#include "bindings/lua_json.hpp"
#include "bindings/modules.hpp"

namespace casekit {
namespace {

void push_ctx(lua_State* co, const ProcedureContext& ctx) {
  lua_createtable(co, 0, 5);
  lua_pushinteger(co, ctx.instance);
  lua_setfield(co, -2, "instance");
  lua::push_string(co, ctx.procedure);
  lua_setfield(co, -2, "procedure");
  lua::push_string(co, ctx.started_by);
  lua_setfield(co, -2, "started_by");
  if (ctx.casegroup) {
    lua::push_object(co, lua::kCasegroupType, *ctx.casegroup);
    lua_setfield(co, -2, "casegroup");
  }
  if (!ctx.parsed_input || !lua::push_json_tree(co, *ctx.parsed_input)) {
    lua::push_json_text(co, ctx.input);
  }
  if (!lua_istable(co, -1))
    throw Error(ErrorCode::internal, "an instance's input is not an object");
  if (lua_getfield(co, -1, "params") == LUA_TNIL) {
    lua_pop(co, 1);
    lua_newtable(co);
  }
  lua_setfield(co, -3, "params");
  lua_getfield(co, -1, "input");
  lua_setfield(co, -3, "input");
  lua_pop(co, 1);
}

}  // namespace

void run_declaration(Sandbox& sandbox, const std::string& procedure, const std::string& file) {
  lua_State* L = sandbox.state();
  try {
    sandbox.call(0, 1);
  } catch (const ScriptError& e) {
    const std::string what = e.what();
    if (what.find("instance stopped") != std::string::npos) {
      throw Error(ErrorCode::script, file +
                                         ": the top level of a procedure may only declare it; "
                                         "call engine functions inside run(ctx)");
    }
    throw;
  }
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    throw Error(ErrorCode::script, file + ": must end with `return procedure{...}`");
  }
  lua_getfield(L, -1, "name");
  const char* name = lua_tostring(L, -1);
  const std::string declared = name ? name : "";
  lua_pop(L, 1);
  lua_getfield(L, -1, "run");
  const bool has_run = lua_isfunction(L, -1);
  lua_pop(L, 1);
  if (!has_run) throw Error(ErrorCode::script, file + ": the procedure has no run function");
  if (declared != procedure) {
    throw Error(ErrorCode::script, file + ": declares procedure '" + declared +
                                       "'; the file name says '" + procedure + "'");
  }
}

lua_State* start_run(Sandbox& sandbox, const ProcedureContext& ctx) {
  lua_State* L = sandbox.state();
  lua_State* co = sandbox.new_thread();
  lua_getfield(L, -1, "run");
  lua_xmove(L, co, 1);
  lua_pop(L, 1);
  push_ctx(co, ctx);
  return co;
}

int push_wait_result(lua_State* co, std::string_view result) {
  return lua::push_json_values(co, result);
}

std::optional<std::string> run_result(lua_State* co, int count) {
  if (count <= 0) return std::nullopt;
  try {
    return lua::dump(lua::to_json(co, -count));
  } catch (const Error&) {
    return std::nullopt;  // a return value that cannot be stored is dropped
  }
}

}  // namespace casekit
