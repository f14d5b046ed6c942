#include "engine/schedule/schedules.hpp"

#include "engine/core/json.hpp"

#include <toml++/toml.h>

#include <cmath>
#include <map>
#include <queue>
#include <set>

#include "engine/core/error.hpp"
#include "engine/runtime/script_runner.hpp"
#include "engine/store/row_format.hpp"

namespace casekit {
namespace {

std::string where(const std::filesystem::path& file, const toml::node& node) {
  return file.string() + ":" + std::to_string(node.source().begin.line);
}

std::string required(const std::filesystem::path& file, const toml::table& t, const char* key,
                     const std::string& name) {
  const auto v = t[key].value<std::string>();
  if (!v || v->empty()) {
    throw Error(ErrorCode::invalid, where(file, t) + ": schedule '" + name + "' needs " + key);
  }
  return *v;
}

std::string one_of(const std::filesystem::path& file, const toml::table& t, const char* key,
                   const std::string& name, std::initializer_list<const char*> allowed) {
  const toml::node* node = t.get(key);
  if (!node) return *allowed.begin();
  const auto v = node->value<std::string>();
  std::string list;
  for (const char* a : allowed) {
    if (v && *v == a) return *v;
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  throw Error(ErrorCode::invalid,
              where(file, *node) + ": schedule '" + name + "': " + key + " must be one of " + list);
}

const RowFormat kRunRow{column<&Run::id>("id"),
                        column<&Run::schedule>("schedule"),
                        column<&Run::script>("script"),
                        column<&Run::trigger>("trigger"),
                        column<&Run::scheduled_for>("scheduled_for"),
                        column<&Run::started_at>("started_at"),
                        column<&Run::finished_at>("finished_at"),
                        column<&Run::status>("status"),
                        column<&Run::message>("message"),
                        column<&Run::rows_read>("rows_read"),
                        column<&Run::rows_total>("rows_total"),
                        column<&Run::progress_at>("progress_at")};

}  // namespace

std::vector<ScheduleDef> load_schedules(const std::filesystem::path& file,
                                        const std::filesystem::path& scripts_dir) {
  if (!std::filesystem::exists(file)) {
    throw Error(ErrorCode::not_found, "no schedules file at " + file.string());
  }
  toml::table doc;
  try {
    doc = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    throw Error(ErrorCode::invalid, file.string() + ":" + std::to_string(e.source().begin.line) +
                                        ": " + std::string(e.description()));
  }
  for (const auto& [key, node] : doc) {
    if (key != "schedule") {
      throw Error(ErrorCode::invalid, where(file, node) + ": unknown key '" +
                                          std::string(key.str()) + "' (expected [[schedule]])");
    }
  }
  std::vector<ScheduleDef> defs;
  std::set<std::string> names;
  const auto* list = doc["schedule"].as_array();
  if (!list) return defs;
  for (const auto& node : *list) {
    const auto* t = node.as_table();
    if (!t) throw Error(ErrorCode::invalid, where(file, node) + ": [[schedule]] must be a table");
    static constexpr const char* kKeys[] = {"name",    "script",   "cron",   "timezone",
                                            "overlap", "catch_up", "enabled"};
    for (const auto& [key, value] : *t) {
      if (std::find(std::begin(kKeys), std::end(kKeys), key.str()) == std::end(kKeys)) {
        throw Error(ErrorCode::invalid,
                    where(file, value) + ": unknown key '" + std::string(key.str()) + "'");
      }
    }
    ScheduleDef d;
    const auto name = (*t)["name"].value<std::string>();
    if (!name || name->empty()) {
      throw Error(ErrorCode::invalid, where(file, *t) + ": a schedule needs a name");
    }
    d.name = *name;
    if (!names.insert(d.name).second) {
      throw Error(ErrorCode::invalid,
                  where(file, *t) + ": schedule '" + d.name + "' is declared twice");
    }
    d.script_name = required(file, *t, "script", d.name);
    d.script = scripts_dir / d.script_name;
    if (!std::filesystem::is_regular_file(d.script)) {
      throw Error(ErrorCode::invalid,
                  where(file, *t) + ": schedule '" + d.name + "': no script " + d.script.string());
    }
    const std::string cron = required(file, *t, "cron", d.name);
    try {
      d.cron = CronExpression::parse(cron);
      d.zone_name = (*t)["timezone"].value_or(std::string("Europe/London"));
      d.zone = &time_zone_named(d.zone_name);
    } catch (const Error& e) {
      throw Error(ErrorCode::invalid, where(file, *t) + ": schedule '" + d.name + "': " + e.what());
    }
    d.overlap = one_of(file, *t, "overlap", d.name, {"skip", "queue_one", "allow"});
    d.catch_up = one_of(file, *t, "catch_up", d.name, {"skip", "once"});
    if (const toml::node* enabled = t->get("enabled")) {
      const auto v = enabled->value<bool>();
      if (!v) {
        throw Error(ErrorCode::invalid, where(file, *enabled) + ": schedule '" + d.name +
                                            "': enabled must be true or false");
      }
      d.enabled = *v;
    }
    defs.push_back(std::move(d));
  }
  return defs;
}

Schedules::Schedules(Engine& engine, std::vector<ScheduleDef> defs, SandboxLimits limits,
                     lua::ProcedureStarter* procedures)
    : engine_(engine), defs_(std::move(defs)), limits_(limits), procedures_(procedures) {}

const ScheduleDef& Schedules::find(std::string_view name) const {
  for (const auto& d : defs_) {
    if (d.name == name) return d;
  }
  throw Error(ErrorCode::not_found, "no schedule named '" + std::string(name) + "'");
}

bool Schedules::paused(const std::string& name) {
  auto st = engine_.db.prepare("SELECT paused FROM schedule_state WHERE name = ?1");
  st.bind(1, name);
  return st.step() && st.integer(0) != 0;
}

std::optional<Instant> Schedules::last_fire(const std::string& name) {
  auto st = engine_.db.prepare("SELECT last_fire FROM schedule_state WHERE name = ?1");
  st.bind(1, name);
  if (st.step() && !st.is_null(0)) return parse_instant(st.text(0));
  return std::nullopt;
}

void Schedules::set_last_fire(const std::string& name, Instant t) {
  engine_.db
      .prepare(
          "INSERT INTO schedule_state(name, last_fire) VALUES (?1, ?2) "
          "ON CONFLICT(name) DO UPDATE SET last_fire = excluded.last_fire")
      .bind_all(name, format_instant(t))
      .run();
}

std::vector<ScheduleStatus> Schedules::status() {
  std::vector<ScheduleStatus> out;
  const Instant now = engine_.clock.now();
  for (const auto& d : defs_) {
    ScheduleStatus s;
    s.def = &d;
    s.paused = paused(d.name);
    if (d.enabled && !s.paused) {
      const Instant from = std::max(now, last_fire(d.name).value_or(now));
      const auto next = d.cron.next(from, *d.zone, 1);
      if (!next.empty()) s.next = next.front();
    }
    const auto last = runs(d.name, 1);
    if (!last.empty()) s.last_run = last.front();
    out.push_back(std::move(s));
  }
  return out;
}

void Schedules::pause(std::string_view name) {
  find(name);
  engine_.db
      .prepare(
          "INSERT INTO schedule_state(name, paused) VALUES (?1, 1) "
          "ON CONFLICT(name) DO UPDATE SET paused = 1")
      .bind(1, name)
      .run();
}

void Schedules::resume(std::string_view name) {
  find(name);
  engine_.db
      .prepare(
          "INSERT INTO schedule_state(name, paused) VALUES (?1, 0) "
          "ON CONFLICT(name) DO UPDATE SET paused = 0")
      .bind(1, name)
      .run();
}

Run Schedules::get_run(Id id) {
  auto st = engine_.db.prepare(kRunRow.select("FROM runs WHERE id = ?1"));
  st.bind(1, id);
  if (!st.step()) throw Error(ErrorCode::not_found, "no run with id " + std::to_string(id));
  return kRunRow.read(st);
}

Run Schedules::run(const ScheduleDef& def, std::string_view trigger,
                   std::optional<Instant> scheduled_for,
                   const std::function<void(std::string_view)>& print) {
  Database& db = engine_.db;
  const std::string actor = "schedule:" + def.name;
  Id id = 0;
  {
    // The run row commits before the script starts, so a crash leaves it visible as running.
    ActorScope as(db, actor);
    Transaction tx(db);
    db.prepare(
          "INSERT INTO runs(schedule, script, trigger, scheduled_for, started_at, status) "
          "VALUES (?1, ?2, ?3, ?4, ?5, 'running')")
        .bind_all(def.name, def.script_name, trigger,
                  scheduled_for ? std::optional(format_instant(*scheduled_for)) : std::nullopt,
                  format_instant(engine_.clock.now()))
        .run();
    id = db.last_insert_id();
    tx.commit();
  }
  std::string status = "succeeded";
  std::optional<std::string> message;
  try {
    exec_script(engine_, def.script, limits_, print, procedures_);
  } catch (const Error& e) {
    status = "failed";
    message = e.what();
  }
  ActorScope as(db, actor);
  Transaction tx(db);
  db.prepare("UPDATE runs SET status = ?1, message = ?2, finished_at = ?3 WHERE id = ?4")
      .bind_all(status, message, format_instant(engine_.clock.now()), id)
      .run();
  if (scheduled_for) set_last_fire(def.name, *scheduled_for);
  tx.commit();
  return get_run(id);
}

std::vector<Run> Schedules::advance(SimulatedClock& clock, Instant until,
                                    const std::function<void(std::string_view)>& print,
                                    TimerSource* timers) {
  if (until < clock.now()) {
    throw Error(ErrorCode::bad_argument, "the clock only moves forward");
  }
  // Next fire per schedule, earliest first; ties run in name order.
  using Entry = std::pair<Instant, const ScheduleDef*>;
  auto later = [](const Entry& a, const Entry& b) {
    return a.first != b.first ? a.first > b.first : a.second->name > b.second->name;
  };
  std::priority_queue<Entry, std::vector<Entry>, decltype(later)> due(later);
  auto queue_next = [&](const ScheduleDef& d, Instant after) {
    const auto next = d.cron.next(after, *d.zone, 1);
    if (!next.empty() && next.front() <= until) due.push({next.front(), &d});
  };
  for (const auto& d : defs_) {
    if (d.enabled && !paused(d.name)) queue_next(d, clock.now());
  }
  auto move_clock = [&](Instant at) {
    clock.set(std::max(at, clock.now()));
    save_simulated_clock(engine_.db, clock.now());
  };
  std::vector<Run> out;
  for (;;) {
    const auto timer = timers ? timers->next_timer() : std::nullopt;
    const bool timer_due = timer && *timer <= until && (due.empty() || *timer <= due.top().first);
    if (timer_due) {
      move_clock(*timer);
      timers->fire_timers();
      continue;
    }
    if (due.empty()) break;
    const auto [at, def] = due.top();
    due.pop();
    move_clock(at);
    out.push_back(run(*def, "schedule", at, print));
    if (timers) timers->fire_timers();  // runs whatever the script made runnable
    queue_next(*def, at);
  }
  move_clock(until);
  return out;
}

std::vector<Instant> Schedules::fires_between(const ScheduleDef& def, Instant after,
                                              Instant until) {
  std::vector<Instant> out;
  while (out.size() < 1000) {
    const auto next = def.cron.next(after, *def.zone, 1);
    if (next.empty() || next.front() > until) break;
    out.push_back(next.front());
    after = next.front();
  }
  return out;
}

std::vector<Run> Schedules::tick(Instant now, bool after_downtime,
                                 const std::function<void(std::string_view)>& print) {
  std::vector<Run> out;
  for (const auto& d : defs_) {
    if (!d.enabled || paused(d.name)) continue;
    const auto last = last_fire(d.name);
    if (!last) {
      Transaction tx(engine_.db);
      set_last_fire(d.name, now);
      tx.commit();
      continue;
    }
    const auto due = fires_between(d, *last, now);
    if (due.empty()) continue;
    if (after_downtime) {
      if (d.catch_up == "once") {
        out.push_back(run(d, "catch_up", due.back(), print));
      } else {
        Transaction tx(engine_.db);
        set_last_fire(d.name, due.back());
        tx.commit();
      }
      continue;
    }
    out.push_back(run(d, "schedule", due.front(), print));
    // Fires that came due while that run was going.
    const auto during = fires_between(d, due.front(), engine_.clock.now());
    if (during.empty() || d.overlap == "allow") continue;  // allow: the next tick runs them
    if (d.overlap == "queue_one") {
      out.push_back(run(d, "schedule", during.back(), print));
    } else {
      Transaction tx(engine_.db);
      set_last_fire(d.name, during.back());
      tx.commit();
    }
  }
  return out;
}

std::optional<Instant> Schedules::next_fire(Instant now) {
  std::optional<Instant> best;
  for (const auto& d : defs_) {
    if (!d.enabled || paused(d.name)) continue;
    const auto next = d.cron.next(std::max(now, last_fire(d.name).value_or(now)), *d.zone, 1);
    if (!next.empty() && (!best || next.front() < *best)) best = next.front();
  }
  return best;
}

std::vector<Run> Schedules::runs(const std::optional<std::string>& schedule, int limit) {
  auto st =
      engine_.db.prepare(kRunRow.select("FROM runs WHERE (?1 IS NULL OR schedule = ?1) "
                                        "ORDER BY id DESC LIMIT ?2"));
  st.bind_all(schedule, static_cast<std::int64_t>(limit));
  std::vector<Run> out;
  while (st.step()) out.push_back(kRunRow.read(st));
  return out;
}

std::optional<Run> Schedules::newest_running(std::string_view script) {
  auto st = engine_.db.prepare(
      kRunRow.select("FROM runs WHERE schedule IS NULL AND script = ?1 AND status = 'running' "
                     "ORDER BY id DESC LIMIT 1"));
  st.bind(1, script);
  if (!st.step()) return std::nullopt;
  return kRunRow.read(st);
}

std::optional<double> rows_per_second(const Run& r) {
  if (!r.rows_read || !r.progress_at) return std::nullopt;
  const double seconds =
      std::chrono::duration<double>(parse_instant(*r.progress_at) - parse_instant(r.started_at))
          .count();
  if (seconds <= 0) return std::nullopt;
  return static_cast<double>(*r.rows_read) / seconds;
}

namespace {

nlohmann::json progress_json(const Run& r) {
  if (!r.rows_read) return nullptr;
  const auto per_second = rows_per_second(r);
  const nlohmann::json rate =
      per_second ? nlohmann::json(std::round(*per_second * 10) / 10) : nlohmann::json(nullptr);
  return {{"rows_read", *r.rows_read},
          {"rows_total", or_null(r.rows_total)},
          {"rows_per_second", rate},
          {"as_of", or_null(r.progress_at)}};
}

}  // namespace

nlohmann::json to_json(const Run& r) {
  return {{"id", r.id},
          {"progress", progress_json(r)},
          {"schedule", or_null(r.schedule)},
          {"script", r.script},
          {"trigger", r.trigger},
          {"scheduled_for", or_null(r.scheduled_for)},
          {"started_at", r.started_at},
          {"finished_at", or_null(r.finished_at)},
          {"status", r.status},
          {"message", or_null(r.message)}};
}

nlohmann::json to_json(const ScheduleStatus& s) {
  return {{"name", s.def->name},
          {"script", s.def->script_name},
          {"cron", s.def->cron.text()},
          {"timezone", s.def->zone_name},
          {"overlap", s.def->overlap},
          {"catch_up", s.def->catch_up},
          {"enabled", s.def->enabled},
          {"paused", s.paused},
          {"next", s.next ? nlohmann::json(format_instant(*s.next)) : nullptr},
          {"last_run", s.last_run ? to_json(*s.last_run) : nlohmann::json(nullptr)}};
}

}  // namespace casekit
