// The durable parts of a procedure: the `procedure{}` declaration, `wait{}`, and the modules
// `task` (wait for a person) and `event` (wait for a payment). Each wait is journaled as
// pending and yields; the engine resumes the instance with the wait's result
// (engine/bindings/journal.hpp, engine/durable/).
#include "engine/bindings/journal.hpp"
#include "engine/bindings/modules.hpp"

namespace casekit::lua {
namespace {

constexpr std::int64_t kMaxWaitDays = 3660;

// procedure{name=, run=, ...}: checks the declaration and returns it.
int w_procedure(Args& a) {
  a.table(1, "declaration", {"name", "run", "description", "sr", "params"});
  const std::string name = a.field_string(1, "name");
  if (name.empty()) a.fail_field(1, "name", "must not be empty");
  lua_getfield(a.L, 1, "run");
  const bool is_function = lua_isfunction(a.L, -1);
  lua_pop(a.L, 1);
  if (!is_function) a.fail_field(1, "run", "function(ctx) expected");
  lua_settop(a.L, 1);
  return 1;
}

Instant days_from_now(Args& a, int t, const char* key, std::int64_t days) {
  if (days < 0 || days > kMaxWaitDays) a.fail_field(t, key, "must be 0 to 3660 days");
  return host(a.L).engine.clock.now() + std::chrono::days(days);
}

PendingWait w_wait(Args& a) {
  // `until` is a Lua keyword, so wait{until = d} does not parse; wait{["until"] = d} does,
  // and wait{at = d} says the same more readably.
  a.table(1, "spec", {"days", "until", "at"});
  const auto days = a.opt_field_integer(1, "days");
  auto until = a.opt_field_string(1, "until");
  const auto at = a.opt_field_string(1, "at");
  if (int(days.has_value()) + int(until.has_value()) + int(at.has_value()) != 1) {
    a.fail(1, "spec", "give exactly one of days, at");
  }
  if (at) until = at;
  PendingWait w;
  w.kind = "timer";
  if (days) {
    w.wake_at = days_from_now(a, 1, "days", *days);
  } else if (is_date(*until)) {
    w.wake_at = Instant(parse_date(*until));
  } else {
    try {
      w.wake_at = parse_instant(*until);
    } catch (const Error&) {
      a.fail_field(1, at ? "at" : "until",
                   "date YYYY-MM-DD or instant YYYY-MM-DDTHH:MM:SSZ expected");
    }
  }
  return w;
}

// A list of strings at t[key] (absent: empty).
std::vector<std::string> string_list(Args& a, int t, const char* key) {
  std::vector<std::string> out;
  lua_getfield(a.L, t, key);
  if (lua_isnil(a.L, -1)) {
    lua_pop(a.L, 1);
    return out;
  }
  if (!lua_istable(a.L, -1)) a.fail_field(t, key, "list of strings expected");
  const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(a.L, -1));
  for (lua_Integer i = 1; i <= n; ++i) {
    if (lua_rawgeti(a.L, -1, i) != LUA_TSTRING) a.fail_field(t, key, "list of strings expected");
    out.emplace_back(lua_tostring(a.L, -1));
    lua_pop(a.L, 1);
  }
  lua_pop(a.L, 1);
  return out;
}

// required = {"a", "b"} (for every outcome) or {rejected = {"reason"}} (per outcome).
std::map<std::string, std::vector<std::string>> required_fields(Args& a, int t) {
  std::map<std::string, std::vector<std::string>> out;
  lua_getfield(a.L, t, "required");
  if (lua_isnil(a.L, -1)) {
    lua_pop(a.L, 1);
    return out;
  }
  if (!lua_istable(a.L, -1)) a.fail_field(t, "required", "table expected");
  const int req = lua_gettop(a.L);
  if (lua_rawlen(a.L, req) > 0) {
    lua_pop(a.L, 1);
    out["*"] = string_list(a, t, "required");
    return out;
  }
  lua_pushnil(a.L);
  while (lua_next(a.L, req)) {
    if (lua_type(a.L, -2) != LUA_TSTRING) a.fail_field(t, "required", "keys must be outcomes");
    const std::string outcome = lua_tostring(a.L, -2);
    lua_pop(a.L, 1);
    out[outcome] = string_list(a, req, outcome.c_str());
  }
  lua_pop(a.L, 1);
  return out;
}

// The fields task.await and task.create share, from the table at index 1.
WorkItemSpec read_work_item(Args& a) {
  Host& h = host(a.L);
  WorkItemSpec spec;
  spec.inbox = a.field_string(1, "inbox");
  spec.kind = a.opt_field_string(1, "kind").value_or("task");
  spec.title = a.field_string(1, "title");
  spec.outcomes = string_list(a, 1, "outcomes");
  if (spec.outcomes.empty()) a.fail_field(1, "outcomes", "at least one outcome expected");
  spec.fields = string_list(a, 1, "fields");
  spec.required = required_fields(a, 1);
  spec.sr_id = a.opt_field_object(1, "sr", kSrType);
  if (auto days = a.opt_field_integer(1, "due_in_days")) {
    spec.due_date = format_date(
        std::chrono::floor<std::chrono::days>(days_from_now(a, 1, "due_in_days", *days)));
  }
  spec.submitted_by = a.opt_field_string(1, "submitted_by");
  if (h.instance) {
    spec.instance_id = h.instance;
    if (!spec.submitted_by) spec.submitted_by = h.engine.work_items.last_completed_by(h.instance);
  }
  return spec;
}

PendingWait w_task_await(Args& a) {
  a.table(1, "spec",
          {"inbox", "kind", "title", "outcomes", "fields", "required", "sr", "due_in_days",
           "submitted_by", "timeout_days"});
  const WorkItemSpec spec = read_work_item(a);
  PendingWait w;
  w.kind = "task";
  if (auto days = a.opt_field_integer(1, "timeout_days")) {
    w.wake_at = days_from_now(a, 1, "timeout_days", *days);
  }
  w.ref = host(a.L).engine.work_items.create(spec);
  return w;
}

int w_task_create(Args& a) {
  a.table(1, "spec",
          {"inbox", "kind", "title", "outcomes", "fields", "required", "sr", "due_in_days",
           "submitted_by", "key"});
  WorkItemSpec spec = read_work_item(a);
  // Nobody waits on it, so the item is not the instance's: completing it resumes nothing.
  spec.instance_id.reset();
  spec.key = a.opt_field_string(1, "key");
  lua_pushinteger(a.L, host(a.L).engine.work_items.create(spec));
  return 1;
}

PendingWait w_event_await(Args& a) {
  a.table(1, "spec", {"kind", "account", "letter", "timeout_days"});
  const std::string kind = a.field_string(1, "kind");
  PendingWait w;
  w.kind = kind;
  Engine& engine = host(a.L).engine;
  if (kind == "payment") {
    w.ref = a.field_object(1, "account", kAccountType);
    engine.ledger.account(*w.ref);  // a wrong id fails now, not months later
  } else if (kind == "letter") {
    w.ref = a.field_object(1, "letter", kLetterType);
    const Letter letter = engine.letters.get(*w.ref);
    if (letter.status != "queued") {
      // Already sent (or failed): the answer is known, there is nothing to wait for.
      w.ready = dump(nlohmann::json::array(
          {{{"kind", "letter"}, {"letter", {{"id", letter.id}, {"status", letter.status}}}}}));
      return w;
    }
  } else {
    a.fail_field(1, "kind", "\"payment\" or \"letter\" expected");
  }
  if (auto days = a.opt_field_integer(1, "timeout_days")) {
    w.wake_at = days_from_now(a, 1, "timeout_days", *days);
  }
  return w;
}

const Function kTaskFunctions[] = {
    {"await", wait_entry<w_task_await>,
     "task.await{inbox=, title=, outcomes={...}, kind=, fields={...}, required=, sr=, "
     "due_in_days=, submitted_by=, timeout_days=} -> {outcome=, fields={...}, by=, at=, "
     "work_item=} or {kind=\"timeout\", timeout=true}",
     "Creates a work item in `inbox` (procedures/inboxes.toml) and waits until a user whose "
     "role fits the inbox completes it with one of `outcomes`. `fields` names what the person "
     "may fill in; `required` lists the fields every outcome needs, or per outcome "
     "(`{rejected={\"reason\"}}`). With `kind=\"approval\"` the submitter (`submitted_by`, by "
     "default whoever completed this instance's previous work item) cannot complete it. With "
     "`timeout_days`, an item nobody completes in time is cancelled and the wait returns "
     "`{kind=\"timeout\", timeout=true}`."},
    {"create", entry<w_task_create>,
     "task.create{inbox=, title=, outcomes={...}, kind=, fields={...}, required=, sr=, "
     "due_in_days=, submitted_by=, key=} -> integer",
     "Creates a work item nobody waits on (a scheduled job's, or a procedure's that carries "
     "on) and returns its id. With `key`, at most one item is ever created per key: a second "
     "call returns the first item's id, so a job that runs twice creates its work once."},
};

const Function kEventFunctions[] = {
    {"await", wait_entry<w_event_await>,
     "event.await{kind=\"payment\"|\"letter\", account=, letter=, timeout_days=} -> {kind=, "
     "payment=, letter=, timeout=}",
     "With `kind=\"payment\"`, waits for the next payment recorded to `account` (an Account or "
     "its id) and returns `{kind=\"payment\", payment={id=, amount=, date=}}`. With "
     "`kind=\"letter\"`, waits until `letter` (a Letter or its id) leaves the queue, fulfilled "
     "or failed, and returns `{kind=\"letter\", letter={id=, status=}}`, at once if it already "
     "has. After `timeout_days` without the event, `{kind=\"timeout\", timeout=true}`."},
};

}  // namespace

const Module kTaskModule{"task", "Work items: a procedure's human steps.", kTaskFunctions, {}};
const Module kEventModule{
    "event", "Waiting for something to happen in the domain.", kEventFunctions, {}};

void open_procedure_globals(lua_State* L, int env) {
  env = lua_absindex(L, env);
  lua_pushliteral(L, "procedure");
  lua_pushinteger(L, static_cast<lua_Integer>(Replay::pure));
  lua_pushcclosure(L, entry<w_procedure>, 2);
  lua_setfield(L, env, "procedure");
  lua_pushliteral(L, "wait");
  lua_pushcclosure(L, wait_entry<w_wait>, 1);
  lua_setfield(L, env, "wait");
}

}  // namespace casekit::lua
