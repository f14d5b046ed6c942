// The work-item routes: list an inbox, read an item, claim, release, assign, complete; the
// counts for badges, bulk assignment, a team's workload and the day's transition exceptions
// (team leaders), and each user's saved views.
// Each is parse, authenticate (the router), call the domain service the CLI calls, render:
// who may see or do what is decided in WorkItems, for every caller alike.
#include "engine/core/error.hpp"
#include "engine/core/json.hpp"
#include "engine/http/api.hpp"

namespace casekit::http {
namespace {

std::string today(const Clock& clock) {
  return format_date(clock.today());
}

// The required fields of each outcome, spelt out: those every outcome needs and its own.
nlohmann::json requirements(const WorkItemSpec& spec) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& outcome : spec.outcomes) {
    std::vector<std::string> names;
    for (const std::string& key : {std::string("*"), outcome}) {
      auto it = spec.required.find(key);
      if (it != spec.required.end())
        names.insert(names.end(), it->second.begin(), it->second.end());
    }
    out[outcome] = names;
  }
  return out;
}

// An item as `reader` sees it: with whether they may complete it now, and if not why not
// (decided by WorkItems, as completing it would be).
nlohmann::json item_json(Api& api, const User& reader, const WorkItem& w) {
  const std::string day = today(api.engine.clock);
  const std::string why_not = api.engine.work_items.refusal_to_complete(w, reader);
  return {{"id", w.id},
          {"inbox", w.spec.inbox},
          {"kind", w.spec.kind},
          {"title", w.spec.title},
          {"outcomes", w.spec.outcomes},
          {"fields", w.spec.fields},
          {"requires", requirements(w.spec)},
          {"due", or_null(w.spec.due_date)},
          {"overdue", w.status == "open" && w.spec.due_date && *w.spec.due_date < day},
          {"assignee", or_null(w.assignee)},
          {"team", or_null(w.team)},
          {"status", w.status},
          {"sr", or_null(w.spec.sr_id)},
          {"casegroup", or_null(w.casegroup)},
          {"instance", or_null(w.spec.instance_id)},
          {"submitted_by", or_null(w.spec.submitted_by)},
          {"created", w.created_at},
          {"outcome", or_null(w.outcome)},
          {"field_values", w.field_values},
          {"completed_by", or_null(w.completed_by)},
          {"completed_at", or_null(w.completed_at)},
          {"details", w.spec.details},
          {"ends_with_sr", w.spec.ends_with_sr},
          {"may_complete", why_not.empty()},
          {"why_not", why_not.empty() ? nlohmann::json(nullptr) : nlohmann::json(why_not)}};
}

Response list(Api& api, Call& call) {
  const WorkItemPage page =
      api.engine.work_items.query(work_item_query(call.request.query, call.user()), call.user());
  nlohmann::json items = nlohmann::json::array();
  for (const auto& w : page.items) items.push_back(item_json(api, call.user(), w));
  return json_response(
      {{"items", items}, {"next_cursor", or_null(page.next_cursor)}, {"total", page.total}});
}

// The item must be one the user may see, before anything is said about it: ids of other
// teams' work answer as unknown.
Id visible_id(Api& api, const Call& call) {
  const Id id = path_id(call, "work item");
  api.engine.work_items.get_for(id, call.user());
  return id;
}

std::map<std::string, std::string> field_values(const nlohmann::json& body) {
  std::map<std::string, std::string> out;
  auto it = body.find("fields");
  if (it == body.end() || it->is_null()) return out;
  if (!it->is_object()) throw Error(ErrorCode::bad_argument, "fields must be an object");
  for (const auto& [name, value] : it->items()) {
    if (value.is_string()) {
      out[name] = value.get<std::string>();
    } else if (value.is_number_integer()) {
      out[name] = std::to_string(value.get<std::int64_t>());
    } else {
      throw Error(ErrorCode::bad_argument,
                  "field '" + name + "' must be text or a whole number (money is in pence)");
    }
  }
  return out;
}

Response complete(Api& api, Call& call) {
  refuse_other_keys(call.body, {"outcome", "fields"});
  const Id id = visible_id(api, call);
  const std::string outcome = text_field(call.body, "outcome", 200);
  const auto fields = field_values(call.body);
  const WorkItem done = api.runtime.complete_task(id, outcome, fields, call.user().name);
  nlohmann::json next = {
      {"work_items", nlohmann::json::array()}, {"sr", nullptr}, {"instance", nullptr}};
  if (done.spec.instance_id) {
    for (const auto& w : api.engine.work_items.opened_since(*done.spec.instance_id, done.id)) {
      if (api.engine.work_items.refusal_to_see(w, call.user()).empty()) {
        next["work_items"].push_back(item_json(api, call.user(), w));
      }
    }
    const Instance instance = api.runtime.store().get(*done.spec.instance_id);
    next["instance"] = {{"id", instance.id}, {"status", instance.status}};
  }
  if (done.spec.sr_id) {
    const ServiceRequest sr = api.engine.srs.get(*done.spec.sr_id);
    next["sr"] = {{"id", sr.id}, {"status", sr.status}, {"sub_status", or_null(sr.sub_status)}};
  }
  return json_response({{"item", item_json(api, call.user(), done)}, {"next", next}});
}

