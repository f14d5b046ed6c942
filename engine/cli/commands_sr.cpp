// casekit sr list | show
#include <iostream>

#include "engine/cli/cli.hpp"
#include "engine/core/json.hpp"

namespace casekit::cli {

void add_sr_commands(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("sr", "Look at service requests");
  group->require_subcommand(1);

  struct ListOptions {
    std::optional<std::int64_t> casegroup;
    std::string sub_area;
    std::string status;
    bool open = false;
    int limit = 100;
    bool json = false;
  };
  auto lo = std::make_shared<ListOptions>();
  auto* list = group->add_subcommand("list", "List SRs in id order");
  list->add_option("--casegroup", lo->casegroup, "only this casegroup's SRs");
  list->add_option("--sub-area", lo->sub_area, "only this Sub Area");
  list->add_option("--status", lo->status, "only this Status");
  list->add_flag("--open", lo->open, "leave out closed SRs");
  list->add_option("--limit", lo->limit, "at most this many")->check(CLI::Range(1, 100000));
  list->add_flag("--json", lo->json, "print JSON");
  list->callback([&ctx, lo] {
    Engine& e = ctx.open();
    SrFilter f;
    f.casegroup_id = lo->casegroup;
    if (!lo->sub_area.empty()) f.sub_area = lo->sub_area;
    if (!lo->status.empty()) f.status = lo->status;
    f.open_only = lo->open;
    f.limit = lo->limit;
    const auto srs = e.srs.list(f);
    if (lo->json) {
      print_json_list(srs);
      return;
    }
    std::vector<std::vector<std::string>> rows = {
        {"id", "casegroup", "process / area / sub area", "status", "sub status", "reason"}};
    for (const auto& r : srs) {
      rows.push_back({std::to_string(r.id), r.casegroup_id ? std::to_string(*r.casegroup_id) : "-",
                      r.process + " / " + r.area + " / " + r.sub_area, r.status,
                      or_dash(r.sub_status), or_dash(r.reason)});
    }
    print_table(rows);
  });

  struct ShowOptions {
    std::int64_t id = 0;
    bool json = false;
  };
  auto so = std::make_shared<ShowOptions>();
  auto* show = group->add_subcommand("show", "Show one SR with its notes, fields and plan");
  show->add_option("id", so->id, "SR id")->required();
  show->add_flag("--json", so->json, "print JSON");
  show->callback([&ctx, so] {
    Engine& e = ctx.open();
    const ServiceRequest r = e.srs.get(so->id);
    const auto notes = e.srs.notes(r.id);
    const auto fields = e.srs.fields(r.id);
    const auto steps = e.srs.steps(r.id);
    const auto related = e.srs.related(r.id);
    const auto children = e.srs.children(r.id);
    if (so->json) {
      print_json(sr_json(e.srs, r));
      return;
    }
    std::cout << "SR " << r.id << "  " << r.process << " / " << r.area << " / " << r.sub_area
              << "\n";
    print_table({{"  status", r.status + (r.sub_status ? " / " + *r.sub_status : "")},
                 {"  resolution", or_dash(r.resolution_code)},
                 {"  reason", or_dash(r.reason)},
                 {"  casegroup", r.casegroup_id ? std::to_string(*r.casegroup_id) : "-"},
                 {"  parent SR", r.parent_id ? std::to_string(*r.parent_id) : "-"},
                 {"  owner team", or_dash(r.owner_team)},
                 {"  created", r.created_at},
                 {"  closed", or_dash(r.closed_at)}});
    if (!fields.empty()) {
      std::cout << "Fields\n";
      for (const auto& [k, v] : fields) std::cout << "  " << k << " = " << v << "\n";
    }
    if (!steps.empty()) {
      std::cout << "Activity plan\n";
      for (const auto& s : steps) {
        std::cout << "  " << s.seq << ". [" << s.status << "] " << s.name << "\n";
      }
    }
    if (!notes.empty()) {
      std::cout << "Notes\n";
      for (const auto& n : notes) {
        std::cout << "  " << n.created_at << " " << n.author << ": " << n.body << "\n";
      }
    }
    if (!related.empty() || !children.empty()) {
      std::cout << "Links\n";
      for (Id id : related) std::cout << "  related SR " << id << "\n";
      for (const auto& c : children)
        std::cout << "  child SR " << c.id << " " << c.sub_area << "\n";
    }
  });
}

}  // namespace casekit::cli
