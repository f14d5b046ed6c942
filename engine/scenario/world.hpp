// What one scenario runs against: a new database on a simulated clock, the engine and the
// durable runtime over it, and the BaNCS and CIS adapters a scenario may switch between.
#pragma once

#include <memory>
#include <string>

#include "engine/core/temp_folder.hpp"
#include "engine/durable/runtime.hpp"

namespace casekit {

// Every scenario starts at this instant.
inline constexpr const char* kScenarioStart = "2026-11-20T09:00:00Z";

struct World {
  explicit World(const Home& home);

  TempFolder dir;  // the scenario's database and letters outbox live here
  SimulatedClock clock;
  Database db;
  Engine engine;
  ProcedureRuntime runtime;
  LocalBancs local_bancs;
  std::unique_ptr<FailingBancs> failing_bancs;  // set by t.bancs_fail
  LocalCis local_cis;
  std::unique_ptr<FailingCis> failing_cis;  // set by t.cis_fail
  LocalCra local_cra;
  std::unique_ptr<FailingCra> failing_cra;  // set by t.cra_fail
  std::string printed;                      // what scripts printed
};

}  // namespace casekit