// Claim, release and assign: a change to one item the user may see, made as them, answered
// with the item as it now is. `change(id, user)` calls the domain service.
template <typename F>
Handler item_change(Api& api, std::vector<std::string> allowed, F change) {
  return [&api, allowed = std::move(allowed), change](Call& c) {
    refuse_other_keys(c.body, allowed);
    const Id id = visible_id(api, c);
    const WorkItem item = as_user(api, c.user(), [&] { return change(id, c); });
    return json_response(item_json(api, c.user(), item));
  };
}

// POST /api/v1/work-items/assign {"items": [{"id", "to", "if_assignee"}]}: one result per
// item, each done or not on its own (WorkItems::assign_each), all as the signed-in leader.
Response assign_many(Api& api, Call& call) {
  refuse_other_keys(call.body, {"items"});
  const auto it = call.body.find("items");
  if (it == call.body.end() || !it->is_array() || it->empty()) {
    throw Error(ErrorCode::bad_argument, "items is required: a list of {id, to, if_assignee}");
  }
  std::vector<Assignment> list;
  for (const auto& entry : *it) {
    if (!entry.is_object()) {
      throw Error(ErrorCode::bad_argument, "each item is an object {id, to, if_assignee}");
    }
    refuse_other_keys(entry, {"id", "to", "if_assignee"});
    const auto id = entry.find("id");
    if (id == entry.end() || !id->is_number_integer() || id->get<std::int64_t>() <= 0) {
      throw Error(ErrorCode::bad_argument, "each item needs an id, a whole number above 0");
    }
    if (!entry.contains("if_assignee")) {
      throw Error(ErrorCode::bad_argument,
                  "each item needs if_assignee: the assignee you saw, or null");
    }
    list.push_back({id->get<Id>(), text_field(entry, "to", 64),
                    optional_text_field(entry, "if_assignee", 64)});
  }
  const auto results = as_user(
      api, call.user(), [&] { return api.engine.work_items.assign_each(list, call.user().name); });
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : results) {
    out.push_back(
        {{"id", r.id},
         {"result", r.result},
         {"message", r.message.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.message)},
         {"item", r.item ? item_json(api, call.user(), *r.item) : nlohmann::json(nullptr)}});
  }
  return json_response({{"results", out}});
}

Response counts(Api& api, const Call& call) {
  no_query(call);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : api.engine.work_items.counts(call.user())) {
    out.push_back({{"inbox", c.inbox}, {"status", c.status}, {"n", c.n}, {"overdue", c.overdue}});
  }
  return json_response({{"counts", out}});
}

Response workload(Api& api, const Call& call) {
  no_query(call);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& w : api.engine.work_items.workload(call.user())) {
    out.push_back({{"user", w.user},
                   {"open", w.open},
                   {"overdue", w.overdue},
                   {"completed_today", w.completed_today}});
  }
  return json_response({{"team", or_null(call.user().team)}, {"caseworkers", out}});
}

// GET /api/v1/exceptions?date=YYYY-MM-DD: the day's transition exceptions (default today).
Response exceptions(Api& api, const Call& call) {
  std::string date = today(api.engine.clock);
  for (const auto& [key, value] : call.request.query) {
    if (key != "date") throw Error(ErrorCode::bad_argument, "the only parameter is date");
    if (!is_date(value)) throw Error(ErrorCode::bad_argument, "date: expected YYYY-MM-DD");
    date = value;
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& x : api.engine.exceptions.report_for(call.user(), date)) {
    out.push_back(to_json(x));
  }
  return json_response({{"date", date}, {"exceptions", out}});
}

// POST /api/v1/exceptions/{id}/allocate {"to": NAME}
Response allocate_exception(Api& api, Call& call) {
  refuse_other_keys(call.body, {"to"});
  const std::string to = text_field(call.body, "to", 64);
  const Id id = path_id(call, "transition exception");
  const TransitionException x = as_user(
      api, call.user(), [&] { return api.engine.exceptions.allocate(id, to, call.user()); });
  return json_response(to_json(x));
}

nlohmann::json view_json(const SavedView& v) {
  return {{"name", v.name}, {"filter", v.filter}, {"updated_at", v.updated_at}};
}

