// casekit schedule next | list | pause | resume | run, casekit runs list,
// casekit clock show | advance
#include <iostream>

#include "engine/cli/cli.hpp"
#include "engine/core/error.hpp"
#include "engine/core/json.hpp"
#include "engine/schedule/cron.hpp"
#include "engine/schedule/schedules.hpp"

namespace casekit::cli {
namespace {

Schedules open_schedules(Context& ctx) {
  Engine& e = ctx.open();
  return Schedules(e, load_schedules(e.home.scripts() / "schedules.toml", e.home.scripts()), {},
                   &ctx.runtime());
}

// "14d", "36h", "90m", "2w", "1d12h": calendar-free durations on the UTC time line.
std::chrono::seconds parse_duration(const std::string& text) {
  std::chrono::seconds total{0};
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j == i || j == text.size()) {
      throw Error(ErrorCode::bad_argument,
                  "not a duration: '" + text + "' (use e.g. 14d, 36h, 90m, 2w, 1d12h)");
    }
    const long n = std::stol(text.substr(i, j - i));
    switch (text[j]) {
      case 'w':
        total += std::chrono::weeks{n};
        break;
      case 'd':
        total += std::chrono::days{n};
        break;
      case 'h':
        total += std::chrono::hours{n};
        break;
      case 'm':
        total += std::chrono::minutes{n};
        break;
      case 's':
        total += std::chrono::seconds{n};
        break;
      default:
        throw Error(ErrorCode::bad_argument, "not a duration unit: '" + std::string(1, text[j]) +
                                                 "' in '" + text + "' (w, d, h, m or s)");
    }
    i = j + 1;
  }
  if (text.empty()) throw Error(ErrorCode::bad_argument, "empty duration");
  return total;
}

void add_next(CLI::App* group) {
  struct NextOptions {
    std::string expression;
    std::string zone = "Europe/London";
    std::string after;
    int count = 5;
    bool json = false;
  };
  auto o = std::make_shared<NextOptions>();
  auto* next = group->add_subcommand(
      "next", "Print the next instants (UTC) a cron expression fires, one per line");
  next->add_option("expression", o->expression, "5-field cron expression, quoted")->required();
  next->add_option("--tz", o->zone, "IANA time zone the expression is read in");
  next->add_option("--after", o->after, "start strictly after this instant (default: now)");
  next->add_option("--count", o->count, "how many instants")->check(CLI::Range(1, 10000));
  next->add_flag("--json", o->json, "print the instants as a JSON array");
  next->callback([o] {
    const CronExpression cron = CronExpression::parse(o->expression);
    const auto& zone = time_zone_named(o->zone);
    const Instant after = o->after.empty() ? SystemClock().now() : parse_instant(o->after);
    const auto instants = cron.next(after, zone, o->count);
    if (o->json) {
      nlohmann::json out = nlohmann::json::array();
      for (const Instant t : instants) out.push_back(format_instant(t));
      print_json(out);
    } else {
      for (const Instant t : instants) std::cout << format_instant(t) << "\n";
    }
    if (instants.empty()) {
      throw Error(ErrorCode::invalid, "'" + o->expression + "' does not fire in the next 30 years");
    }
    if (static_cast<int>(instants.size()) < o->count) {
      throw Error(ErrorCode::invalid,
                  "'" + o->expression + "' fires only " + std::to_string(instants.size()) +
                      " times before the year 10000, not " + std::to_string(o->count));
    }
  });
}

void add_list(CLI::App* group, Context& ctx) {
  auto json = std::make_shared<bool>(false);
  auto* list = group->add_subcommand("list", "List schedules with their next fire time");
  list->add_flag("--json", *json, "print JSON");
  list->callback([&ctx, json] {
    Schedules schedules = open_schedules(ctx);
    const auto all = schedules.status();
    if (*json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& s : all) out.push_back(to_json(s));
      print_json(out);
      return;
    }
    std::vector<std::vector<std::string>> rows = {
        {"name", "cron", "timezone", "state", "next (UTC)", "last run"}};
    for (const auto& s : all) {
      const std::string state = !s.def->enabled ? "disabled" : s.paused ? "paused" : "active";
      rows.push_back({s.def->name, s.def->cron.text(), s.def->zone_name, state,
                      s.next ? format_instant(*s.next) : "-",
                      s.last_run ? s.last_run->status + " " + s.last_run->started_at : "-"});
    }
    print_table(rows);
  });
}

