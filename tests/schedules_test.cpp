#include <fstream>

#include "engine/core/error.hpp"
#include "engine/runtime/script_runner.hpp"
#include "engine/schedule/schedules.hpp"
#include "test_support.hpp"

using namespace casekit;
using casekit::test::TempDir;
using casekit::test::TestEngine;

namespace {

struct Fixture {
  TestEngine t;
  std::filesystem::path scripts = t.dir.path() / "scripts";

  Fixture() {
    std::filesystem::create_directories(scripts);
    // Each run leaves a note of when it ran, so the tests can see the clock it saw.
    write("note.lua",
          "local s = sr.find{sub_area = 'Arrears Review'}[1] or sr.create{process = 'Arrears', "
          "area = 'Arrears Management', sub_area = 'Arrears Review'}\n"
          "s:add_note(clock.now())\n");
    write("other.lua", "local s = sr.get(1) s:add_note('other ' .. clock.now())\n");
    write("fails.lua", "case.create_client{name = 'Rolled Back'}\nerror('the job failed')\n");
  }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(scripts / name) << text;
  }

  std::vector<ScheduleDef> load(const std::string& toml) {
    write("schedules.toml", toml);
    return load_schedules(scripts / "schedules.toml", scripts);
  }

  std::string load_error(const std::string& toml) {
    try {
      load(toml);
    } catch (const Error& e) {
      return std::string(e.what()).substr((scripts / "schedules.toml").string().size());
    }
    return "no error";
  }

  std::vector<std::string> notes() {
    std::vector<std::string> out;
    for (const auto& n : t.engine.srs.notes(1)) out.push_back(n.body);
    return out;
  }
};

void ignore(std::string_view) {}

}  // namespace

TEST_CASE("schedules.toml: a valid file, with defaults") {
  Fixture f;
  const auto defs = f.load(R"(
[[schedule]]
name = "notes"
script = "note.lua"
cron = "0 6 * * *"

[[schedule]]
name = "other"
script = "other.lua"
cron = "*/30 * * * *"
timezone = "UTC"
overlap = "queue_one"
catch_up = "once"
enabled = false
)");
  REQUIRE(defs.size() == 2);
  CHECK(defs[0].zone_name == "Europe/London");
  CHECK(defs[0].overlap == "skip");
  CHECK(defs[0].catch_up == "skip");
  CHECK(defs[0].enabled);
  CHECK(defs[1].overlap == "queue_one");
  CHECK(defs[1].catch_up == "once");
  CHECK_FALSE(defs[1].enabled);
}

TEST_CASE("schedules.toml: each mistake is refused with its line") {
  Fixture f;
  const std::string head = "[[schedule]]\nname = \"n\"\nscript = \"note.lua\"\n";
  CHECK(f.load_error(head + "cron = \"0 25 * * *\"\n") ==
        ":1: schedule 'n': hour field '25': 25 is out of range (0-23)");
  CHECK(f.load_error(head + "cron = \"0 6 * * *\"\ntimezone = \"Europe/Atlantis\"\n") ==
        ":1: schedule 'n': unknown time zone 'Europe/Atlantis' (use an IANA name such as "
        "Europe/London)");
  CHECK(f.load_error(head + "cron = \"0 6 * * *\"\noverlap = \"sometimes\"\n") ==
        ":5: schedule 'n': overlap must be one of skip, queue_one, allow");
  CHECK(f.load_error(head + "cron = \"0 6 * * *\"\ncatch_up = \"all\"\n") ==
        ":5: schedule 'n': catch_up must be one of skip, once");
  CHECK(f.load_error(head + "cron = \"0 6 * * *\"\nenabled = \"yes\"\n") ==
        ":5: schedule 'n': enabled must be true or false");
  CHECK(f.load_error(head + "cron = \"0 6 * * *\"\ncolour = \"red\"\n") ==
        ":5: unknown key 'colour'");
  CHECK(f.load_error(head + "\n") == ":1: schedule 'n' needs cron");
  CHECK(f.load_error("[[schedule]]\nname = \"n\"\nscript = \"nope.lua\"\ncron = \"0 6 * * *\"\n")
            .find(":1: schedule 'n': no script ") == 0);
  CHECK(f.load_error(head + "cron = \"0 6 * * *\"\n" + head + "cron = \"0 7 * * *\"\n") ==
        ":5: schedule 'n' is declared twice");
  CHECK(f.load_error("[[schedule]]\nname = \"n\"\ncron = 0 6\n").find(":3: ") == 0);
  CHECK(f.load_error("[job]\nx = 1\n") == ":1: unknown key 'job' (expected [[schedule]])");
}

