// Shared state of one `casekit` invocation: global options and the engine, opened on first
// use so that `casekit --help` or `casekit check` need no database.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/domain/engine.hpp"
#include "engine/durable/runtime.hpp"

namespace casekit::cli {

struct Context {
  std::string db_path;
  std::string home;
  std::string log_level = "warn";
  bool keep_history = false;  // RuntimeOptions::keep_history

  std::unique_ptr<Database> db;
  std::unique_ptr<Clock> clock;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<ProcedureRuntime> procedures;
  const CLI::App* app = nullptr;  // the parsed command line, for the audit's why

  // Opens the existing database (migrating it if older) and the engine over it.
  Engine& open();
  // The procedure runtime over the opened engine; script output goes to stdout.
  ProcedureRuntime& runtime();
  Home resolved_home() const;
};

// Each command group registers its subcommands; handlers run after parsing.
void add_admin_commands(CLI::App& app, Context& ctx);
void add_audit_commands(CLI::App& app, Context& ctx);
void add_casegroup_commands(CLI::App& app, Context& ctx);
void add_sr_commands(CLI::App& app, Context& ctx);
void add_letters_commands(CLI::App& app, Context& ctx);
void add_script_commands(CLI::App& app, Context& ctx);
void add_schedule_commands(CLI::App& app, Context& ctx);
void add_procedure_commands(CLI::App& app, Context& ctx);
void add_work_commands(CLI::App& app, Context& ctx);
void add_serve_command(CLI::App& app, Context& ctx);
void add_transition_commands(CLI::App& app, Context& ctx);
void add_test_command(CLI::App& app, Context& ctx);
void add_whatif_command(CLI::App& app, Context& ctx);

// "k=v" options (--param, --field) into a map; a malformed one is a usage error.
std::map<std::string, std::string> key_values(const std::vector<std::string>& items,
                                              const char* option);
void print_line(std::string_view line);
// "task (work item 3)", "timer until 2026-12-04T09:00:00Z", or "-".
std::string describe_wait(const Instance& instance);

// ---- output helpers -------------------------------------------------------------------------

void print_json(const nlohmann::json& j);
// A --json listing: a JSON array of convert(item) for each item (by default to_json(item)).
template <typename Range, typename Convert>
void print_json_list(const Range& items, Convert convert) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& item : items) out.push_back(convert(item));
  print_json(out);
}
template <typename Range>
void print_json_list(const Range& items) {
  print_json_list(items, [](const auto& item) { return to_json(item); });
}
// "-" for a missing value.
std::string or_dash(const std::optional<std::string>& s);
// A casegroup's trail of changes (CasegroupReads::trail) as `casekit audit` prints it:
// oldest first, the changes one actor made at one instant under one heading.
void print_trail(const nlohmann::json& trail);
// Left-aligned columns, widths from the content; the first row is the header.
void print_table(const std::vector<std::vector<std::string>>& rows);

}  // namespace casekit::cli
