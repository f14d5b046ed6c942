#include "engine/scenario/scenario_runner.hpp"

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "engine/bindings/lua_json.hpp"
#include "engine/bindings/modules.hpp"
#include "engine/core/temp_folder.hpp"
#include "engine/durable/runtime.hpp"
#include "engine/runtime/sandbox.hpp"
#include "engine/runtime/script_runner.hpp"
#include "engine/store/schema.hpp"
#include "engine/transition/dw_extract.hpp"
#include "engine/transition/dw_generate.hpp"
#include "engine/transition/dw_import.hpp"

namespace casekit {
namespace {

constexpr const char* kScenarioStart = "2026-11-20T09:00:00Z";

Database& migrated(Database& db, SimulatedClock& clock) {
  db.set_clock(&clock);
  migrate(db);
  return db;
}

// Everything one scenario runs against.
struct World {
  explicit World(const Home& home)
      : db(dir.path() / "scenario.db", OpenMode::create),
        engine(migrated(db, clock), clock, home),
        runtime(engine, {}, [this](std::string_view s) { printed += std::string(s) + "\n"; }),
        local_bancs(db, clock) {}

  TempFolder dir;  // the scenario's database lives here
  SimulatedClock clock{parse_instant(kScenarioStart)};
  Database db;
  Engine engine;
  ProcedureRuntime runtime;
  LocalBancs local_bancs;
  std::unique_ptr<FailingBancs> failing_bancs;
  std::string printed;
};

World& world(lua_State* L) {
  return *static_cast<World*>(lua_touserdata(L, lua_upvalueindex(1)));
}

// The error boundary of the `t` functions: an engine error becomes a Lua error naming the
// scenario line, raised outside the catch block.
template <int (*F)(lua_State*, World&)>
int t_entry(lua_State* L) {
  std::string message;
  try {
    return F(L, world(L));
  } catch (const std::exception& e) {
    message = e.what();
  }
  luaL_where(L, 1);
  lua_pushstring(L, message.c_str());
  lua_concat(L, 2);
  return lua_error(L);
}

std::string opt_string_field(lua_State* L, int t, const char* key) {
  lua_getfield(L, t, key);
  std::string out = lua_isnil(L, -1) ? "" : luaL_checkstring(L, -1);
  lua_pop(L, 1);
  return out;
}

std::map<std::string, std::string> string_map_field(lua_State* L, int t, const char* key) {
  std::map<std::string, std::string> out;
  lua_getfield(L, t, key);
  if (lua_istable(L, -1)) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      lua_pushvalue(L, -2);
      const std::string k = luaL_checkstring(L, -1);
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      out[k] = luaL_checkstring(L, -1);
      lua_pop(L, 2);
    }
  }
  lua_pop(L, 1);
  return out;
}

// t.user(name, role)
int t_user(lua_State* L, World& w) {
  w.engine.users.add(luaL_checkstring(L, 1), luaL_checkstring(L, 2));
  return 0;
}

void push_counts(lua_State* L, const DwImportCounts& c) {
  lua_createtable(L, 0, 5);
  for (const auto& [key, value] :
       {std::pair{"read", c.read}, std::pair{"transitioned", c.transitioned},
        std::pair{"exceptions", c.exceptions}, std::pair{"duplicates", c.duplicates},
        std::pair{"failed", c.failed}}) {
    lua_pushinteger(L, value);
    lua_setfield(L, -2, key);
  }
}

// t.import{row, "raw line", ...} -> {read=, transitioned=, exceptions=, duplicates=, failed=}
int t_import(lua_State* L, World& w) {
  luaL_checktype(L, 1, LUA_TTABLE);
  std::string text;
  const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, 1));
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, 1, i);
    text += lua_type(L, -1) == LUA_TSTRING ? std::string(lua_tostring(L, -1))
                                           : lua::to_json(L, -1).dump();
    text += "\n";
    lua_pop(L, 1);
  }
  std::istringstream in(text);
  push_counts(L, import_dw_extract(w.engine, w.runtime, in));
  return 1;
}

