// `casekit test`: procedure scenario tests, written in Lua by policy authors.
//
// A test file (procedures/tests/*.lua) declares scenarios:
//
//   scenario("an active CSA case goes to negotiation", function(t)
//     t.import { row }                                  -- through the real importer
//     t.complete { inbox = "team_leader", outcome = "approved", as = "tina" }
//     t.advance { days = 14 }                           -- simulated time; timers fire
//     t.eq(sr.find{ ... }[1].reason, "Automated Financial Transition")
//   end)
//
// Each scenario runs alone, in a new database on a simulated clock (2026-11-20T09:00:00Z)
// with the procedures of the engine's home, so one scenario's data never leaks into the
// next. Inside it every Lua module is available for setting data up and looking at it,
// plus the `t` table (docs/procedures-guide.md, "Scenario tests").
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "engine/domain/engine.hpp"

namespace casekit {

struct ScenarioResult {
  std::string file;
  std::string name;
  bool passed = false;
  std::string message;  // why it failed, with the script position
};

struct ScenarioSummary {
  int passed = 0;
  int failed = 0;
};

// Runs the scenarios of `path` (a file, or every *.lua file under a folder, in name order)
// and reports each as it finishes.
ScenarioSummary run_scenarios(const std::filesystem::path& path, const Home& home,
                              const std::function<void(const ScenarioResult&)>& report);

}  // namespace casekit
