#include "engine/scenario/scenario_runner.hpp"

#include <algorithm>
#include <vector>

#include "engine/runtime/sandbox.hpp"
#include "engine/runtime/script_runner.hpp"
#include "engine/scenario/t_module.hpp"
#include "engine/scenario/world.hpp"

namespace casekit {
namespace {

// scenario(name, fn) while listing: records the names. While running scenario `wanted`:
// keeps that one's function in the registry.
struct Collector {
  std::vector<std::string> names;
  int wanted = -1;
};

int collect_scenario(lua_State* L) {
  auto* c = static_cast<Collector*>(lua_touserdata(L, lua_upvalueindex(1)));
  const char* name = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  if (static_cast<int>(c->names.size()) == c->wanted) {
    lua_pushvalue(L, 2);
    lua_setfield(L, LUA_REGISTRYINDEX, "casekit.scenario");
  }
  c->names.emplace_back(name);
  return 0;
}

void install_collector(Sandbox& sandbox, Collector& c) {
  lua_pushlightuserdata(sandbox.state(), &c);
  lua_pushcclosure(sandbox.state(), collect_scenario, 1);
  sandbox.set_global("scenario");
}

SandboxLimits scenario_limits() {
  SandboxLimits limits;
  limits.instructions = 2'000'000'000;  // a scenario may drive many instances
  return limits;
}

void run_file(const std::filesystem::path& file, const Home& home,
              const std::function<void(const ScenarioResult&)>& report, ScenarioSummary& summary) {
  const std::string source = read_script(file);
  const std::string shown = display_name(file);
  Collector listing;
  {
    Sandbox sandbox(scenario_limits(), library_dirs(home), nullptr);
    install_collector(sandbox, listing);
    try {
      sandbox.load(source, shown);
      sandbox.call(0, 0);
    } catch (const Error& e) {
      report({shown, "(loading the file)", false, e.what()});
      ++summary.failed;
      return;
    }
  }
  for (int i = 0; i < static_cast<int>(listing.names.size()); ++i) {
    ScenarioResult result{shown, listing.names[static_cast<std::size_t>(i)], false, {}};
    try {
      World w(home);
      lua::Host host{w.engine, "scenario",
                     [&w](std::string_view s) { w.printed += std::string(s) + "\n"; }};
      host.procedures = &w.runtime;
      Sandbox sandbox(scenario_limits(), library_dirs(home), &host);
      Collector running;
      running.wanted = i;
      install_collector(sandbox, running);
      sandbox.load(source, shown);
      sandbox.call(0, 0);
      lua_getfield(sandbox.state(), LUA_REGISTRYINDEX, "casekit.scenario");
      push_t(sandbox, w);
      sandbox.call(1, 0);
      result.passed = true;
    } catch (const std::exception& e) {
      result.message = e.what();
    }
    (result.passed ? summary.passed : summary.failed) += 1;
    report(result);
  }
}

}  // namespace

ScenarioSummary run_scenarios(const std::filesystem::path& path, const Home& home,
                              const std::function<void(const ScenarioResult&)>& report) {
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(path)) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
      if (entry.is_regular_file() && entry.path().extension() == ".lua") {
        files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());
  } else if (std::filesystem::is_regular_file(path)) {
    files.push_back(path);
  } else {
    throw Error(ErrorCode::not_found, "no test file or folder " + path.string());
  }
  ScenarioSummary summary;
  for (const auto& file : files) run_file(file, home, report, summary);
  return summary;
}

}  // namespace casekit