void add_pause_resume_run(CLI::App* group, Context& ctx) {
  auto name = std::make_shared<std::string>();
  auto* pause = group->add_subcommand("pause", "Stop a schedule firing until resumed");
  pause->add_option("name", *name, "schedule name")->required();
  pause->callback([&ctx, name] {
    open_schedules(ctx).pause(*name);
    std::cout << "paused " << *name << "\n";
  });
  auto* resume = group->add_subcommand("resume", "Let a paused schedule fire again");
  resume->add_option("name", *name, "schedule name")->required();
  resume->callback([&ctx, name] {
    open_schedules(ctx).resume(*name);
    std::cout << "resumed " << *name << "\n";
  });
  auto* run = group->add_subcommand("run", "Run a schedule's script now and record the run");
  run->add_option("name", *name, "schedule name")->required();
  run->callback([&ctx, name] {
    Schedules schedules = open_schedules(ctx);
    const Run r = schedules.run(schedules.find(*name), "manual", std::nullopt, print_line);
    ctx.runtime().drain();  // the instances the script started run to their first wait
    if (r.status != "succeeded") {
      throw Error(ErrorCode::script,
                  "run " + std::to_string(r.id) + " failed: " + r.message.value_or(""));
    }
    std::cout << "run " << r.id << " succeeded\n";
  });
}

void add_runs(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("runs", "Run history of schedules and imports");
  group->require_subcommand(1);
  struct Options {
    std::string schedule;
    int limit = 50;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* list = group->add_subcommand("list", "Runs, newest first");
  list->add_option("--schedule", o->schedule, "only this schedule's runs");
  list->add_option("--limit", o->limit, "at most this many")->check(CLI::Range(1, 100000));
  list->add_flag("--json", o->json, "print JSON");
  list->callback([&ctx, o] {
    Schedules schedules = open_schedules(ctx);
    const auto runs =
        schedules.runs(o->schedule.empty() ? std::nullopt : std::optional(o->schedule), o->limit);
    if (o->json) {
      print_json_list(runs, [](const auto& r) { return to_json(r); });
      return;
    }
    std::vector<std::vector<std::string>> rows = {
        {"id", "schedule", "trigger", "scheduled for", "started", "status", "rows", "message"}};
    for (const auto& r : runs) {
      // An import has no schedule: its script says what it is, and its rows how far it got.
      std::string progress = "-";
      if (r.rows_read) {
        progress = std::to_string(*r.rows_read);
        if (r.rows_total) progress += " of " + std::to_string(*r.rows_total);
      }
      rows.push_back({std::to_string(r.id), r.schedule.value_or(r.script), r.trigger,
                      or_dash(r.scheduled_for), r.started_at, r.status, progress,
                      or_dash(r.message)});
    }
    print_table(rows);
  });
}

void add_clock(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("clock", "The engine clock");
  group->require_subcommand(1);
  auto* show = group->add_subcommand("show", "Print the engine's time and whether it is simulated");
  auto show_json = std::make_shared<bool>(false);
  show->add_flag("--json", *show_json, "print {now, simulated} as JSON");
  show->callback([&ctx, show_json] {
    Engine& e = ctx.open();
    const bool simulated = dynamic_cast<const SimulatedClock*>(&e.clock) != nullptr;
    if (*show_json) {
      print_json({{"now", format_instant(e.clock.now())}, {"simulated", simulated}});
      return;
    }
    std::cout << format_instant(e.clock.now()) << (simulated ? " (simulated)" : " (real time)")
              << "\n";
  });
  auto duration = std::make_shared<std::string>();
  auto* advance = group->add_subcommand(
      "advance",
      "Move a simulated clock forward, firing every timer and schedule that falls due on the "
      "way, in time order");
  advance->add_option("duration", *duration, "e.g. 14d, 36h, 90m, 2w")->required();
  advance->callback([&ctx, duration] {
    const auto by = parse_duration(*duration);
    Schedules schedules = open_schedules(ctx);
    auto* clock = dynamic_cast<SimulatedClock*>(ctx.clock.get());
    if (!clock) {
      throw Error(ErrorCode::invalid,
                  "this database runs on real time; only a database made with "
                  "`casekit init --simulated-clock DATE` has a clock to advance");
    }
    ProcedureRuntime& runtime = ctx.runtime();
    runtime.drain();  // anything left runnable by an interrupted command runs first
    const auto runs = schedules.advance(*clock, clock->now() + by, print_line, &runtime);
    int failed = 0;
    for (const auto& r : runs) {
      failed += r.status == "failed";
      std::cout << "ran " << r.schedule.value_or("-") << " at " << r.scheduled_for.value_or("-")
                << ": " << r.status << (r.message ? " (" + *r.message + ")" : "") << "\n";
    }
    const auto activations = runtime.stats().activations;
    std::cout << "clock now " << format_instant(clock->now()) << " (" << runs.size() << " run"
              << (runs.size() == 1 ? "" : "s") << ", " << failed << " failed; " << activations
              << " instance activation" << (activations == 1 ? "" : "s") << ")\n";
  });
}

}  // namespace

void add_schedule_commands(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("schedule", "Operator schedules (scripts/schedules.toml)");
  group->require_subcommand(1);
  add_next(group);
  add_list(group, ctx);
  add_pause_resume_run(group, ctx);
  add_runs(app, ctx);
  add_clock(app, ctx);
}

}  // namespace casekit::cli