// PUT /api/v1/views/{name} {"filter": {"inbox": "...", "sort": "due", ...}}
Response put_view(Api& api, Call& call) {
  refuse_other_keys(call.body, {"filter"});
  const auto it = call.body.find("filter");
  if (it == call.body.end() || !it->is_object()) {
    throw Error(ErrorCode::bad_argument,
                "filter is required: an object of the listing's parameters, as text");
  }
  std::map<std::string, std::string> filter;
  for (const auto& [key, value] : it->items()) {
    if (!value.is_string()) {
      throw Error(ErrorCode::bad_argument, "filter." + key + " must be text, as in a query");
    }
    filter[key] = value.get<std::string>();
  }
  const User& user = call.user();
  const SavedView v = as_user(
      api, call.user(), [&] { return api.engine.views.put(user, call.params.at("name"), filter); });
  return json_response(view_json(v));
}

}  // namespace

void add_work_routes(Router& router, Api& api) {
  WorkItems& items = api.engine.work_items;
  // The fixed paths come before /api/v1/work-items/{id}: the first route that matches wins.
  router.add({"GET",
              "/api/v1/work-items/counts",
              Access::signed_in,
              "How many items the user may see, per inbox and status, with the overdue",
              [&api](Call& c) { return counts(api, c); },
              {}});
  router.add({"POST",
              "/api/v1/work-items/assign",
              Access::signed_in,
              "A team leader gives many items out at once; one result per item",
              [&api](Call& c) { return assign_many(api, c); },
              {}});
  router.add({"GET",
              "/api/v1/team/workload",
              Access::signed_in,
              "A team leader's caseworkers: open, overdue and completed today",
              [&api](Call& c) { return workload(api, c); },
              {}});
  router.add({"GET",
              "/api/v1/exceptions",
              Access::signed_in,
              "A day's transition exceptions with their allocation (team leaders)",
              [&api](Call& c) { return exceptions(api, c); },
              {}});
  router.add({"POST",
              "/api/v1/exceptions/{id}/allocate",
              Access::signed_in,
              "Give a transition exception to a caseworker as a work item (team leaders)",
              [&api](Call& c) { return allocate_exception(api, c); },
              {}});
  router.add({"GET",
              "/api/v1/views",
              Access::signed_in,
              "The user's saved inbox views",
              [&api](Call& c) {
                nlohmann::json out = nlohmann::json::array();
                for (const auto& v : api.engine.views.list(c.user())) out.push_back(view_json(v));
                return json_response({{"views", out}});
              },
              {}});
  router.add({"PUT",
              "/api/v1/views/{name}",
              Access::signed_in,
              "Save (or replace) a named inbox filter and sort",
              [&api](Call& c) { return put_view(api, c); },
              {}});
  router.add({"DELETE",
              "/api/v1/views/{name}",
              Access::signed_in,
              "Delete a saved view",
              [&api](Call& c) {
                as_user(api, c.user(), [&] {
                  api.engine.views.remove(c.user(), c.params.at("name"));
                  return 0;
                });
                return json_response({{"deleted", c.params.at("name")}});
              },
              {}});
  router.add({"GET",
              "/api/v1/work-items",
              Access::signed_in,
              "The work items the user may see, filtered, a page at a time",
              [&api](Call& c) { return list(api, c); },
              {}});
  router.add({"GET",
              "/api/v1/work-items/{id}",
              Access::signed_in,
              "One work item",
              [&api, &items](Call& c) {
                return json_response(
                    item_json(api, c.user(), items.get_for(path_id(c, "work item"), c.user())));
              },
              {}});
  router.add(
      {"POST",
       "/api/v1/work-items/{id}/claim",
       Access::signed_in,
       "Take an unclaimed item for oneself",
       item_change(api, {},
                   [&items](Id id, const Call& c) { return items.claim(id, c.user().name); }),
       {}});
  router.add(
      {"POST",
       "/api/v1/work-items/{id}/release",
       Access::signed_in,
       "Give a claimed item back to its inbox",
       item_change(api, {},
                   [&items](Id id, const Call& c) { return items.release(id, c.user().name); }),
       {}});
  router.add({"POST",
              "/api/v1/work-items/{id}/assign",
              Access::signed_in,
              "A team leader gives an item to someone, if its assignee is still the one seen",
              item_change(api, {"to", "if_assignee"},
                          [&items](Id id, const Call& c) {
                            const std::string to = text_field(c.body, "to", 64);
                            if (!c.body.contains("if_assignee")) {
                              throw Error(ErrorCode::bad_argument,
                                          "if_assignee is required: the assignee you saw, or null");
                            }
                            const auto seen = optional_text_field(c.body, "if_assignee", 64);
                            return items.assign(id, to, seen, c.user().name);
                          }),
              {}});
  router.add({"POST",
              "/api/v1/work-items/{id}/complete",
              Access::signed_in,
              "Complete an item with an outcome and fields; the procedure resumes",
              [&api](Call& c) { return complete(api, c); },
              {}});
}

}  // namespace casekit::http
