// The engine process the crash test kills. `setup` makes a database on a simulated clock
// with N casegroups and an instance of procedures/crash_demo.lua for each; `run` drives
// the clock from timer to timer until every instance has finished. `run` is restartable at
// any point: everything it knows is in the database.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/durable/runtime.hpp"
#include "engine/store/schema.hpp"

using namespace casekit;

namespace {

void setup(const std::string& db_path, const Home& home, int count) {
  SimulatedClock clock(parse_instant("2026-11-20T09:00:00Z"));
  Database db(db_path, OpenMode::create);
  db.set_clock(&clock);
  migrate(db);
  Engine engine(db, clock, home);
  ProcedureRuntime runtime(engine);
  Transaction tx(db);
  save_simulated_clock(db, clock.now());
  for (int i = 0; i < count; ++i) {
    const std::string n = std::to_string(100000 + i);
    const Id payer = engine.casegroups.create_client(
        {"AA" + n + "A", "Payer " + n, {}, {}, {}, Address{"1 Road", {}, {}, {}, "confirmed"}});
    const Id receiver = engine.casegroups.create_client(
        {"BB" + n + "B", "Receiver " + n, {}, {}, {}, Address{"2 Road", {}, {}, {}, "confirmed"}});
    NewCasegroup g;
    g.csa_ref = "CSA-" + n;
    g.paying_parent_id = payer;
    const Id group = engine.casegroups.create(g);
    engine.casegroups.add_case(group, receiver);
    engine.ledger.open_account(payer, std::nullopt, std::string("SO"));
    runtime.create("crash_demo", group, {}, "crash-test");
  }
  tx.commit();
}

void run(const std::string& db_path, const Home& home) {
  Database db(db_path, OpenMode::existing);
  auto loaded = load_clock(db);
  auto* clock = dynamic_cast<SimulatedClock*>(loaded.get());
  if (!clock) throw Error(ErrorCode::invalid, "crash worker needs a simulated clock");
  // As every casekit command opens a database: migrated, and so audited (the audit and its
  // hash chain must come out of the kills the same as the rest).
  db.set_clock(clock);
  migrate(db);
  Engine engine(db, *clock, home);
  // Small batches: many commits, so many different points for a kill to land between.
  ProcedureRuntime runtime(engine, {.batch_size = 16});
  runtime.drain();
  while (const auto next = runtime.next_timer()) {
    if (*next > clock->now()) {
      clock->set(*next);
      Transaction tx(db);
      save_simulated_clock(db, *next);
      tx.commit();
    }
    runtime.fire_timers();
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: crash_worker DB HOME setup N | run\n");
    return 2;
  }
  try {
    const Home home{argv[2]};
    const std::string mode = argv[3];
    if (mode == "setup" && argc == 5) {
      setup(argv[1], home, std::atoi(argv[4]));
    } else if (mode == "run") {
      run(argv[1], home);
    } else {
      return 2;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "crash_worker: %s\n", e.what());
    return 1;
  }
  return 0;
}
