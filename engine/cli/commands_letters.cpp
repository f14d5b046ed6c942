// casekit letters list | show | fulfil
#include <iostream>

#include "engine/cli/cli.hpp"

namespace casekit::cli {

void add_letters_commands(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("letters", "Look at and fulfil letters");
  group->require_subcommand(1);

  struct ListOptions {
    std::string status;
    int limit = 100;
    bool json = false;
  };
  auto lo = std::make_shared<ListOptions>();
  auto* list = group->add_subcommand("list", "List letters in id order");
  list->add_option("--status", lo->status, "queued, fulfilled or failed");
  list->add_option("--limit", lo->limit, "at most this many")->check(CLI::Range(1, 100000));
  list->add_flag("--json", lo->json, "print JSON");
  list->callback([&ctx, lo] {
    Engine& e = ctx.open();
    const auto letters =
        e.letters.list(lo->status.empty() ? std::nullopt : std::optional(lo->status), lo->limit, 0,
                       Letters::Text::left_out);
    if (lo->json) {
      print_json_list(letters, [](const auto& l) { return to_json(l, false); });
      return;
    }
    std::vector<std::vector<std::string>> rows = {
        {"id", "template", "recipient", "casegroup", "sr", "status", "created"}};
    for (const auto& l : letters) {
      rows.push_back({std::to_string(l.id), l.template_code,
                      e.casegroups.client(l.recipient_id).name,
                      l.casegroup_id ? std::to_string(*l.casegroup_id) : "-",
                      l.sr_id ? std::to_string(*l.sr_id) : "-", l.status, l.created_at});
    }
    print_table(rows);
  });

  struct ShowOptions {
    std::int64_t id = 0;
    bool json = false;
  };
  auto so = std::make_shared<ShowOptions>();
  auto* show = group->add_subcommand("show", "Show one letter with its rendered text");
  show->add_option("id", so->id, "letter id")->required();
  show->add_flag("--json", so->json, "print JSON");
  show->callback([&ctx, so] {
    Engine& e = ctx.open();
    const Letter l = e.letters.get(so->id);
    if (so->json) {
      print_json(to_json(l, true));
      return;
    }
    std::cout << "Letter " << l.id << "  " << l.template_code << "  " << l.status << "\n\n"
              << l.body << "\n";
  });

  struct FulfilOptions {
    std::string outbox = "outbox";
    bool json = false;
  };
  auto fo = std::make_shared<FulfilOptions>();
  auto* fulfil = group->add_subcommand(
      "fulfil", "Write each queued letter to the outbox folder and mark it fulfilled");
  fulfil->add_option("--outbox", fo->outbox, "folder to write letters into");
  fulfil->add_flag("--json", fo->json, "print JSON");
  fulfil->callback([&ctx, fo] {
    ctx.open();
    const FulfilResult r = ctx.runtime().fulfil_letters(fo->outbox);
    if (fo->json) {
      print_json({{"fulfilled", r.fulfilled}, {"files", r.files}});
      return;
    }
    for (const auto& f : r.files) std::cout << "wrote " << f << "\n";
    std::cout << r.fulfilled << " letter" << (r.fulfilled == 1 ? "" : "s") << " fulfilled\n";
  });
}

}  // namespace casekit::cli
