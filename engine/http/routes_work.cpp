// The work-item routes: list an inbox, read an item, claim, release, assign, complete.
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

nlohmann::json item_json(const WorkItem& w, const std::string& today) {
  return {{"id", w.id},
          {"inbox", w.spec.inbox},
          {"kind", w.spec.kind},
          {"title", w.spec.title},
          {"outcomes", w.spec.outcomes},
          {"fields", w.spec.fields},
          {"requires", requirements(w.spec)},
          {"due", or_null(w.spec.due_date)},
          {"overdue", w.status == "open" && w.spec.due_date && *w.spec.due_date < today},
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
          {"details", w.spec.details}};
}

// Names in a body are never who acts: the signed-in user is. A body that says otherwise is
// refused rather than quietly overruled.
void refuse_other_keys(const nlohmann::json& body, const std::vector<std::string>& allowed) {
  for (const auto& [key, value] : body.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      throw Error(ErrorCode::bad_argument,
                  "unknown field '" + key + "' (the user acting is always the one signed in)");
    }
  }
}

WorkItemQuery listing(const Call& call) {
  WorkItemQuery q;
  for (const auto& [key, value] : call.request.query) {
    if (value.empty()) continue;
    if (key == "inbox") {
      q.inbox = value;
    } else if (key == "kind") {
      q.kind = value;
    } else if (key == "status") {
      q.status = value;
    } else if (key == "assignee") {
      q.assignee = value == "me" ? call.user().name : value == "none" ? "" : value;
    } else if (key == "casegroup") {
      q.casegroup = whole_number(key, value);
    } else if (key == "sr") {
      q.sr = whole_number(key, value);
    } else if (key == "overdue") {
      if (value != "true" && value != "false") {
        throw Error(ErrorCode::bad_argument, "overdue must be true or false");
      }
      q.overdue = value == "true";
    } else if (key == "sort") {
      q.sort = value;
    } else if (key == "limit") {
      q.limit = static_cast<int>(std::min<std::int64_t>(whole_number(key, value), 100000));
    } else if (key == "cursor") {
      q.cursor = value;
    } else {
      throw Error(ErrorCode::bad_argument, "unknown query parameter '" + key + "'");
    }
  }
  return q;
}

Response list(Api& api, Call& call) {
  const WorkItemPage page = api.engine.work_items.query(listing(call), call.user());
  const std::string day = today(api.engine.clock);
  nlohmann::json items = nlohmann::json::array();
  for (const auto& w : page.items) items.push_back(item_json(w, day));
  return json_response(
      {{"items", items}, {"next_cursor", or_null(page.next_cursor)}, {"total", page.total}});
}

// A change made by the signed-in user, audited as theirs, in one transaction.
template <typename F>
WorkItem as_user(Api& api, const Call& call, F change) {
  ActorScope actor(api.engine.db, "user:" + call.user().name);
  Transaction tx(api.engine.db);
  WorkItem item = change();
  tx.commit();
  return item;
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
  const std::string day = today(api.engine.clock);
  nlohmann::json next = {
      {"work_items", nlohmann::json::array()}, {"sr", nullptr}, {"instance", nullptr}};
  if (done.spec.instance_id) {
    for (const auto& w : api.engine.work_items.opened_since(*done.spec.instance_id, done.id)) {
      if (api.engine.work_items.refusal_to_see(w, call.user()).empty()) {
        next["work_items"].push_back(item_json(w, day));
      }
    }
    const Instance instance = api.runtime.store().get(*done.spec.instance_id);
    next["instance"] = {{"id", instance.id}, {"status", instance.status}};
  }
  if (done.spec.sr_id) {
    const ServiceRequest sr = api.engine.srs.get(*done.spec.sr_id);
    next["sr"] = {{"id", sr.id}, {"status", sr.status}, {"sub_status", or_null(sr.sub_status)}};
  }
  return json_response({{"item", item_json(done, day)}, {"next", next}});
}

// Claim, release and assign: a change to one item the user may see, made as them, answered
// with the item as it now is. `change(id, user)` calls the domain service.
template <typename F>
Handler item_change(Api& api, std::vector<std::string> allowed, F change) {
  return [&api, allowed = std::move(allowed), change](Call& c) {
    refuse_other_keys(c.body, allowed);
    const Id id = visible_id(api, c);
    const WorkItem item = as_user(api, c, [&] { return change(id, c); });
    return json_response(item_json(item, today(api.engine.clock)));
  };
}

}  // namespace

void add_work_routes(Router& router, Api& api) {
  WorkItems& items = api.engine.work_items;
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
                return json_response(item_json(items.get_for(path_id(c, "work item"), c.user()),
                                               today(api.engine.clock)));
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