TEST_CASE("advancing a simulated clock runs each fire in order, with the clock at the fire") {
  Fixture f;
  Schedules schedules(f.t.engine, f.load(R"(
[[schedule]]
name = "a-notes"
script = "note.lua"
cron = "0 6 * * *"

[[schedule]]
name = "b-other"
script = "other.lua"
cron = "0 6,18 * * *"
)"));
  const auto runs = schedules.advance(f.t.clock, parse_instant("2026-11-22T07:00:00Z"), ignore);
  // 20 Nov 09:00 -> 22 Nov 07:00: 20th 18:00, 21st 06:00 (a before b), 21st 18:00, 22nd 06:00.
  REQUIRE(runs.size() == 6);
  std::vector<std::string> order;
  for (const auto& r : runs) order.push_back(*r.schedule + "@" + *r.scheduled_for);
  CHECK(order ==
        std::vector<std::string>{"b-other@2026-11-20T18:00:00Z", "a-notes@2026-11-21T06:00:00Z",
                                 "b-other@2026-11-21T06:00:00Z", "b-other@2026-11-21T18:00:00Z",
                                 "a-notes@2026-11-22T06:00:00Z", "b-other@2026-11-22T06:00:00Z"});
  // b-other's first run found no SR 1 yet and failed; its changes were rolled back.
  CHECK(runs[0].status == "failed");
  CHECK_THAT(*runs[0].message, Catch::Contains("no SR with id 1"));
  CHECK(runs[1].status == "succeeded");
  CHECK(f.notes() == std::vector<std::string>{"2026-11-21T06:00:00Z", "other 2026-11-21T06:00:00Z",
                                              "other 2026-11-21T18:00:00Z", "2026-11-22T06:00:00Z",
                                              "other 2026-11-22T06:00:00Z"});
  CHECK(format_instant(f.t.clock.now()) == "2026-11-22T07:00:00Z");
  CHECK(schedules.runs(std::string("a-notes"), 10).size() == 2);
  CHECK(schedules.runs(std::nullopt, 100).size() == 6);
  CHECK_THROWS_WITH(schedules.advance(f.t.clock, parse_instant("2026-11-21T00:00:00Z"), ignore),
                    Catch::Contains("only moves forward"));
}

TEST_CASE("paused and disabled schedules do not fire, and resuming brings them back") {
  Fixture f;
  Schedules schedules(f.t.engine, f.load(R"(
[[schedule]]
name = "notes"
script = "note.lua"
cron = "0 6 * * *"

[[schedule]]
name = "off"
script = "fails.lua"
cron = "* * * * *"
enabled = false
)"));
  schedules.pause("notes");
  CHECK(schedules.status()[0].paused);
  CHECK_FALSE(schedules.status()[0].next);
  CHECK(schedules.advance(f.t.clock, parse_instant("2026-11-23T00:00:00Z"), ignore).empty());
  schedules.resume("notes");
  CHECK(format_instant(*schedules.status()[0].next) == "2026-11-23T06:00:00Z");
  CHECK(schedules.advance(f.t.clock, parse_instant("2026-11-24T00:00:00Z"), ignore).size() == 1);
  CHECK_THROWS_WITH(schedules.pause("nope"), Catch::Contains("no schedule named 'nope'"));
}

TEST_CASE("a failed run is recorded with its error and leaves no changes behind") {
  Fixture f;
  Schedules schedules(f.t.engine, f.load(R"(
[[schedule]]
name = "fails"
script = "fails.lua"
cron = "0 6 * * *"
)"));
  const Run r = schedules.run(schedules.find("fails"), "manual", std::nullopt, ignore);
  CHECK(r.status == "failed");
  CHECK(r.trigger == "manual");
  CHECK_THAT(*r.message, Catch::Contains("fails.lua:2: the job failed"));
  CHECK(r.finished_at);
  CHECK(f.t.count("clients") == 0);
  CHECK(schedules.status()[0].last_run->id == r.id);
}

TEST_CASE("advancing across the spring-forward gap runs a 01:30 job once, at 02:00 BST") {
  Fixture f;
  f.t.clock.set(parse_instant("2027-03-27T12:00:00Z"));
  Schedules schedules(f.t.engine, f.load(R"(
[[schedule]]
name = "notes"
script = "note.lua"
cron = "30 1 * * *"
)"));
  const auto runs = schedules.advance(f.t.clock, parse_instant("2027-03-29T12:00:00Z"), ignore);
  REQUIRE(runs.size() == 2);
  CHECK(*runs[0].scheduled_for == "2027-03-28T01:00:00Z");
  CHECK(*runs[1].scheduled_for == "2027-03-29T00:30:00Z");
}

TEST_CASE(
    "serve ticks: catch-up after downtime follows catch_up, and a new schedule starts from now") {
  Fixture f;
  Schedules schedules(f.t.engine, f.load(R"(
[[schedule]]
name = "once"
script = "note.lua"
cron = "0 6 * * *"
catch_up = "once"

[[schedule]]
name = "skipped"
script = "note.lua"
cron = "0 7 * * *"
catch_up = "skip"
)"));
  // First sight (20 Nov 09:00): nothing runs, both start counting from now.
  CHECK(schedules.tick(f.t.clock.now(), true, ignore).empty());
  // Three days of downtime: 'once' runs once, for the latest missed fire; 'skipped' not.
  f.t.clock.set(parse_instant("2026-11-23T09:00:00Z"));
  const auto caught = schedules.tick(f.t.clock.now(), true, ignore);
  REQUIRE(caught.size() == 1);
  CHECK(*caught[0].schedule == "once");
  CHECK(caught[0].trigger == "catch_up");
  CHECK(caught[0].scheduled_for == "2026-11-23T06:00:00Z");
  // Running normally from then on: the next day's fires, each once.
  CHECK(schedules.tick(f.t.clock.now(), false, ignore).empty());
  f.t.clock.set(parse_instant("2026-11-24T07:30:00Z"));
  const auto next_day = schedules.tick(f.t.clock.now(), false, ignore);
  REQUIRE(next_day.size() == 2);
  CHECK(next_day[0].scheduled_for == "2026-11-24T06:00:00Z");
  CHECK(next_day[1].scheduled_for == "2026-11-24T07:00:00Z");
  CHECK(next_day[1].trigger == "schedule");
  CHECK(schedules.next_fire(f.t.clock.now()) == parse_instant("2026-11-25T06:00:00Z"));
}

TEST_CASE("serve ticks: fires that come due during a long run follow the overlap policy") {
  for (const auto& [policy, expected_runs] :
       std::vector<std::pair<std::string, int>>{{"skip", 1}, {"queue_one", 2}, {"allow", 1}}) {
    Fixture f;
    f.write("slow.lua",
            "print('working')\nlocal s = sr.find{sub_area = 'Arrears Review'}[1] or "
            "sr.create{process = 'Arrears', area = 'Arrears Management', "
            "sub_area = 'Arrears Review'}\ns:add_note(clock.now())\n");
    Schedules schedules(f.t.engine, f.load("[[schedule]]\nname = \"slow\"\nscript = \"slow.lua\"\n"
                                           "cron = \"*/10 * * * *\"\noverlap = \"" +
                                           policy + "\"\n"));
    schedules.tick(f.t.clock.now(), true, ignore);  // starts counting at 09:00
    f.t.clock.set(parse_instant("2026-11-20T09:10:00Z"));
    // The run "takes" 25 minutes: the clock moves on while the script prints.
    bool first = true;
    auto slow = [&](std::string_view) {
      if (first) f.t.clock.set(parse_instant("2026-11-20T09:35:00Z"));
      first = false;
    };
    INFO(policy);
    const auto runs = schedules.tick(f.t.clock.now(), false, slow);
    CHECK(static_cast<int>(runs.size()) == expected_runs);
    CHECK(runs[0].scheduled_for == "2026-11-20T09:10:00Z");
    if (policy == "queue_one") CHECK(runs[1].scheduled_for == "2026-11-20T09:30:00Z");
    const auto later = schedules.tick(f.t.clock.now(), false, ignore);
    if (policy == "allow") {
      // Every missed fire still runs, one per tick: 09:20 now, then 09:30.
      REQUIRE(later.size() == 1);
      CHECK(later[0].scheduled_for == "2026-11-20T09:20:00Z");
      CHECK(schedules.tick(f.t.clock.now(), false, ignore)[0].scheduled_for ==
            "2026-11-20T09:30:00Z");
    } else {
      CHECK(later.empty());  // 09:20 and 09:30 were skipped or folded into one run
      CHECK(schedules.next_fire(f.t.clock.now()) == parse_instant("2026-11-20T09:40:00Z"));
    }
  }
}

// A scheduled run's changes were audited under the script's path as seen from the folder
// `casekit serve` was started in: the same job, a different actor, from one start to the next.
TEST_CASE("a script's changes are audited under its path in the casekit home, from anywhere") {
  const Home home{"/srv/casekit"};
  CHECK(script_actor(home, "/srv/casekit/scripts/monitor.lua") == "script:scripts/monitor.lua");
  CHECK(script_actor(home, "/srv/casekit/procedures/../scripts/monitor.lua") ==
        "script:scripts/monitor.lua");
  // Outside the home, the name it goes by in errors (here: outside the working folder too).
  CHECK(script_actor(home, "/srv/elsewhere/once.lua") == "script:/srv/elsewhere/once.lua");
  CHECK(script_actor(home, "/srv/casekit-old/scripts/monitor.lua") ==
        "script:/srv/casekit-old/scripts/monitor.lua");
}
