// Operator schedules: what scripts/schedules.toml declares, what the store remembers about
// them (paused, last fire handled) and their run history.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/domain/engine.hpp"
#include "engine/durable/runtime.hpp"
#include "engine/runtime/sandbox.hpp"
#include "engine/schedule/cron.hpp"

namespace casekit {

struct ScheduleDef {
  std::string name;
  std::filesystem::path script;  // resolved under scripts/
  std::string script_name;       // as written in the file
  CronExpression cron;
  std::string zone_name;
  const date::time_zone* zone = nullptr;
  std::string overlap = "skip";   // skip | queue_one | allow
  std::string catch_up = "skip";  // skip | once
  bool enabled = true;
};

// Reads and checks the whole file; the first problem is an error naming file and line.
std::vector<ScheduleDef> load_schedules(const std::filesystem::path& file,
                                        const std::filesystem::path& scripts_dir);

struct Run {
  Id id = 0;
  std::optional<std::string> schedule;
  std::string script;
  std::string trigger;  // schedule | manual | catch_up
  std::optional<std::string> scheduled_for;
  std::string started_at;
  std::optional<std::string> finished_at;
  std::string status;  // running | succeeded | failed
  std::optional<std::string> message;
  // An import's progress (engine/transition/dw_import.hpp): rows taken in, of how many (when
  // the extract is a file), as of progress_at. None for a schedule's run.
  std::optional<std::int64_t> rows_read;
  std::optional<std::int64_t> rows_total;
  std::optional<std::string> progress_at;
};

struct ScheduleStatus {
  const ScheduleDef* def = nullptr;
  bool paused = false;
  std::optional<Instant> next;
  std::optional<Run> last_run;
};

class Schedules {
 public:
  // With `procedures`, scheduled scripts may start procedure instances (the monitors do);
  // whoever runs the schedules drains the runtime after a run.
  Schedules(Engine& engine, std::vector<ScheduleDef> defs, SandboxLimits limits = {},
            lua::ProcedureStarter* procedures = nullptr);

  const ScheduleDef& find(std::string_view name) const;
  std::vector<ScheduleStatus> status();
  void pause(std::string_view name);
  void resume(std::string_view name);

  // Runs a schedule's script now, recording the run whatever its outcome. A failed script
  // rolls back its own changes; the run row keeps the error.
  Run run(const ScheduleDef& def, std::string_view trigger, std::optional<Instant> scheduled_for,
          const std::function<void(std::string_view)>& print);

  // Moves a simulated clock forward to `until`, stopping at each schedule fire and each of
  // `timers`' timers on the way (in time order; at the same instant timers first, then
  // schedules by name) to run it with the clock at that instant.
  std::vector<Run> advance(SimulatedClock& clock, Instant until,
                           const std::function<void(std::string_view)>& print,
                           TimerSource* timers = nullptr);

  // For `casekit serve`: runs what fell due by `now`. After downtime (`after_downtime`, the
  // first tick of a server) missed fires follow each schedule's catch_up policy; otherwise
  // fires that came due while a run was going follow its overlap policy. A schedule seen
  // for the first time starts counting from now.
  std::vector<Run> tick(Instant now, bool after_downtime,
                        const std::function<void(std::string_view)>& print);
  // The earliest fire of any enabled, unpaused schedule after `now`.
  std::optional<Instant> next_fire(Instant now);

  std::vector<Run> runs(const std::optional<std::string>& schedule, int limit);
  // The newest run of a script with no schedule (an import's, "import dw") still running.
  std::optional<Run> newest_running(std::string_view script);
  // One run; not_found for an unknown id.
  Run get_run(Id id);

 private:
  bool paused(const std::string& name);
  std::optional<Instant> last_fire(const std::string& name);
  void set_last_fire(const std::string& name, Instant t);
  // Fires of `def` strictly after `after`, up to and including `until` (at most 1000).
  std::vector<Instant> fires_between(const ScheduleDef& def, Instant after, Instant until);

  Engine& engine_;
  std::vector<ScheduleDef> defs_;
  SandboxLimits limits_;
  lua::ProcedureStarter* procedures_;
};

// An import's rows a second, from its start to the last progress it recorded; none before
// any time has passed on the engine's clock (a simulated clock stands still unless moved).
std::optional<double> rows_per_second(const Run& r);

// A run, and a schedule's definition with its state, as `--json` and the HTTP API show them.
nlohmann::json to_json(const Run& r);
nlohmann::json to_json(const ScheduleStatus& s);

}  // namespace casekit
