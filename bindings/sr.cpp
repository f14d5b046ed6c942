// Lua module `sr`: service requests, validated against procedures/sr_catalogue.toml.
#include "bindings/modules.hpp"

namespace casekit::lua {
namespace {

ServiceRequests& srs(Args& a) {
  return host(a.L).engine.srs;
}

void push_sr_list(lua_State* L, const std::vector<ServiceRequest>& list) {
  push_list(L, list, [&](const ServiceRequest& r) { push_object(L, kSrType, r.id); });
}

// Field values are text; integers are accepted and stored as their decimal form.
std::optional<std::string> field_value(Args& a, int i) {
  if (a.none(i)) return std::nullopt;
  if (lua_isinteger(a.L, i)) return std::to_string(lua_tointeger(a.L, i));
  return a.string(i, "value");
}

constexpr Key kCreateKeys[] = {{"process", "string", Catalogue::sr_process},
                               {"area", "string", Catalogue::sr_area},
                               {"sub_area", "string", Catalogue::sr_sub_area},
                               {"casegroup", "Casegroup or id"},
                               {"case", "Case or id"},
                               {"parent", "SR or id"},
                               {"reason", "string"},
                               {"status", "string", Catalogue::sr_status},
                               {"sub_status", "string"}};

int w_create(Args& a) {
  a.table(1, "sr");
  NewServiceRequest r;
  r.process = a.field_string(1, "process");
  r.area = a.field_string(1, "area");
  r.sub_area = a.field_string(1, "sub_area");
  r.casegroup_id = a.opt_field_object(1, "casegroup", kCasegroupType);
  r.case_id = a.opt_field_object(1, "case", kCaseType);
  r.parent_id = a.opt_field_object(1, "parent", kSrType);
  r.reason = a.opt_field_string(1, "reason");
  r.status = a.opt_field_string(1, "status").value_or("Open");
  r.sub_status = a.opt_field_string(1, "sub_status");
  push_object(a.L, kSrType, srs(a).create(r));
  return 1;
}

int w_get(Args& a) {
  const Id id = a.integer(1, "id");
  srs(a).get(id);
  push_object(a.L, kSrType, id);
  return 1;
}

constexpr Key kFindKeys[] = {{"casegroup", "Casegroup or id"},
                             {"sub_area", "string", Catalogue::sr_sub_area},
                             {"status", "string", Catalogue::sr_status},
                             {"open", "boolean"},
                             {"after", "integer"},
                             {"limit", "integer"}};

int w_find(Args& a) {
  a.table(1, "query");
  SrFilter f;
  f.casegroup_id = a.opt_field_object(1, "casegroup", kCasegroupType);
  f.sub_area = a.opt_field_string(1, "sub_area");
  f.status = a.opt_field_string(1, "status");
  f.open_only = a.opt_field_boolean(1, "open").value_or(false);
  f.after = a.opt_field_integer(1, "after").value_or(0);
  const auto limit = a.opt_field_integer(1, "limit").value_or(100);
  if (limit < 1 || limit > 10000) a.fail_field(1, "limit", "must be between 1 and 10000");
  f.limit = static_cast<int>(limit);
  push_sr_list(a.L, srs(a).list(f));
  return 1;
}

ServiceRequest load_sr(Args& a) {
  return srs(a).get(a.object(1, kSrType, "self"));
}

// ---- SR methods -----------------------------------------------------------------------------

int m_set_status(Args& a) {
  const Id id = a.object(1, kSrType, "self");
  const std::string status = a.string(2, "status");
  srs(a).set_status(id, status, a.opt_string(3, "sub_status"));
  return 0;
}

int m_close(Args& a) {
  const Id id = a.object(1, kSrType, "self");
  const std::string sub_status = a.string(2, "sub_status");
  srs(a).close(id, sub_status, a.opt_string(3, "resolution_code"));
  return 0;
}

int m_set_reason(Args& a) {
  const Id id = a.object(1, kSrType, "self");
  srs(a).set_reason(id, a.opt_string(2, "reason"));
  return 0;
}

int m_set_resolution_code(Args& a) {
  const Id id = a.object(1, kSrType, "self");
  srs(a).set_resolution_code(id, a.opt_string(2, "code"));
  return 0;
}

int m_add_note(Args& a) {
  const Id id = a.object(1, kSrType, "self");
  srs(a).add_note(id, host(a.L).actor, a.string(2, "text"));
  return 0;
}

int m_notes(Args& a) {
  const auto notes = srs(a).notes(a.object(1, kSrType, "self"));
  push_list(a.L, notes, [&](const SrNote& n) {
    lua_createtable(a.L, 0, 3);
    set_field(a.L, "author", n.author);
    set_field(a.L, "text", n.body);
    set_field(a.L, "created_at", n.created_at);
  });
  return 1;
}

int m_set_field(Args& a) {
  const Id id = a.object(1, kSrType, "self");
  const std::string name = a.string(2, "name");
  srs(a).set_field(id, name, field_value(a, 3));
  return 0;
}

int m_field(Args& a) {
  const Id id = a.object(1, kSrType, "self");
  push_optional(a.L, srs(a).field(id, a.string(2, "name")));
  return 1;
}

int m_fields(Args& a) {
  const auto fields = srs(a).fields(a.object(1, kSrType, "self"));
  lua_createtable(a.L, 0, static_cast<int>(fields.size()));
  for (const auto& [name, value] : fields) {
    push_string(a.L, value);
    lua_setfield(a.L, -2, name.c_str());
  }
  return 1;
}

int m_add_step(Args& a) {
  const Id id = a.object(1, kSrType, "self");
  srs(a).add_step(id, a.string(2, "name"));
  return 0;
}

int m_add_steps(Args& a) {
  const Id id = a.object(1, kSrType, "self");
  if (!lua_istable(a.L, 2)) a.fail(2, "names", "list of step names expected");
  std::vector<std::string> names;
  const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(a.L, 2));
  for (lua_Integer i = 1; i <= n; ++i) {
    if (lua_rawgeti(a.L, 2, i) != LUA_TSTRING) a.fail(2, "names", "list of step names expected");
    names.emplace_back(lua_tostring(a.L, -1));
    lua_pop(a.L, 1);
  }
  const std::string status = a.none(3) ? "pending" : a.string(3, "status");
  srs(a).add_steps(id, names, status);
  return 0;
}

int m_complete_step(Args& a) {
  const Id id = a.object(1, kSrType, "self");
  srs(a).set_step(id, a.string(2, "name"), "done");
  return 0;
}

int m_skip_step(Args& a) {
  const Id id = a.object(1, kSrType, "self");
  srs(a).set_step(id, a.string(2, "name"), "skipped");
  return 0;
}

int m_steps(Args& a) {
  const auto steps = srs(a).steps(a.object(1, kSrType, "self"));
  push_list(a.L, steps, [&](const SrStep& s) {
    lua_createtable(a.L, 0, 3);
    set_field(a.L, "seq", s.seq);
    set_field(a.L, "name", s.name);
    set_field(a.L, "status", s.status);
  });
  return 1;
}

int m_relate(Args& a) {
  const Id id = a.object(1, kSrType, "self");
  srs(a).relate(id, a.object_or_id(2, kSrType, "other"));
  return 0;
}

int m_related(Args& a) {
  const auto ids = srs(a).related(a.object(1, kSrType, "self"));
  push_list(a.L, ids, [&](Id id) { push_object(a.L, kSrType, id); });
  return 1;
}

int m_children(Args& a) {
  push_sr_list(a.L, srs(a).children(a.object(1, kSrType, "self")));
  return 1;
}

// ---- declarations -------------------------------------------------------------------------

const Function kFunctions[] = {
    {"create", entry<w_create>, "sr.create{} -> SR",
     "Raises a service request. Process / Area / Sub Area must be in the SR catalogue "
     "(matched without regard to capitals). `case` implies its casegroup; `parent` makes this "
     "a child SR. Status defaults to Open.",
     Replay::record, kCreateKeys},
    {"get", entry<w_get>, "sr.get(id) -> SR", "The SR with this id; error if none."},
    {"find", entry<w_find>, "sr.find{} -> {SR}",
     "SRs in id order. `open=true` leaves out closed ones; `after=` an id, for the next page.",
     Replay::record, kFindKeys},
};

const Property kProperties[] = {
    {"id", entry<object_id<kSrType>>, "integer", "SR id.", true},
    {"process", entry<field<load_sr, &ServiceRequest::process>>, "string",
     "Process, as spelled in the catalogue.", true},
    {"area", entry<field<load_sr, &ServiceRequest::area>>, "string", "Area.", true},
    {"sub_area", entry<field<load_sr, &ServiceRequest::sub_area>>, "string", "Sub Area.", true},
    {"status", entry<field<load_sr, &ServiceRequest::status>>, "string",
     "Status (see `statuses` in the SR catalogue)."},
    {"sub_status", entry<field<load_sr, &ServiceRequest::sub_status>>, "string|nil", "Sub Status."},
    {"resolution_code", entry<field<load_sr, &ServiceRequest::resolution_code>>, "string|nil",
     "Resolution code."},
    {"reason", entry<field<load_sr, &ServiceRequest::reason>>, "string|nil",
     "Reason, e.g. Automated Financial Transition."},
    {"owner_team", entry<field<load_sr, &ServiceRequest::owner_team>>, "string|nil",
     "Team that owns this SR type."},
    {"created_at", entry<field<load_sr, &ServiceRequest::created_at>>, "string",
     "When it was raised (engine clock).", true},
    {"closed_at", entry<field<load_sr, &ServiceRequest::closed_at>>, "string|nil",
     "When it was closed."},
    {"is_open", entry<field<load_sr, &ServiceRequest::open>>, "boolean", "Not yet Closed."},
    {"casegroup", entry<object_field<load_sr, &ServiceRequest::casegroup_id, kCasegroupType>>,
     "Casegroup|nil", "The casegroup it is about.", true},
    {"case", entry<object_field<load_sr, &ServiceRequest::case_id, kCaseType>>, "Case|nil",
     "The case it is linked to.", true},
    {"parent", entry<object_field<load_sr, &ServiceRequest::parent_id, kSrType>>, "SR|nil",
     "The parent SR of a child SR.", true},
};

const Function kMethods[] = {
    {"set_status", entry<m_set_status>, "sr:set_status(status, sub_status=nil)",
     "Sets Status and Sub Status. Setting Closed is the same as sr:close(sub_status)."},
    {"close", entry<m_close>, "sr:close(sub_status, resolution_code=nil)",
     "Closes the SR with a Sub Status such as Complete or Cancelled."},
    {"set_reason", entry<m_set_reason>, "sr:set_reason(reason|nil)", "Sets the reason."},
    {"set_resolution_code", entry<m_set_resolution_code>, "sr:set_resolution_code(code|nil)",
     "Sets the resolution code."},
    {"add_note", entry<m_add_note>, "sr:add_note(text)",
     "Appends a note, authored by the running script or procedure."},
    {"notes", entry<m_notes>, "sr:notes() -> {{author, text, created_at}}", "Notes, oldest first."},
    {"set_field", entry<m_set_field>, "sr:set_field(name, value|nil)",
     "Sets a named field (text or integer), or removes it with nil."},
    {"field", entry<m_field>, "sr:field(name) -> string|nil", "A named field's value."},
    {"fields", entry<m_fields>, "sr:fields() -> {name = value}", "All named fields."},
    {"add_step", entry<m_add_step>, "sr:add_step(name)", "Appends an activity-plan step."},
    {"add_steps", entry<m_add_steps>, "sr:add_steps({names}, status='pending')",
     "Appends activity-plan steps in order. Status `done` (or `skipped`) records steps the "
     "system has already taken, in one write."},
    {"complete_step", entry<m_complete_step>, "sr:complete_step(name)",
     "Marks an activity-plan step done."},
    {"skip_step", entry<m_skip_step>, "sr:skip_step(name)", "Marks an activity-plan step skipped."},
    {"steps", entry<m_steps>, "sr:steps() -> {{seq, name, status}}", "The activity plan."},
    {"relate", entry<m_relate>, "sr:relate(other)", "Links another SR as related (both ways)."},
    {"related", entry<m_related>, "sr:related() -> {SR}", "Related SRs."},
    {"children", entry<m_children>, "sr:children() -> {SR}", "Child SRs."},
};

const Type* const kTypes[] = {&kSrType};

}  // namespace

const Type kSrType{"SR", "A service request.", kMethods, kProperties};
const Module kSrModule{"sr", "Service requests.", kFunctions, kTypes};

}  // namespace casekit::lua