// t.generate{count=, seed=, bad_ratio=} -> {{line=, row=|nil, reason=|nil}, ...}
int t_generate(lua_State* L, World& w) {
  luaL_checktype(L, 1, LUA_TTABLE);
  DwGenerateOptions options;
  lua_getfield(L, 1, "count");
  options.count = luaL_optinteger(L, -1, 100);
  lua_getfield(L, 1, "seed");
  options.seed = static_cast<std::uint64_t>(luaL_optinteger(L, -1, 1));
  lua_getfield(L, 1, "bad_ratio");
  options.bad_ratio = luaL_optnumber(L, -1, 0.0);
  lua_pop(L, 3);
  options.extract_date = format_date(w.clock.today());
  std::ostringstream out;
  generate_dw_extract(out, options);
  std::istringstream lines(out.str());
  std::string line;
  lua_createtable(L, static_cast<int>(options.count), 0);
  lua_Integer i = 0;
  while (std::getline(lines, line)) {
    lua_createtable(L, 0, 3);
    lua::push_string(L, line);
    lua_setfield(L, -2, "line");
    const auto parsed = parse_dw_row(line);
    if (const auto* row = std::get_if<DwRow>(&parsed)) {
      if (!lua::push_json_tree(L, row->json)) lua::push_json_text(L, line);
      lua_setfield(L, -2, "row");
    } else {
      lua::push_string(L, std::get<DwRowError>(parsed).reason);
      lua_setfield(L, -2, "reason");
    }
    lua_rawseti(L, -2, ++i);
  }
  return 1;
}

// t.start(name, {casegroup=, params={...}, as=}) -> instance id
int t_start(lua_State* L, World& w) {
  const std::string name = luaL_checkstring(L, 1);
  std::optional<Id> casegroup;
  std::map<std::string, std::string> params;
  std::string as = "scenario";
  if (lua_istable(L, 2)) {
    lua_getfield(L, 2, "casegroup");
    if (lua_isuserdata(L, -1)) lua_getfield(L, -1, "id");  // a Casegroup object
    if (!lua_isnil(L, -1)) casegroup = luaL_checkinteger(L, -1);
    lua_settop(L, 2);
    params = string_map_field(L, 2, "params");
    if (auto user = opt_string_field(L, 2, "as"); !user.empty()) as = user;
  }
  lua_pushinteger(L, w.runtime.start(name, casegroup, params, as));
  return 1;
}

void push_item(lua_State* L, const WorkItem& item) {
  lua_createtable(L, 0, 7);
  lua_pushinteger(L, item.id);
  lua_setfield(L, -2, "id");
  for (const auto& [key, value] :
       {std::pair{"inbox", &item.spec.inbox}, std::pair{"kind", &item.spec.kind},
        std::pair{"title", &item.spec.title}, std::pair{"status", &item.status}}) {
    lua::push_string(L, *value);
    lua_setfield(L, -2, key);
  }
  lua_createtable(L, static_cast<int>(item.spec.outcomes.size()), 0);
  for (std::size_t i = 0; i < item.spec.outcomes.size(); ++i) {
    lua::push_string(L, item.spec.outcomes[i]);
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  lua_setfield(L, -2, "outcomes");
  if (item.spec.sr_id) {
    lua_pushinteger(L, *item.spec.sr_id);
    lua_setfield(L, -2, "sr");
  }
}

std::vector<WorkItem> open_items(lua_State* L, World& w, int t) {
  const std::string inbox = lua_istable(L, t) ? opt_string_field(L, t, "inbox") : "";
  const std::string kind = lua_istable(L, t) ? opt_string_field(L, t, "kind") : "";
  auto items = w.engine.work_items.list(
      inbox.empty() ? std::nullopt : std::optional<std::string>(inbox), false);
  std::erase_if(items, [&](const WorkItem& i) { return !kind.empty() && i.spec.kind != kind; });
  return items;
}

// t.tasks{inbox=, kind=} -> the open work items
int t_tasks(lua_State* L, World& w) {
  const auto items = open_items(L, w, 1);
  lua_createtable(L, static_cast<int>(items.size()), 0);
  for (std::size_t i = 0; i < items.size(); ++i) {
    push_item(L, items[i]);
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  return 1;
}

// t.complete{inbox=, kind=, id=, outcome=, fields={...}, as=} -> the work item's id. The
// item is the one open item matching inbox and kind (or the given id).
int t_complete(lua_State* L, World& w) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "id");
  Id id = lua_isnil(L, -1) ? 0 : luaL_checkinteger(L, -1);
  lua_pop(L, 1);
  if (id == 0) {
    const auto items = open_items(L, w, 1);
    if (items.size() != 1) {
      return luaL_error(L, "t.complete: %d open work items match (give inbox, kind or id)",
                        static_cast<int>(items.size()));
    }
    id = items[0].id;
  }
  const std::string outcome = opt_string_field(L, 1, "outcome");
  const std::string as = opt_string_field(L, 1, "as");
  if (outcome.empty() || as.empty()) return luaL_error(L, "t.complete: outcome and as needed");
  w.runtime.complete_task(id, outcome, string_map_field(L, 1, "fields"), as);
  lua_pushinteger(L, id);
  return 1;
}

