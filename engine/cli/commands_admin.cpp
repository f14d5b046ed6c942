// casekit init, backup, restore, api-doc
#include <iostream>

#include "bindings/api_doc.hpp"
#include "engine/cli/cli.hpp"
#include "engine/core/error.hpp"
#include "engine/runtime/sandbox.hpp"
#include "engine/scenario/t_module.hpp"
#include "engine/store/backup.hpp"
#include "engine/store/schema.hpp"

namespace casekit::cli {
namespace {

void remove_database(const std::filesystem::path& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path.string() + suffix);
  }
}

// The new database is built beside the target and renamed over it only when complete, so
// a failed `init --force` leaves the old database as it was.
void init(Context& ctx, const std::string& simulated, bool force) {
  const std::filesystem::path path = ctx.db_path;
  std::optional<Instant> start;
  if (!simulated.empty()) start = parse_instant(simulated);
  if (std::filesystem::exists(path) && !force) {
    throw Error(ErrorCode::conflict, path.string() + " already exists; use --force to replace it");
  }
  const std::filesystem::path fresh = path.string() + ".new";
  remove_database(fresh);
  int version = 0;
  try {
    Database db(fresh, OpenMode::create);
    SystemClock system;
    db.set_clock(&system);
    migrate(db);
    if (start) save_simulated_clock(db, *start);
    // Load the catalogues now so a broken procedures/ folder is reported at init.
    auto clock = load_clock(db);
    Engine engine(db, *clock, ctx.resolved_home());
    version = schema_version(db);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } catch (...) {
    remove_database(fresh);
    throw;
  }
  remove_database(path);
  std::filesystem::rename(fresh, path);
  remove_database(fresh);  // the emptied -wal and -shm beside it
  std::cout << "initialised " << path.string() << " (schema version " << version << ", "
            << (start ? "simulated clock at " + format_instant(*start) : "real-time clock")
            << ")\n";
}

// The database as it is, not migrated: a backup is of what is there.
void backup(Context& ctx, const std::string& file, bool json) {
  Database db(ctx.db_path, OpenMode::existing);
  const auto bytes = backup_database(db, file);
  if (json) {
    print_json({{"backup", file}, {"bytes", bytes}, {"schema_version", schema_version(db)}});
  } else {
    std::cout << "backed up " << ctx.db_path << " to " << file << " (" << bytes << " bytes)\n";
  }
}

void restore(Context& ctx, const std::string& file, bool force, bool json) {
  const BackupInfo info = restore_database(file, ctx.db_path, force);
  if (json) {
    print_json(
        {{"restored", file}, {"database", ctx.db_path}, {"schema_version", info.schema_version}});
  } else {
    std::cout << "restored " << ctx.db_path << " from " << file << " (schema version "
              << info.schema_version << "; the next command migrates it if it is older)\n";
  }
}

}  // namespace

void add_admin_commands(CLI::App& app, Context& ctx) {
  {
    auto file = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    auto* cmd = app.add_subcommand(
        "backup", "Copy the database, consistently, to a new file (also while serve runs)");
    cmd->add_option("file", *file, "the backup to write; it must not exist")->required();
    cmd->add_flag("--json", *json, "print JSON");
    cmd->callback([&ctx, file, json] { backup(ctx, *file, *json); });
  }
  {
    auto file = std::make_shared<std::string>();
    auto force = std::make_shared<bool>(false);
    auto json = std::make_shared<bool>(false);
    auto* cmd = app.add_subcommand(
        "restore",
        "Replace the database with a backup, checked first (never under a running serve)");
    cmd->add_option("file", *file, "the backup to restore")->required();
    cmd->add_flag("--force", *force, "replace an existing database");
    cmd->add_flag("--json", *json, "print JSON");
    cmd->callback([&ctx, file, force, json] { restore(ctx, *file, *force, *json); });
  }

  auto* cmd = app.add_subcommand("init", "Create a new, empty database");
  auto simulated = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  cmd->add_option("--simulated-clock", *simulated,
                  "start a simulated clock at this date or instant (tests, demos)");
  cmd->add_flag("--force", *force, "replace an existing database file");
  cmd->callback([&ctx, simulated, force] { init(ctx, *simulated, *force); });

  auto* doc = app.add_subcommand("api-doc", "Print the Lua API reference (docs/lua-api.md)");
  doc->callback([] {
    const lua::Module* test_modules[] = {&kScenarioModule};
    std::cout << lua::api_reference_markdown(sandbox_globals(), test_modules);
  });
}

}  // namespace casekit::cli
