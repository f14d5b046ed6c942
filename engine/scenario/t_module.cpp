#include "engine/scenario/t_module.hpp"

#include <algorithm>
#include <sstream>

#include "bindings/lua_json.hpp"
#include "bindings/modules.hpp"
#include "engine/runtime/script_runner.hpp"
#include "engine/store/schema.hpp"
#include "engine/transition/dw_extract.hpp"
#include "engine/transition/dw_generate.hpp"
#include "engine/transition/dw_import.hpp"

namespace casekit {
namespace {

using lua::Args;
using lua::entry;
using lua::Key;

Database& migrated(Database& db, SimulatedClock& clock) {
  db.set_clock(&clock);
  migrate(db);
  return db;
}

World& world(Args& a) {
  return a.context<World>();
}

// ---- driving the world ----------------------------------------------------------------------

int w_user(Args& a) {
  world(a).engine.users.add(a.string(1, "name"), a.string(2, "role"), a.opt_string(3, "team"));
  return 0;
}

void push_counts(lua_State* L, const DwImportCounts& c) {
  lua_createtable(L, 0, 5);
  for (const auto& [key, value] :
       {std::pair{"read", c.read}, std::pair{"transitioned", c.transitioned},
        std::pair{"exceptions", c.exceptions}, std::pair{"duplicates", c.duplicates},
        std::pair{"failed", c.failed}}) {
    lua::set_field(L, key, value);
  }
}

// The rows are an array: a string is a raw extract line (to test how bad lines are met), a
// table is a row written as JSON.
int w_import(Args& a) {
  if (lua_type(a.L, 1) != LUA_TTABLE) a.fail(1, "rows", "array of rows expected");
  std::string text;
  const auto n = static_cast<lua_Integer>(lua_rawlen(a.L, 1));
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(a.L, 1, i);
    text += lua_type(a.L, -1) == LUA_TSTRING ? std::string(lua_tostring(a.L, -1))
                                             : lua::to_json(a.L, -1).dump();
    text += "\n";
    lua_pop(a.L, 1);
  }
  std::istringstream in(text);
  World& w = world(a);
  push_counts(a.L, import_dw_extract(w.engine, w.runtime, in));
  return 1;
}

constexpr Key kGenerateKeys[] = {{"count", "integer", lua::Catalogue::none, "100"},
                                 {"seed", "integer", lua::Catalogue::none, "1"},
                                 {"bad_ratio", "number, 0 to 1", lua::Catalogue::none, "0"}};

int w_generate(Args& a) {
  World& w = world(a);
  DwGenerateOptions options;
  if (!a.none(1)) {
    a.table(1, "spec");
    options.count = a.opt_field_integer(1, "count").value_or(100);
    options.seed = static_cast<std::uint64_t>(a.opt_field_integer(1, "seed").value_or(1));
    options.bad_ratio = a.opt_field_number(1, "bad_ratio").value_or(0.0);
  }
  options.extract_date = format_date(w.clock.today());
  std::ostringstream out;
  generate_dw_extract(out, options);
  std::istringstream lines(out.str());
  std::string line;
  lua_createtable(a.L, static_cast<int>(options.count), 0);
  lua_Integer i = 0;
  while (std::getline(lines, line)) {
    lua_createtable(a.L, 0, 3);
    lua::set_field(a.L, "line", line);
    const auto parsed = parse_dw_row(line);
    if (const auto* row = std::get_if<DwRow>(&parsed)) {
      if (!lua::push_json_tree(a.L, row->json)) lua::push_json_text(a.L, line);
      lua_setfield(a.L, -2, "row");
    } else {
      lua::set_field(a.L, "reason", std::get<DwRowError>(parsed).reason);
    }
    lua_rawseti(a.L, -2, ++i);
  }
  return 1;
}

constexpr Key kStartKeys[] = {{"casegroup", "Casegroup or id"},
                              {"params", "table of strings"},
                              {"as", "string", lua::Catalogue::none, "\"scenario\""}};

int w_start(Args& a) {
  const std::string name = a.string(1, "name");
  std::optional<Id> casegroup;
  std::map<std::string, std::string> params;
  std::string as = "scenario";
  if (!a.none(2)) {
    a.table(2, "spec");
    casegroup = a.opt_field_object(2, "casegroup", lua::kCasegroupType);
    params = a.opt_field_string_map(2, "params");
    as = a.opt_field_string(2, "as").value_or(as);
  }
  lua_pushinteger(a.L, world(a).runtime.start(name, casegroup, params, as));
  return 1;
}

void push_item(lua_State* L, const WorkItem& item) {
  lua_createtable(L, 0, 7);
  lua::set_field(L, "id", item.id);
  lua::set_field(L, "inbox", item.spec.inbox);
  lua::set_field(L, "kind", item.spec.kind);
  lua::set_field(L, "title", item.spec.title);
  lua::set_field(L, "status", item.status);
  lua::push_list(L, item.spec.outcomes, [&](const std::string& o) { lua::push_string(L, o); });
  lua_setfield(L, -2, "outcomes");
  if (item.spec.sr_id) lua::set_field(L, "sr", *item.spec.sr_id);
}

// The open work items in the table at `t`'s inbox and of its kind (either may be absent).
std::vector<WorkItem> open_items(Args& a, int t) {
  const auto inbox = a.opt_field_string(t, "inbox");
  const auto kind = a.opt_field_string(t, "kind");
  auto items = world(a).engine.work_items.list(inbox, false);
  std::erase_if(items, [&](const WorkItem& i) { return kind && i.spec.kind != *kind; });
  return items;
}

constexpr Key kTasksKeys[] = {{"inbox", "string"}, {"kind", "string"}};

int w_tasks(Args& a) {
  std::vector<WorkItem> items;
  if (a.none(1)) {
    items = world(a).engine.work_items.list(std::nullopt, false);
  } else {
    a.table(1, "filter");
    items = open_items(a, 1);
  }
  lua::push_list(a.L, items, [&](const WorkItem& item) { push_item(a.L, item); });
  return 1;
}

constexpr Key kCompleteKeys[] = {{"inbox", "string"},
                                 {"kind", "string"},
                                 {"id", "integer"},
                                 {"outcome", "string"},
                                 {"fields", "table of strings"},
                                 {"as", "string"}};

int w_complete(Args& a) {
  a.table(1, "spec");
  Id id = a.opt_field_integer(1, "id").value_or(0);
  if (id == 0) {
    const auto items = open_items(a, 1);
    if (items.size() != 1) {
      throw Error(ErrorCode::invalid,
                  std::to_string(items.size()) + " open work items match (give inbox, kind or id)");
    }
    id = items[0].id;
  }
  const auto outcome = a.opt_field_string(1, "outcome");
  const auto as = a.opt_field_string(1, "as");
  if (!outcome || outcome->empty() || !as || as->empty()) {
    throw Error(ErrorCode::invalid, "outcome and as needed");
  }
  world(a).runtime.complete_task(id, *outcome, a.opt_field_string_map(1, "fields"), *as);
  lua_pushinteger(a.L, id);
  return 1;
}

constexpr Key kSignalKeys[] = {{"name", "string"},
                               {"instance", "integer"},
                               {"casegroup", "Casegroup or id"},
                               {"data", "table of strings"},
                               {"as", "string"}};

// As `casekit signal`: the instances of the target waiting for the signal resume with it.
int w_signal(Args& a) {
  a.table(1, "spec");
  const std::string name = a.field_string(1, "name");
  const auto as = a.opt_field_string(1, "as");
  if (!as || as->empty()) throw Error(ErrorCode::invalid, "as (who sends the signal) needed");
  nlohmann::json data = nlohmann::json::object();
  for (const auto& [k, v] : a.opt_field_string_map(1, "data")) data[k] = v;
  const auto woken = world(a).runtime.signal(
      {a.opt_field_integer(1, "instance"), a.opt_field_object(1, "casegroup", lua::kCasegroupType)},
      name, data, *as);
  lua_pushinteger(a.L, static_cast<lua_Integer>(woken.size()));
  return 1;
}

constexpr Key kAdvanceKeys[] = {{"days", "integer", lua::Catalogue::none, "0"},
                                {"hours", "integer", lua::Catalogue::none, "0"}};

// Moves the simulated clock on, firing each timer at the instant it is due, in order. What
// the scenario did since the last step (a payment recorded, an SR closed) may have woken
// instances; they run first, at the time it happened, as the CLI runs them after a command.
int w_advance(Args& a) {
  a.table(1, "by");
  const auto days = a.opt_field_integer(1, "days").value_or(0);
  const auto hours = a.opt_field_integer(1, "hours").value_or(0);
  if (days < 0 || hours < 0) throw Error(ErrorCode::invalid, "time only moves forward");
  World& w = world(a);
  w.runtime.drain();
  const Instant until = w.clock.now() + std::chrono::days(days) + std::chrono::hours(hours);
  while (auto next = w.runtime.next_timer()) {
    if (*next > until) break;
    w.clock.set(std::max(*next, w.clock.now()));
    w.runtime.fire_timers();
  }
  w.clock.set(until);
  return 0;
}

int w_instance(Args& a) {
  const Instance i = world(a).runtime.store().get(a.integer(1, "id"));
  lua_createtable(a.L, 0, 4);
  lua::set_field(a.L, "procedure", i.procedure);
  lua::set_field(a.L, "status", i.status);
  if (i.result) {
    lua::push_json(a.L, nlohmann::json::parse(*i.result));
    lua_setfield(a.L, -2, "result");
  }
  lua::set_field(a.L, "error", i.error);
  return 1;
}

int w_run_script(Args& a) {
  World& w = world(a);
  exec_script(
      w.engine, w.engine.home.scripts() / a.string(1, "name"), SandboxLimits{},
      [&w](std::string_view s) { w.printed += std::string(s) + "\n"; }, &w.runtime);
  w.runtime.drain();
  return 0;
}

int w_fulfil_letters(Args& a) {
  World& w = world(a);
  lua_pushinteger(a.L, w.runtime.fulfil_letters(w.dir.path() / "outbox").fulfilled);
  return 1;
}

// An external system's adapter (BaNCS, CIS, CRA) swapped for one that refuses `operation` with a
// message, until put back.
template <typename Failing, typename Real, typename Interface>
int fail_adapter(Args& a, std::unique_ptr<Failing>& failing, Real& real, Interface& interface,
                 const char* unavailable) {
  std::map<std::string, std::string> failures;
  failures[a.string(1, "operation")] = a.opt_string(2, "message").value_or(unavailable);
  failing = std::make_unique<Failing>(real, failures);
  interface.use(failing.get());
  return 0;
}

template <typename Failing, typename Interface>
int restore_adapter(std::unique_ptr<Failing>& failing, Interface& interface) {
  interface.use(nullptr);
  failing.reset();
  return 0;
}

int w_bancs_fail(Args& a) {
  World& w = world(a);
  return fail_adapter(a, w.failing_bancs, w.local_bancs, w.engine.bancs, "BaNCS unavailable");
}

int w_bancs_ok(Args& a) {
  World& w = world(a);
  return restore_adapter(w.failing_bancs, w.engine.bancs);
}

int w_cis_fail(Args& a) {
  World& w = world(a);
  return fail_adapter(a, w.failing_cis, w.local_cis, w.engine.cis, "CIS unavailable");
}

int w_cis_ok(Args& a) {
  World& w = world(a);
  return restore_adapter(w.failing_cis, w.engine.cis);
}

int w_cra_fail(Args& a) {
  World& w = world(a);
  return fail_adapter(a, w.failing_cra, w.local_cra, w.engine.cra, "CRA unavailable");
}

int w_cra_ok(Args& a) {
  World& w = world(a);
  return restore_adapter(w.failing_cra, w.engine.cra);
}

// ---- assertions -----------------------------------------------------------------------------

// Plain Lua, so a failure is an error raised at the scenario's own line (level 2).
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

// The scenario is not a procedure instance: nothing it calls is journaled, so the replay
// mode of these functions never matters.
const lua::Function kFunctions[] = {
    {"user", entry<w_user>, "t.user(name, role, team)",
     "Adds a user with that role, to complete work items as: a member of `team` (an owner "
     "team of the SR catalogue), who works that team's items and those with no team."},
    {"import", entry<w_import>,
     "t.import{row, \"raw line\", ...} -> {read=, transitioned=, exceptions=, duplicates=, "
     "failed=}",
     "Runs the rows through the real phase-2 importer, as `casekit import dw` would: a table "
     "is a row (written out as JSON), a string a raw extract line."},
    {"generate", entry<w_generate>, "t.generate{} -> {{line=, row=, reason=}, ...}",
     "Generates a synthetic extract dated today, as `casekit dw generate` does: each line "
     "with its parsed `row`, or the `reason` it is malformed.",
     lua::Replay::record, kGenerateKeys},
    {"start", entry<w_start>, "t.start(name, {}) -> integer",
     "Starts procedure `name` (optionally on a casegroup, with string params, as a user) and "
     "runs it until it waits or ends; returns the instance id.",
     lua::Replay::record, kStartKeys},
    {"tasks", entry<w_tasks>,
     "t.tasks{} -> {{id=, inbox=, kind=, title=, status=, outcomes=, sr=}}",
     "The open work items, optionally of one inbox and kind.", lua::Replay::record, kTasksKeys},
    {"complete", entry<w_complete>, "t.complete{} -> integer",
     "Completes the one open work item matching `inbox` and `kind` (or the item `id`) with "
     "`outcome` and `fields`, as user `as`, and runs the instance it resumes; returns the "
     "item's id. An error if no item or several match.",
     lua::Replay::record, kCompleteKeys},
    {"signal", entry<w_signal>, "t.signal{name=, instance=, casegroup=, data=, as=} -> integer",
     "Sends a signal as `casekit signal` does, to one instance or every instance on a "
     "casegroup, from user `as`; returns how many instances it woke (none is an error).",
     lua::Replay::record, kSignalKeys},
    {"advance", entry<w_advance>, "t.advance{}",
     "Runs the instances that what the scenario did has woken (a payment recorded to an "
     "account they wait on, an SR closed), then moves the simulated clock on, firing each "
     "timer due on the way at its own instant. `t.advance{}` only runs the woken instances.",
     lua::Replay::record, kAdvanceKeys},
    {"instance", entry<w_instance>, "t.instance(id) -> {procedure=, status=, result=, error=}",
     "An instance's procedure, status, and its result or error once it has ended."},
    {"run_script", entry<w_run_script>, "t.run_script(name)",
     "Runs scripts/NAME as the scheduler would, in its own transaction, then the instances it "
     "started."},
    {"fulfil_letters", entry<w_fulfil_letters>, "t.fulfil_letters() -> integer",
     "Sends the queued letters, as `casekit letters fulfil` would, and runs the instances "
     "waiting on them; returns how many were sent."},
    {"bancs_fail", entry<w_bancs_fail>, "t.bancs_fail(operation, message)",
     "BaNCS answers ERR with `message` to `operation` (\"reverse_write_off\", ...) until "
     "t.bancs_ok()."},
    {"bancs_ok", entry<w_bancs_ok>, "t.bancs_ok()", "BaNCS answers normally again."},
    {"cis_fail", entry<w_cis_fail>, "t.cis_fail(operation, message)",
     "CIS refuses `operation` (\"verify\" or \"benefit_details\") with `message` until "
     "t.cis_ok()."},
    {"cis_ok", entry<w_cis_ok>, "t.cis_ok()", "CIS answers normally again."},
    {"cra_fail", entry<w_cra_fail>, "t.cra_fail(\"search\", message)",
     "The credit reference agency refuses a search with `message` until t.cra_ok()."},
    {"cra_ok", entry<w_cra_ok>, "t.cra_ok()", "The CRA answers normally again."},
    {"eq", nullptr, "t.eq(actual, expected, what)",
     "Fails the scenario, at this line, unless actual == expected."},
    {"expect", nullptr, "t.expect(condition, what)",
     "Fails the scenario, at this line, unless the condition holds."},
    {"refuses", nullptr, "t.refuses(fn, fragment) -> string",
     "Calls fn and fails the scenario unless it raises an error whose message contains "
     "`fragment`; returns the message."},
};

}  // namespace

World::World(const Home& home)
    : clock(parse_instant(kScenarioStart)),
      db(dir.path() / "scenario.db", OpenMode::create),
      engine(migrated(db, clock), clock, home),
      runtime(engine, {}, [this](std::string_view s) { printed += std::string(s) + "\n"; }),
      local_bancs(db, clock),
      local_cis(db, clock, engine.casegroups),
      local_cra(engine.casegroups) {}

const lua::Module kScenarioModule{
    "t",
    "Scenario tests only (`casekit test`): the table each scenario function receives, to "
    "drive a fresh world on a simulated clock and assert on it (docs/procedures-guide.md).",
    kFunctions,
    {}};

void push_t(Sandbox& sandbox, World& world) {
  lua_State* L = sandbox.state();
  lua::push_module(L, kScenarioModule, &world);
  sandbox.load(kAssertions, "casekit test");
  lua_pushvalue(L, -2);
  sandbox.call(1, 0);
}

}  // namespace casekit