// t.advance{days=, hours=}: moves the simulated clock on, firing the timers due on the way.
int t_advance(lua_State* L, World& w) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "days");
  const lua_Integer days = luaL_optinteger(L, -1, 0);
  lua_getfield(L, 1, "hours");
  const lua_Integer hours = luaL_optinteger(L, -1, 0);
  lua_pop(L, 2);
  if (days < 0 || hours < 0) return luaL_error(L, "t.advance: time only moves forward");
  const Instant until = w.clock.now() + std::chrono::days(days) + std::chrono::hours(hours);
  while (auto next = w.runtime.next_timer()) {
    if (*next > until) break;
    w.clock.set(std::max(*next, w.clock.now()));
    w.runtime.fire_timers();
  }
  w.clock.set(until);
  return 0;
}

// t.instance(id) -> {procedure=, status=, result=, error=}
int t_instance(lua_State* L, World& w) {
  const Instance i = w.runtime.store().get(luaL_checkinteger(L, 1));
  lua_createtable(L, 0, 4);
  lua::push_string(L, i.procedure);
  lua_setfield(L, -2, "procedure");
  lua::push_string(L, i.status);
  lua_setfield(L, -2, "status");
  if (i.result) {
    lua::push_json(L, nlohmann::json::parse(*i.result));
    lua_setfield(L, -2, "result");
  }
  if (i.error) {
    lua::push_string(L, *i.error);
    lua_setfield(L, -2, "error");
  }
  return 1;
}

// t.run_script(name): runs scripts/NAME as the scheduler would, in its own transaction.
int t_run_script(lua_State* L, World& w) {
  exec_script(
      w.engine, w.engine.home.scripts() / luaL_checkstring(L, 1), SandboxLimits{},
      [&w](std::string_view s) { w.printed += std::string(s) + "\n"; }, &w.runtime);
  w.runtime.drain();
  return 0;
}

// t.fulfil_letters() -> how many: the queued letters go to the scenario's outbox, as
// `casekit letters fulfil` would send them, in their own transaction, and the instances
// waiting on them run.
int t_fulfil_letters(lua_State* L, World& w) {
  const FulfilResult r = w.runtime.fulfil_letters(w.dir.path() / "outbox");
  lua_pushinteger(L, r.fulfilled);
  return 1;
}

// t.bancs_fail(operation, message): BaNCS answers ERR to that operation until t.bancs_ok().
int t_bancs_fail(lua_State* L, World& w) {
  std::map<std::string, std::string> failures;
  failures[luaL_checkstring(L, 1)] = luaL_optstring(L, 2, "BaNCS unavailable");
  w.failing_bancs = std::make_unique<FailingBancs>(w.local_bancs, failures);
  w.engine.bancs.use(w.failing_bancs.get());
  return 0;
}

int t_bancs_ok(lua_State*, World& w) {
  w.engine.bancs.use(nullptr);
  w.failing_bancs.reset();
  return 0;
}

// The assertions are plain Lua: a failure is an error naming the scenario line.
constexpr const char* kAssertions = R"lua(
local t = ...
local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end
function t.eq(actual, expected, what)
  if actual ~= expected then
    error((what and (what .. ": ") or "") .. "expected " .. show(expected) .. ", got "
      .. show(actual), 2)
  end
end
function t.expect(condition, what)
  if not condition then error(what or "expectation failed", 2) end
end
function t.refuses(fn, fragment)
  local ok, err = pcall(fn)
  if ok then error("expected a refusal" .. (fragment and (" mentioning " .. show(fragment)) or ""), 2) end
  local message = type(err) == "table" and tostring(err.message) or tostring(err)
  if fragment and not string.find(message, fragment, 1, true) then
    error("refused with " .. show(message) .. ", not with " .. show(fragment), 2)
  end
  return message
end
)lua";

void push_t(Sandbox& sandbox, World& w) {
  lua_State* L = sandbox.state();
  lua_createtable(L, 0, 16);
  const auto set = [&](const char* name, lua_CFunction fn) {
    lua_pushlightuserdata(L, &w);
    lua_pushcclosure(L, fn, 1);
    lua_setfield(L, -2, name);
  };
  set("user", t_entry<t_user>);
  set("import", t_entry<t_import>);
  set("generate", t_entry<t_generate>);
  set("start", t_entry<t_start>);
  set("tasks", t_entry<t_tasks>);
  set("complete", t_entry<t_complete>);
  set("advance", t_entry<t_advance>);
  set("instance", t_entry<t_instance>);
  set("run_script", t_entry<t_run_script>);
  set("fulfil_letters", t_entry<t_fulfil_letters>);
  set("bancs_fail", t_entry<t_bancs_fail>);
  set("bancs_ok", t_entry<t_bancs_ok>);
  sandbox.load(kAssertions, "casekit test");
  lua_pushvalue(L, -2);
  sandbox.call(1, 0);
}

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
