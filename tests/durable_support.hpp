// A fixture for procedure tests: a home folder of its own (a copy of the repository's
// procedures/, so tests can add procedure files), a database on a simulated clock, the
// engine, and a procedure runtime.
#pragma once

#include "engine/durable/runtime.hpp"
#include "tests/test_support.hpp"

namespace casekit::test {

struct DurableEngine {
  explicit DurableEngine(RuntimeOptions options = {}) : runtime(engine, options, capture()) {}

  TempDir dir;
  SimulatedClock clock{parse_instant("2026-11-20T09:00:00Z")};
  Database db{dir.path() / "casekit.db", OpenMode::create};
  Engine engine{migrated(db, clock), clock, copied_home(dir.path())};
  std::string printed;
  ProcedureRuntime runtime;

  std::function<void(std::string_view)> capture() {
    return [this](std::string_view s) {
      printed += s;
      printed += "\n";
    };
  }

  void procedure(const std::string& name, const std::string& source) {
    write_file(engine.home.procedures() / (name + ".lua"), source);
  }

  // Moves the clock on and fires what falls due.
  void advance(std::chrono::seconds by) {
    clock.set(clock.now() + by);
    runtime.fire_timers();
  }

  Instance instance(Id id) { return runtime.store().get(id); }

  std::int64_t count(const std::string& sql) {
    auto st = db.prepare(sql);
    st.step();
    return st.integer(0);
  }

  // Every row of a table, as text, in rowid order: for comparing two databases.
  std::string dump(const std::string& table) {
    auto st = db.prepare("SELECT * FROM " + table + " ORDER BY 1, 2");
    std::string out;
    while (st.step()) {
      for (int c = 0; c < st.columns(); ++c) {
        out += st.is_null(c) ? "NULL" : st.text(c);
        out += '|';
      }
      out += '\n';
    }
    return out;
  }

  Family family(const std::string& csa_ref = "CSA-0000001") { return make_family(engine, csa_ref); }
};

}  // namespace casekit::test
