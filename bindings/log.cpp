// Lua module `log`: messages to the engine log (stderr), tagged with the script and line.
#include <spdlog/spdlog.h>

#include "bindings/modules.hpp"

namespace casekit::lua {
namespace {

std::string where(lua_State* L) {
  luaL_where(L, 1);
  std::string w = lua_tostring(L, -1);
  lua_pop(L, 1);
  return w;
}

template <spdlog::level::level_enum Level>
int w_log(Args& a) {
  const std::string message = a.string(1, "message");
  const Host& h = host(a.L);
  const std::string line = h.actor + " " + where(a.L) + " " + message;
  if (h.log) {
    h.log(Level, line);
  } else {
    spdlog::log(Level, "{}", line);
  }
  return 0;
}

const Function kFunctions[] = {
    {"debug", entry<w_log<spdlog::level::debug>>, "log.debug(message)", "Logs at debug level.",
     Replay::skip},
    {"info", entry<w_log<spdlog::level::info>>, "log.info(message)", "Logs at info level.",
     Replay::skip},
    {"warn", entry<w_log<spdlog::level::warn>>, "log.warn(message)", "Logs a warning.",
     Replay::skip},
    {"error", entry<w_log<spdlog::level::err>>, "log.error(message)",
     "Logs an error (does not stop the script; use error() for that).", Replay::skip},
};

}  // namespace

const Module kLogModule{"log", "The engine log.", kFunctions, {}};

}  // namespace casekit::lua
