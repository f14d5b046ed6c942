// casekit serve: the long-running engine on real time.
#include <iostream>

#include "engine/cli/cli.hpp"
#include "engine/schedule/server.hpp"

namespace casekit::cli {

void add_serve_command(CLI::App& app, Context& ctx) {
  auto poll = std::make_shared<int>(5);
  auto* serve =
      app.add_subcommand("serve", "Fire timers and schedules on real time until SIGINT or SIGTERM");
  serve->add_option("--poll", *poll, "seconds between checks for work other processes made")
      ->check(CLI::Range(1, 3600));
  serve->callback([&ctx, poll] {
    Engine& e = ctx.open();
    if (dynamic_cast<const SimulatedClock*>(&e.clock)) {
      throw Error(ErrorCode::invalid,
                  "this database has a simulated clock; move it with `casekit clock advance`");
    }
    Schedules schedules(e, load_schedules(e.home.scripts() / "schedules.toml", e.home.scripts()),
                        {}, &ctx.runtime());
    Server server(e, schedules, ctx.runtime(), std::chrono::seconds(*poll), print_line);
    server.run();
  });
}

}  // namespace casekit::cli
