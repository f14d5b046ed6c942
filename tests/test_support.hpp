// Shared fixtures: a temporary folder, a migrated database with a simulated clock and the
// engine over it, and helpers to run Lua in a sandbox against that engine.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/core/temp_folder.hpp"
#include "engine/domain/engine.hpp"
#include "engine/runtime/sandbox.hpp"
#include "engine/runtime/script_runner.hpp"
#include "engine/store/schema.hpp"

namespace casekit::test {

inline const std::filesystem::path kSourceDir = CASEKIT_SOURCE_DIR;

using TempDir = casekit::TempFolder;

// A home folder of the test's own: a copy of the repository's procedures/ and scripts/, so
// a test can add procedure files.
inline Home copied_home(const std::filesystem::path& root) {
  std::filesystem::copy(kSourceDir / "procedures", root / "procedures",
                        std::filesystem::copy_options::recursive);
  std::filesystem::copy(kSourceDir / "scripts", root / "scripts",
                        std::filesystem::copy_options::recursive);
  return Home{root};
}

inline void write_file(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
}

inline Database& migrated(Database& db, const Clock& clock) {
  db.set_clock(&clock);
  migrate(db);
  return db;
}

// A casegroup with a paying parent (with an SO account) and one receiving parent.
struct Family {
  Id paying_parent;
  Id receiving_parent;
  Id casegroup;
  Id case_id;
};

inline Family make_family(Engine& engine, const std::string& csa_ref) {
  NewClient pp{"AB" + csa_ref.substr(csa_ref.size() - 6) + "C",
               "Sam Payer",
               "1980-02-03",
               {},
               {},
               Address{"1 High St", {}, std::string("Leeds"), std::string("LS1 1AA"), "confirmed"}};
  NewClient rp{"CD" + csa_ref.substr(csa_ref.size() - 6) + "A",
               "Alex Receiver",
               {},
               {},
               {},
               Address{"2 Low Rd", {}, std::string("York"), std::string("YO1 1BB"), "confirmed"}};
  Family f{};
  f.paying_parent = engine.casegroups.create_client(pp);
  f.receiving_parent = engine.casegroups.create_client(rp);
  NewCasegroup g;
  g.csa_ref = csa_ref;
  g.paying_parent_id = f.paying_parent;
  f.casegroup = engine.casegroups.create(g);
  f.case_id = engine.casegroups.add_case(f.casegroup, f.receiving_parent);
  engine.ledger.open_account(f.paying_parent, std::nullopt, std::string("SO"));
  return f;
}

struct TestEngine {
  TempDir dir;
  SimulatedClock clock{parse_instant("2026-11-20T09:00:00Z")};
  Database db{dir.path() / "casekit.db", OpenMode::create};
  Engine engine{migrated(db, clock), clock, Home{kSourceDir}};

  // Runs Lua in a fresh sandbox inside one transaction (rolled back on error) and
  // returns what it printed, one line per print call.
  std::string run(const std::string& code, SandboxLimits limits = {}) {
    std::string out;
    lua::Host host{engine, "test", [&](std::string_view s) {
                     out += s;
                     out += "\n";
                   }};
    Transaction tx(db);
    Sandbox sandbox(limits, library_dirs(engine.home), &host);
    sandbox.load(code, "test.lua");
    sandbox.call(0, 0);
    tx.commit();
    return out;
  }

  // Runs Lua that must fail; returns the error message.
  std::string error_of(const std::string& code, SandboxLimits limits = {}) {
    try {
      run(code, limits);
    } catch (const ScriptError& e) {
      return e.what();
    }
    FAIL("expected the script to fail: " << code);
    return {};
  }

  std::int64_t count(const std::string& table) {
    auto st = db.prepare("SELECT count(*) FROM " + table);
    st.step();
    return st.integer(0);
  }

  Family family(const std::string& csa_ref = "CSA-0000001") { return make_family(engine, csa_ref); }
};

}  // namespace casekit::test
