// The `task` module: a procedure's human steps, as work items in an inbox. task.await is a
// wait (journaled as pending, the coroutine yields, and completing the item resumes the
// instance); task.create makes an item nobody waits on.
#include <array>

#include "bindings/history.hpp"
#include "bindings/lua_json.hpp"
#include "bindings/modules.hpp"

namespace casekit::lua {
namespace {

// A list of strings at t[key] (absent: empty).
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
    out["*"] = a.field_string_list(t, "required");
    return out;
  }
  lua_pushnil(a.L);
  while (lua_next(a.L, req)) {
    if (lua_type(a.L, -2) != LUA_TSTRING) a.fail_field(t, "required", "keys must be outcomes");
    const std::string outcome = lua_tostring(a.L, -2);
    lua_pop(a.L, 1);
    out[outcome] = a.field_string_list(req, outcome.c_str());
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
  spec.outcomes = a.field_string_list(1, "outcomes");
  if (spec.outcomes.empty()) a.fail_field(1, "outcomes", "at least one outcome expected");
  spec.fields = a.field_string_list(1, "fields");
  spec.required = required_fields(a, 1);
  spec.sr_id = a.opt_field_object(1, "sr", kSrType);
  if (auto days = a.opt_field_integer(1, "due_in_days")) {
    spec.due_date = format_date(
        std::chrono::floor<std::chrono::days>(days_from_now(a, 1, "due_in_days", *days)));
  }
  spec.submitted_by = a.opt_field_string(1, "submitted_by");
  spec.not_by = a.field_string_list(1, "not_by");
  lua_getfield(a.L, 1, "details");
  if (!lua_isnil(a.L, -1)) {
    if (!lua_istable(a.L, -1)) a.fail_field(1, "details", "table expected");
    spec.details = to_json(a.L, lua_gettop(a.L));
    if (!spec.details.is_object()) a.fail_field(1, "details", "table of names expected");
  }
  lua_pop(a.L, 1);
  if (h.instance) {
    spec.instance_id = h.instance;
    // An approval's submitter is, unless named, whoever did the instance's last step. Only an
    // approval's: a submitter bars its holder from the item, and the next step of any
    // other kind is rightly the same person's.
    if (!spec.submitted_by && spec.kind == "approval") {
      spec.submitted_by = h.engine.work_items.last_completed_by(h.instance);
    }
  }
  return spec;
}

// The keys of a work item's spec (read_work_item), and the keys each call adds.
template <typename... Own>
constexpr std::array<Key, 11 + sizeof...(Own)> work_item_keys(Own... own) {
  return {{{"inbox", "string", Catalogue::inbox},
           {"kind", "string"},
           {"title", "string"},
           {"outcomes", "list of strings"},
           {"fields", "list of strings"},
           {"required", "list of strings, or outcome -> list"},
           {"sr", "SR or id"},
           {"due_in_days", "integer"},
           {"submitted_by", "string"},
           {"not_by", "list of strings"},
           {"details", "table"},
           own...}};
}

constexpr auto kTaskAwaitKeys =
    work_item_keys(Key{"timeout_days", "integer"}, Key{"ends_with_sr", "boolean"});

PendingWait w_await(Args& a) {
  a.table(1, "spec");
  WorkItemSpec spec = read_work_item(a);
  spec.ends_with_sr = a.opt_field_boolean(1, "ends_with_sr").value_or(false);
  PendingWait w;
  w.kind = "task";
  if (auto days = a.opt_field_integer(1, "timeout_days")) {
    w.wake_at = days_from_now(a, 1, "timeout_days", *days);
  }
  w.ref = host(a.L).engine.work_items.create(spec);
  return w;
}

constexpr auto kTaskCreateKeys = work_item_keys(Key{"key", "string"});

int w_create(Args& a) {
  a.table(1, "spec");
  WorkItemSpec spec = read_work_item(a);
  // Nobody waits on it, so the item is not the instance's: completing it resumes nothing.
  spec.instance_id.reset();
  spec.key = a.opt_field_string(1, "key");
  lua_pushinteger(a.L, host(a.L).engine.work_items.create(spec));
  return 1;
}

const Function kTaskFunctions[] = {
    {"await", wait_entry<w_await>,
     "task.await{} -> {outcome=, fields={...}, by=, at=, work_item=} or {kind=\"timeout\", "
     "timeout=true} or {kind=\"cancelled\", cancelled=true}",
     "Creates a work item in `inbox` (procedures/inboxes.toml) and waits until a user whose "
     "role fits the inbox completes it with one of `outcomes`. `fields` names what the person "
     "may fill in; `required` lists the fields every outcome needs, or per outcome "
     "(`{rejected={\"reason\"}}`). Segregation of duties, whatever the kind: neither the "
     "submitter (`submitted_by`; for `kind=\"approval\"`, by default whoever completed this "
     "instance's previous work item) nor anyone in `not_by` (whoever entered or amended what "
     "the item approves or signs off) can complete it; names match without regard to case. "
     "Who may see and complete it also follows its SR's owner team. `details` says what the item "
     "is about, for whoever completes it and for what it authorises (a letter sign-off names "
     "`template`, `free_text` and `to`, the recipients' ids: see letter.send). With "
     "`timeout_days`, an item nobody completes in time is cancelled and the wait returns "
     "`{kind=\"timeout\", timeout=true}`. With `ends_with_sr = true` (and `sr`), the item is "
     "cancelled when its SR closes, however it closes, and the wait returns "
     "`{kind=\"cancelled\", cancelled=true}`: for a step that means nothing once the SR is "
     "closed.",
     Replay::record, kTaskAwaitKeys},
    {"create", entry<w_create>, "task.create{} -> integer",
     "Creates a work item nobody waits on (a scheduled job's, or a procedure's that carries "
     "on) and returns its id. With `key`, at most one item is ever created per key: a second "
     "call returns the first item's id, so a job that runs twice creates its work once.",
     Replay::record, kTaskCreateKeys},
};

}  // namespace

const Module kTaskModule{"task", "Work items: a procedure's human steps.", kTaskFunctions, {}};

}  // namespace casekit::lua
