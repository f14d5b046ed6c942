// casekit: the command line. Exit status 0 on success, 1 on failure, 2 on a usage error.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>

#include "engine/cli/cli.hpp"
#include "engine/runtime/sandbox.hpp"
#include "engine/store/schema.hpp"

namespace casekit::cli {

Home Context::resolved_home() const {
  if (!home.empty()) return Home{home};
  if (const char* env = std::getenv("CASEKIT_HOME")) return Home{env};
  // A checkout's own procedures/ when run from inside it; else the built-in default.
  if (std::filesystem::exists("procedures/sr_catalogue.toml")) {
    return Home{std::filesystem::current_path()};
  }
  return Home{CASEKIT_DEFAULT_HOME};
}

Engine& Context::open() {
  if (engine) return *engine;
  db = std::make_unique<Database>(db_path, OpenMode::existing);
  migrate(*db);
  clock = load_clock(*db);
  // What the command changes, the audit says was done by it: "casekit task complete" (its
  // words, not its arguments, which may be personal data).
  if (app) {
    std::string command = "casekit";
    for (const CLI::App* at = app; !at->get_subcommands().empty();) {
      at = at->get_subcommands().front();
      command += " " + at->get_name();
    }
    db->set_why(std::move(command));
  }
  engine = std::make_unique<Engine>(*db, *clock, resolved_home());
  return *engine;
}

ProcedureRuntime& Context::runtime() {
  if (!procedures)
    procedures = std::make_unique<ProcedureRuntime>(
        open(), RuntimeOptions{.keep_history = keep_history}, print_line);
  return *procedures;
}

}  // namespace casekit::cli

int main(int argc, char** argv) {
  using namespace casekit;
  auto logger = spdlog::stderr_color_mt("casekit");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%^%l%$ %v");

  cli::Context ctx;
  const char* env_db = std::getenv("CASEKIT_DB");
  ctx.db_path = env_db ? env_db : "casekit.db";

  CLI::App app{"casekit: casework procedures as durable Lua scripts"};
  ctx.app = &app;
  app.require_subcommand(1);
  app.option_defaults()->always_capture_default();
  app.add_option("--db", ctx.db_path, "SQLite database file (env CASEKIT_DB)");
  app.add_option("--home", ctx.home, "folder holding procedures/ and scripts/ (env CASEKIT_HOME)");
  app.add_flag("--keep-history", ctx.keep_history,
               "keep every instance's history whole, also once it has ended (for debugging)");
  app.add_option("--log-level", ctx.log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.parse_complete_callback([&] { spdlog::set_level(spdlog::level::from_str(ctx.log_level)); });

  cli::add_admin_commands(app, ctx);
  cli::add_casegroup_commands(app, ctx);
  cli::add_audit_commands(app, ctx);
  cli::add_sr_commands(app, ctx);
  cli::add_letters_commands(app, ctx);
  cli::add_script_commands(app, ctx);
  cli::add_schedule_commands(app, ctx);
  cli::add_procedure_commands(app, ctx);
  cli::add_work_commands(app, ctx);
  cli::add_serve_command(app, ctx);
  cli::add_transition_commands(app, ctx);
  cli::add_test_command(app, ctx);
  cli::add_whatif_command(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  } catch (const ScriptError& e) {
    std::cerr << "casekit: " << e.what() << "\n";
    const auto& tb = e.traceback();
    if (const auto at = tb.find("stack traceback:"); at != std::string::npos) {
      std::cerr << tb.substr(at) << "\n";
    }
    return 1;
  } catch (const Error& e) {
    std::cerr << "casekit: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "casekit: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
