// casekit exceptions report
#include <iostream>

#include "engine/cli/cli.hpp"
#include "engine/core/json.hpp"

namespace casekit::cli {

void add_transition_commands(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("exceptions", "The daily transition exceptions report");
  group->require_subcommand(1);
  struct Options {
    std::string date;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* report = group->add_subcommand(
      "report", "Casegroups that could not be transitioned on a day, with the reason");
  report->add_option("--date", o->date, "YYYY-MM-DD (default: the engine's today)");
  report->add_flag("--json", o->json, "print JSON");
  report->callback([&ctx, o] {
    Engine& e = ctx.open();
    const std::string date = o->date.empty() ? format_date(e.clock.today()) : o->date;
    if (!is_date(date)) {
      throw Error(ErrorCode::bad_argument, "--date: expected YYYY-MM-DD, got '" + date + "'");
    }
    const auto entries = e.exceptions.report(date);
    if (o->json) {
      print_json_list(entries, [](const TransitionException& x) {
        return nlohmann::json{{"id", x.id},
                              {"report_date", x.report_date},
                              {"csa_ref", or_null(x.csa_ref)},
                              {"reason", x.reason}};
      });
      return;
    }
    std::cout << "exceptions report " << date << ": " << entries.size() << " casegroup"
              << (entries.size() == 1 ? "" : "s") << " not transitioned\n";
    if (entries.empty()) return;
    std::vector<std::vector<std::string>> rows = {{"id", "csa ref", "reason"}};
    for (const auto& x : entries)
      rows.push_back({std::to_string(x.id), or_dash(x.csa_ref), x.reason});
    print_table(rows);
  });
}

}  // namespace casekit::cli
