// casekit schedule next: when a cron expression fires.
#include <iostream>

#include "engine/cli/cli.hpp"
#include "engine/core/error.hpp"
#include "engine/schedule/cron.hpp"

namespace casekit::cli {

void add_schedule_commands(CLI::App& app, Context&) {
  auto* group = app.add_subcommand("schedule", "Schedules and their calendar");
  group->require_subcommand(1);

  struct NextOptions {
    std::string expression;
    std::string zone = "Europe/London";
    std::string after;
    int count = 5;
  };
  auto o = std::make_shared<NextOptions>();
  auto* next = group->add_subcommand(
      "next", "Print the next instants (UTC) a cron expression fires, one per line");
  next->add_option("expression", o->expression, "5-field cron expression, quoted")->required();
  next->add_option("--tz", o->zone, "IANA time zone the expression is read in");
  next->add_option("--after", o->after, "start strictly after this instant (default: now)");
  next->add_option("--count", o->count, "how many instants")->check(CLI::Range(1, 10000));
  next->callback([o] {
    const CronExpression cron = CronExpression::parse(o->expression);
    const auto& zone = time_zone_named(o->zone);
    const Instant after = o->after.empty() ? SystemClock().now() : parse_instant(o->after);
    const auto instants = cron.next(after, zone, o->count);
    for (const Instant t : instants) std::cout << format_instant(t) << "\n";
    if (instants.empty()) {
      throw Error(ErrorCode::invalid, "'" + o->expression + "' does not fire in the next 30 years");
    }
  });
}

}  // namespace casekit::cli
