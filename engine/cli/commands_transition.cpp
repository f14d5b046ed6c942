// casekit dw generate, casekit import dw, casekit exceptions report: the phase-2 transition
// from the Data Warehouse extract (engine/transition/).
#include <fstream>
#include <iostream>

#include "engine/cli/cli.hpp"
#include "engine/core/json.hpp"
#include "engine/transition/dw_generate.hpp"
#include "engine/transition/dw_import.hpp"

namespace casekit::cli {
namespace {

std::string thousands(std::int64_t n) {
  std::string digits = std::to_string(n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(i, ",");
  return digits;
}

void add_generate_command(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("dw", "Data Warehouse extracts");
  group->require_subcommand(1);
  struct Options {
    std::int64_t count = 1000;
    std::uint64_t seed = 1;
    double bad_ratio = 0.0;
    std::string date;
    std::string output;
  };
  auto o = std::make_shared<Options>();
  auto* gen = group->add_subcommand(
      "generate", "Write a synthetic extract (JSON Lines) for demos, tests and benchmarks");
  gen->add_option("--count", o->count, "rows to write");
  gen->add_option("--seed", o->seed, "the same seed writes the same file");
  gen->add_option("--bad-ratio", o->bad_ratio, "share of rows given one defect (0 to 1)");
  gen->add_option("--date", o->date,
                  "extract date YYYY-MM-DD (default: the engine's today, if a database exists)");
  gen->add_option("-o,--output", o->output, "file to write (default: standard output)");
  gen->callback([&ctx, o] {
    DwGenerateOptions options{o->count, o->seed, o->bad_ratio, o->date};
    if (options.extract_date.empty()) {
      if (!std::filesystem::exists(ctx.db_path)) {
        throw Error(ErrorCode::bad_argument, "--date: needed when there is no database");
      }
      options.extract_date = format_date(ctx.open().clock.today());
    } else if (!is_date(options.extract_date)) {
      throw Error(ErrorCode::bad_argument,
                  "--date: expected YYYY-MM-DD, got '" + options.extract_date + "'");
    }
    if (o->output.empty()) {
      generate_dw_extract(std::cout, options);
      return;
    }
    std::ofstream out(o->output, std::ios::trunc);
    if (!out) throw Error(ErrorCode::io, "cannot write " + o->output);
    const auto counts = generate_dw_extract(out, options);
    std::cerr << "wrote " << thousands(counts.rows) << " rows (" << thousands(counts.bad)
              << " bad) to " << o->output << "\n";
  });
}

nlohmann::json to_json(const DwImportCounts& c) {
  return {{"read", c.read},
          {"transitioned", c.transitioned},
          {"exceptions", c.exceptions},
          {"duplicates", c.duplicates},
          {"failed", c.failed}};
}

void add_import_command(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("import", "Take in external data");
  group->require_subcommand(1);
  struct Options {
    std::string file;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* dw = group->add_subcommand(
      "dw", "Transition the casegroups of a Data Warehouse extract (phase 2)");
  dw->add_option("FILE", o->file, "the extract, JSON Lines (- for standard input)")->required();
  dw->add_flag("--json", o->json, "print the counts as JSON");
  dw->callback([&ctx, o] {
    std::ifstream file;
    if (o->file != "-") {
      if (!std::filesystem::is_regular_file(o->file)) {
        throw Error(ErrorCode::not_found, "no extract file " + o->file);
      }
      file.open(o->file);
      if (!file) throw Error(ErrorCode::io, "cannot read " + o->file);
    }
    std::istream& in = o->file == "-" ? std::cin : file;
    Engine& e = ctx.open();
    DwImportOptions options;
    if (o->file != "-") options.total_rows = count_rows(o->file);
    options.progress = [](const DwImportCounts& c) {
      std::cerr << "import dw: " << thousands(c.read) << " rows read, " << thousands(c.transitioned)
                << " transitioned, " << thousands(c.exceptions) << " exceptions, "
                << thousands(c.duplicates) << " duplicates" << std::endl;
    };
    const DwImportCounts counts = import_dw_extract(e, ctx.runtime(), in, options);
    if (o->json) {
      print_json(to_json(counts));
    } else {
      std::cout << "read " << thousands(counts.read) << " rows: " << thousands(counts.transitioned)
                << " transitioned, " << thousands(counts.exceptions) << " exceptions, "
                << thousands(counts.duplicates) << " duplicates";
      if (counts.failed) std::cout << ", " << thousands(counts.failed) << " failed";
      std::cout << "\n";
      if (counts.exceptions) std::cout << "see: casekit exceptions report\n";
    }
    if (counts.failed) {
      throw Error(ErrorCode::script, std::to_string(counts.failed) +
                                         " transition(s) stopped with an incident; see: casekit "
                                         "incident list");
    }
  });
}

}  // namespace

void add_transition_commands(CLI::App& app, Context& ctx) {
  add_generate_command(app, ctx);
  add_import_command(app, ctx);

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
      print_json_list(entries, [](const TransitionException& x) { return to_json(x); });
      return;
    }
    std::cout << "exceptions report " << date << ": " << entries.size() << " casegroup"
              << (entries.size() == 1 ? "" : "s") << " not transitioned\n";
    if (entries.empty()) return;
    std::vector<std::vector<std::string>> rows = {{"id", "csa ref", "reason", "allocated to"}};
    for (const auto& x : entries) {
      rows.push_back({std::to_string(x.id), or_dash(x.csa_ref), x.reason,
                      x.work_item ? x.allocated_to.value_or("-") + " (work item " +
                                        std::to_string(*x.work_item) + ", " +
                                        x.item_status.value_or("") + ")"
                                  : "-"});
    }
    print_table(rows);
  });

  struct AllocateOptions {
    std::int64_t id = 0;
    std::string to;
    std::string as;
    bool json = false;
  };
  auto ao = std::make_shared<AllocateOptions>();
  auto* allocate = group->add_subcommand(
      "allocate", "Give a transition exception to a caseworker as a work item (team leaders)");
  allocate->add_option("id", ao->id, "exception id (exceptions report)")->required();
  allocate->add_option("--to", ao->to, "the caseworker")->required();
  allocate->add_option("--as", ao->as, "the team leader allocating it")->required();
  allocate->add_flag("--json", ao->json, "print JSON");
  allocate->callback([&ctx, ao] {
    Engine& e = ctx.open();
    const User leader = e.users.require(ao->as);
    ActorScope actor(e.db, "user:" + leader.name);
    const TransitionException x = e.exceptions.allocate(ao->id, ao->to, leader);
    if (ao->json) {
      print_json(to_json(x));
      return;
    }
    std::cout << "exception " << x.id << " allocated to " << x.allocated_to.value_or("-")
              << " as work item " << *x.work_item << "\n";
  });
}

}  // namespace casekit::cli
