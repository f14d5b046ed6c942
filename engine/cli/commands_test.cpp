// casekit test [PATH]: the procedure scenario tests (engine/scenario/scenario_runner.hpp).
#include <iostream>

#include "engine/cli/cli.hpp"
#include "engine/scenario/scenario_runner.hpp"

namespace casekit::cli {

void add_test_command(CLI::App& app, Context& ctx) {
  auto path = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "test", "Run procedure scenario tests, each in a new database on a simulated clock");
  cmd->add_option("PATH", *path, "a test file or folder (default: procedures/tests)");
  cmd->callback([&ctx, path] {
    const Home home = ctx.resolved_home();
    const std::filesystem::path target =
        path->empty() ? home.procedures() / "tests" : std::filesystem::path(*path);
    const ScenarioSummary summary = run_scenarios(target, home, [](const ScenarioResult& r) {
      std::cout << (r.passed ? "ok    " : "FAIL  ") << r.file << ": " << r.name << "\n";
      if (!r.passed) std::cout << "      " << r.message << "\n";
      std::cout.flush();
    });
    std::cout << summary.passed << " passed, " << summary.failed << " failed" << std::endl;
    if (summary.failed) throw Error(ErrorCode::script, "some scenarios failed");
  });
}

}  // namespace casekit::cli
