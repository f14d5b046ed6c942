// Procedures through the casekit binary: separate processes (so replay meets a different
// string-hash seed each time), work items, payments, incidents, and serve on real time.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sstream>

#include <thread>

#include "tests/cli_support.hpp"

using namespace casekit;
using namespace casekit::test;

namespace {

// A home with the repository's procedures plus `name`.lua.
struct ProcedureCli {
  TempDir home_dir;
  Home home = copied_home(home_dir.path());
  Cli cli{home_dir.path()};

  void procedure(const std::string& name, const std::string& source) {
    write_file(home.procedures() / (name + ".lua"), source);
  }
  Result run(const std::string& args) { return cli.run(args); }
};

// 300 journaled calls in pairs() order, then a table.sort with ties over 250 records.
constexpr const char* kOrder = R"lua(
return procedure {
  name = "order",
  run = function(ctx)
    local s = sr.create{casegroup = ctx.casegroup, process = "Arrears",
                        area = "Arrears management", sub_area = "Action Missed Payment"}
    local t = {}
    for i = 1, 300 do t["key" .. i] = i end
    for k, v in pairs(t) do s:set_field(k, tostring(v)) end
    local recs = {}
    for i = 1, 250 do recs[i] = {rank = i % 3, id = i} end
    table.sort(recs, function(a, b) return a.rank < b.rank end)
    local ids = {}
    for i, r in ipairs(recs) do ids[i] = r.id end
    s:add_note(table.concat(ids, ","))
    wait{days = 1}
    s:add_note("resumed")
    return #s:notes()
  end,
}
)lua";

}  // namespace

TEST_CASE("cli: replay survives pairs() and table.sort across separate processes") {
  ProcedureCli p;
  p.cli.seeded();
  p.procedure("order", kOrder);
  const Result started = p.run("start order --casegroup 1");
  INFO(started.err);
  REQUIRE(started.status == 0);
  CHECK(started.out == "instance 1 (order): waiting on timer until 2026-11-21T07:00:00Z\n");
  const auto history = p.cli.json("instance history 1 --json");
  REQUIRE(history.size() == 303);  // sr.create, 300 SR:set_field, SR:add_note, wait
  CHECK(history[302]["command"] == "wait");
  CHECK(history[302]["pending"] == true);
  // The calls were made in the canonical order: keys sorted bytewise.
  CHECK(history[1]["args"][1] == "key1");
  CHECK(history[2]["args"][1] == "key10");
  CHECK(history[3]["args"][1] == "key100");
  // The table cuts long arguments and results; --json has them whole.
  const Result table = p.run("instance history 1");
  REQUIRE(table.status == 0);
  std::istringstream rows(table.out);
  std::string row;
  while (std::getline(rows, row)) CHECK(row.size() < 250);
  CHECK_THAT(table.out, Catch::Contains("..."));

  // Another process replays the 303 recorded commands, then resumes after the wait.
  const Result advanced = p.run("clock advance 2d");
  INFO(advanced.err);
  REQUIRE(advanced.status == 0);
  CHECK(p.cli.json("incident list --json").empty());
  const auto shown = p.cli.json("instance show 1 --json");
  CHECK(shown["status"] == "completed");
  CHECK(shown["result"] == 2);
  // table.sort kept equal ranks in their original order (stable).
  std::string expected;
  for (int rank = 0; rank < 3; ++rank) {
    for (int i = 1; i <= 250; ++i) {
      if (i % 3 == rank) expected += (expected.empty() ? "" : ",") + std::to_string(i);
    }
  }
  const auto sr_id = history[0]["result"][0]["id"].get<std::int64_t>();
  const auto sr = p.cli.json("sr show " + std::to_string(sr_id) + " --json");
  CHECK(sr["notes"][0]["text"] == expected);
  CHECK(sr["notes"][1]["text"] == "resumed");
  CHECK(sr["fields"].size() == 300);
}

TEST_CASE("cli: start, task complete with checks, payment record, history, incidents, cancel") {
  ProcedureCli p;
  p.cli.seeded();
  p.procedure("approve_then_pay", R"lua(
return procedure {
  name = "approve_then_pay",
  run = function(ctx)
    local d = task.await{inbox = "team_leader", kind = "approval", title = "Approve " .. ctx.params.what,
                         outcomes = {"approved", "rejected"}, fields = {"reason"},
                         required = {rejected = {"reason"}}, submitted_by = ctx.started_by}
    if d.outcome == "rejected" then return "rejected: " .. d.fields.reason end
    local got = event.await{kind = "payment", account = payment.account(ctx.casegroup), timeout_days = 7}
    if got.timeout then error("no payment within 7 days") end
    return "paid " .. got.payment.amount
  end,
}
)lua");
  REQUIRE(p.run("user add tina --role team_leader").status == 0);
  REQUIRE(p.run("user add carl --role caseworker").status == 0);
  CHECK(p.run("user add tina --role team_leader").err == "casekit: user 'tina' already exists\n");
  CHECK(p.run("user add x --role boss").status == 1);

  const Result started =
      p.run("start approve_then_pay --casegroup 1 --param what=refund --as tina");
  INFO(started.err);
  CHECK(started.out == "instance 1 (approve_then_pay): waiting on task (work item 1)\n");
  CHECK(p.run("start approve_then_pay --param broken").status == 2);

  const auto items = p.cli.json("task list --inbox team_leader --json");
  REQUIRE(items.size() == 1);
  CHECK(items[0]["title"] == "Approve refund");
  CHECK(items[0]["submitted_by"] == "tina");

  const auto before = p.cli.json("instance show 1 --json");
  CHECK(p.run("task complete 1 --outcome approved --as carl").err ==
        "casekit: carl is a caseworker; inbox 'team_leader' needs: team_leader\n");
  CHECK(p.run("task complete 1 --outcome maybe --as tina").err ==
        "casekit: unknown outcome 'maybe' for work item 1 (outcomes: approved, rejected)\n");
  CHECK(p.run("task complete 1 --outcome rejected --as tina").err ==
        "casekit: outcome 'rejected' needs field 'reason' (--field reason=...)\n");
  CHECK_THAT(p.run("task complete 1 --outcome approved --as tina").err,
             Catch::Contains("segregation of duties"));
  CHECK(p.run("task complete 1 --outcome approved --field bad --as tina").status == 2);
  CHECK(p.cli.json("instance show 1 --json") == before);

  REQUIRE(p.run("user add tom --role team_leader").status == 0);
  const Result done = p.run("task complete 1 --outcome approved --as tom");
  CHECK(done.out ==
        "work item 1 completed: approved by tom\ninstance 1 (approve_then_pay): waiting on payment "
        "(account 1), timeout 2026-11-27T07:00:00Z\n");
  // Waiting, its history is what rebuilds it: the task's answer, and the wait on payment.
  const auto history = p.cli.json("instance history 1 --json");
  REQUIRE(history.size() == 3);  // task.await, payment.account, event.await
  CHECK(history[0]["seq"] == 1);
  CHECK(history[0]["command"] == "task.await");
  CHECK(history[0]["result"][0]["by"] == "tom");
  CHECK(history[2]["command"] == "event.await");
  CHECK(history[2]["result"].is_null());
  const auto account = p.cli.json("casegroup show 1 --json")["account"]["id"].get<int>();
  const Result paid = p.run("payment record --account " + std::to_string(account) +
                            " --amount 2500 --date 2026-11-21");
  CHECK_THAT(paid.out, Catch::EndsWith(" recorded: £25.00 to account " + std::to_string(account) +
                                       ", £25.00 allocated to dues (1 instance(s) resumed)\n"));
  const auto shown = p.cli.json("instance show 1 --json");
  CHECK(shown["status"] == "completed");
  CHECK(shown["result"] == "paid 2500");
  // Ended, it will never be replayed: its history goes, and the command says so.
  CHECK(p.cli.json("instance history 1 --json").empty());
  CHECK(p.run("instance history 1").out ==
        "instance 1 has completed: an ended instance keeps no history (it is never replayed; "
        "casekit --keep-history keeps it). What it changed is in the audit under "
        "approve_then_pay#1\n");

  // The second instance times out and fails: an incident, then cancelled.
  REQUIRE(p.run("start approve_then_pay --casegroup 1 --param what=x --as tina").status == 0);
  REQUIRE(p.run("task complete 2 --outcome approved --as tom").status == 0);
  const Result timed_out = p.run("clock advance 8d");
  CHECK(timed_out.status == 0);
  const auto incidents = p.cli.json("incident list --json");
  REQUIRE(incidents.size() == 1);
  CHECK(incidents[0]["instance"] == 2);
  CHECK(incidents[0]["kind"] == "error");
  CHECK(incidents[0]["line"] == "procedures/approve_then_pay.lua:10");
  CHECK(p.run("instance retry 2").status == 1);  // fails the same way again
  // Kept for debugging, a cancelled instance's history stays whole.
  CHECK(p.run("--keep-history instance cancel 2").out == "instance 2 cancelled\n");
  const auto kept = p.cli.json("instance history 2 --json");
  REQUIRE(kept.size() == 3);
  CHECK(kept[2]["command"] == "event.await");
  CHECK(p.cli.json("incident list --json").empty());
  CHECK(p.cli.json("incident list --all --json").size() == 2);
  CHECK(p.run("instance show 99").err == "casekit: no procedure instance 99\n");
  CHECK(p.cli.json("instance list --status cancelled --json").size() == 1);
}

TEST_CASE(
    "cli: start refuses an unknown --as or a second instance for an SR, and task complete fails "
    "when its instance does") {
  ProcedureCli p;
  p.cli.seeded();
  p.procedure("then_fails", R"lua(
return procedure {
  name = "then_fails",
  run = function(ctx)
    task.await{inbox = "caseworker", title = "Look", outcomes = {"done"}}
    error("the next step broke")
  end,
}
)lua");
  REQUIRE(p.run("user add carl --role caseworker < /dev/null").status == 0);
  CHECK(p.run("start then_fails --casegroup 1 --as nobody").err ==
        "casekit: no user 'nobody' (add one with: casekit user add NAME --role ROLE)\n");
  CHECK(p.cli.json("instance list --json").empty());
  REQUIRE(p.run("start then_fails --casegroup 1 --as carl").status == 0);
  const Result done = p.run("task complete 1 --outcome done --as carl");
  CHECK(done.status == 1);
  CHECK_THAT(done.out, Catch::StartsWith("work item 1 completed: done by carl\n"));
  CHECK_THAT(done.err, Catch::Contains("instance 1 failed: "));
  CHECK_THAT(done.err, Catch::Contains("the next step broke"));
  CHECK(p.cli.json("task show 1 --json")["status"] == "completed");

  // One instance of a procedure per SR at a time: a second start for it is refused.
  REQUIRE(p.run("start then_fails --casegroup 1 --param sr=5 --as carl").status == 0);
  const Result twice = p.run("start then_fails --casegroup 1 --param sr=5 --as carl");
  CHECK(twice.status == 1);
  CHECK(twice.err ==
        "casekit: instance 2 of then_fails is already working SR 5 (casekit instance show 2)\n");
  CHECK(p.run("start then_fails --casegroup 1 --param sr=6 --as carl").status == 0);
  CHECK(p.cli.json("instance list --json").size() == 3);
  CHECK(p.cli.json("instance list --casegroup 1 --json").size() == 3);
  CHECK(p.cli.json("instance list --casegroup 2 --json").empty());
  const auto page = p.cli.json("instance list --after 1 --limit 1 --json");
  REQUIRE(page.size() == 1);
  CHECK(page[0]["id"] == 2);
  CHECK(p.run("instance list --casegroup 0").status != 0);
}

TEST_CASE("cli: user add, passwd and disable keep passwords hashed and refuse bad input") {
  ProcedureCli p;
  REQUIRE(p.run("init --simulated-clock 2026-11-20T07:00:00Z").status == 0);
  p.cli.write("good.txt", "a long enough password\n");
  p.cli.write("short.txt", "short\n");
  const Result added =
      p.run("user add tina --role team_leader --team Enforcement --password-stdin < good.txt");
  INFO(added.err);
  CHECK(added.out == "user tina (team_leader, team Enforcement) added\n");
  // A refused password leaves no user behind.
  CHECK(p.run("user add bob --role caseworker --password-stdin < short.txt").err ==
        "casekit: a password must be 12 to 1024 characters\n");
  CHECK(p.run("user add bob --role caseworker < /dev/null").out ==
        "user bob (caseworker) added; no password yet (casekit user passwd)\n");
  CHECK(p.run("user passwd bob < /dev/null").err ==
        "casekit: give the password on a terminal or with --password-stdin\n");
  CHECK(p.run("user passwd nobody --password-stdin < good.txt").status == 1);
  CHECK(p.run("user passwd bob --password-stdin < good.txt").out == "password set for bob\n");
  CHECK(p.run("user add x --role boss").err ==
        "casekit: unknown role 'boss' (roles: caseworker, team_leader, operator, policy_author, "
        "senior_manager, admin)\n");
  // Teams are the SR catalogue's owner teams: who may work an item follows from them.
  CHECK_THAT(p.run("user add x --role caseworker --team north").err,
             Catch::StartsWith("casekit: unknown team 'north' (teams: Arrears, Enforcement,"));
  CHECK(p.run("user disable bob").out == "user bob disabled\n");
  CHECK(p.run("user disable bob").err == "casekit: user 'bob' is already disabled\n");
  const auto users = p.cli.json("user list --json");
  REQUIRE(users.size() == 2);
  CHECK(users[0]["name"] == "bob");
  CHECK(users[0]["disabled_at"] == "2026-11-20T07:00:00Z");
  CHECK(users[1]["team"] == "Enforcement");
  CHECK(users[1]["disabled_at"].is_null());
  // The database holds Argon2id hashes, never the password.
  Database db(p.cli.db(), OpenMode::existing);
  auto st = db.prepare(
      "SELECT count(*) FROM user_credentials WHERE password_hash LIKE "
      "'$argon2id$%' AND password_hash NOT LIKE '%long enough%'");
  st.step();
  CHECK(st.integer(0) == 2);
}

TEST_CASE("cli: signal wakes the instances waiting for it and refuses every other way in") {
  ProcedureCli p;
  p.cli.seeded();
  p.procedure("listen", R"lua(
return procedure {
  name = "listen",
  run = function(ctx)
    local got = event.await{kind = "signal", names = {"cis_address", "client_contact"},
                            timeout_days = 30}
    if got.timeout then return "timeout" end
    return got.signal.name .. " from " .. got.signal.by .. ": " .. tostring(got.signal.data.postcode)
  end,
}
)lua");
  REQUIRE(p.run("user add carl --role caseworker").status == 0);
  REQUIRE(p.run("start listen --casegroup 1").status == 0);
  REQUIRE(p.run("start listen --casegroup 1").status == 0);
  CHECK(p.cli.json("instance show 1 --json")["wait"]["kind"] == "signal");
  const auto before = p.cli.json("instance list --json");

  // Each refusal: one clear error, a non-zero exit, and nothing changed.
  CHECK(p.run("signal cis_address --casegroup 1").status != 0);  // --as is required
  CHECK(p.run("signal cis_address --as carl").err ==
        "casekit: say where the signal goes: --instance or --casegroup\n");
  CHECK(p.run("signal cis_address --instance 1 --casegroup 1 --as carl").status != 0);
  CHECK(p.run("signal cis_address --casegroup 1 --as nobody").err ==
        "casekit: no user 'nobody' (add one with: casekit user add NAME --role ROLE)\n");
  REQUIRE(p.run("user add pat --role policy_author").status == 0);
  CHECK(p.run("signal cis_address --casegroup 1 --as pat").err ==
        "casekit: user 'pat' (policy_author) may not send signals: caseworkers, team leaders, "
        "senior managers and operators may\n");
  CHECK(p.run("signal 'CIS address' --casegroup 1 --as carl").err ==
        "casekit: 'CIS address' is not a signal name (lower-case letters, digits and _)\n");
  CHECK(p.run("signal cis_address --casegroup 1 --data '[1]' --as carl").err ==
        "casekit: --data must be a JSON object\n");
  CHECK(p.run("signal cis_address --casegroup 1 --data '{bad' --as carl").err ==
        "casekit: --data must be a JSON object\n");
  CHECK(p.run("signal hmrc_employment --casegroup 1 --as carl").err ==
        "casekit: no instance on casegroup 1 is waiting for signal 'hmrc_employment'; nothing "
        "was sent\n");
  CHECK(p.run("signal cis_address --casegroup 99 --as carl").status == 1);
  CHECK(p.run("signal cis_address --instance 99 --as carl").err ==
        "casekit: no procedure instance 99\n");
  CHECK(p.cli.json("instance list --json") == before);

  // To one instance: only it resumes.
  const Result one =
      p.run("signal client_contact --instance 2 --data '{\"postcode\":\"M1 1AA\"}' --as carl");
  INFO(one.err);
  CHECK(one.out ==
        "signal client_contact sent by carl to 1 instance\ninstance 2 (listen): completed\n");
  CHECK(p.cli.json("instance show 2 --json")["result"] == "client_contact from carl: M1 1AA");
  CHECK(p.cli.json("instance show 1 --json")["status"] == "waiting");
  // To the casegroup: every instance on it waiting for that name.
  const auto woken = p.cli.json("signal cis_address --casegroup 1 --as carl --json");
  REQUIRE(woken.size() == 1);
  CHECK(woken[0]["id"] == 1);
  CHECK(woken[0]["result"] == "cis_address from carl: nil");
}

TEST_CASE("cli: serve fires a timer on real time and stops cleanly on SIGTERM") {
  ProcedureCli p;
  REQUIRE(p.run("init").status == 0);
  p.procedure("soon", R"lua(
return procedure {
  name = "soon",
  run = function(ctx)
    local w = wait{at = ctx.params.at}
    return w.fired_at
  end,
}
)lua");
  const auto at = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) +
                  std::chrono::seconds(2);
  const std::string when = format_instant(at);
  REQUIRE(p.run("start soon --param at=" + when).status == 0);

  const pid_t pid = fork();
  if (pid == 0) {
    if (chdir(p.cli.dir.path().c_str()) != 0) _exit(127);
    setenv("CASEKIT_HOME", p.home.root.c_str(), 1);
    execl(CASEKIT_BINARY, CASEKIT_BINARY, "serve", "--poll", "1", nullptr);
    _exit(127);
  }
  std::string status;
  for (int i = 0; i < 100 && status != "completed"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = p.cli.json("instance show 1 --json")["status"];
  }
  kill(pid, SIGTERM);
  int exit_status = 0;
  waitpid(pid, &exit_status, 0);
  CHECK(status == "completed");
  CHECK(p.cli.json("instance show 1 --json")["result"] == when);
  REQUIRE(WIFEXITED(exit_status));
  CHECK(WEXITSTATUS(exit_status) == 0);
  // A simulated database is moved by command only.
  REQUIRE(p.run("init --force --simulated-clock 2026-11-20").status == 0);
  CHECK_THAT(p.run("serve").err, Catch::Contains("has a simulated clock"));
}

namespace casekit::test {

// Each command a script reads has --json, and a long task list reads in pages.
TEST_CASE("cli: clock show and schedule next and start and task complete and upgrade have --json") {
  ProcedureCli p;
  p.cli.seeded();
  p.procedure("ask", R"lua(
return procedure {
  name = "ask",
  run = function(ctx)
    local d = task.await{inbox = "caseworker", title = "Ask " .. ctx.params.n, outcomes = {"done"}}
    return d.outcome
  end,
}
)lua");
  REQUIRE(p.run("user add carl --role caseworker").status == 0);

  const auto clock = p.cli.json("clock show --json");
  CHECK(clock == nlohmann::json({{"now", "2026-11-20T07:00:00Z"}, {"simulated", true}}));
  CHECK(p.cli.json("schedule next '0 9 * * *' --tz UTC --after 2026-11-20T00:00:00Z --count 2 "
                   "--json") ==
        nlohmann::json::array({"2026-11-20T09:00:00Z", "2026-11-21T09:00:00Z"}));

  for (int n = 1; n <= 5; ++n) {
    const auto started = p.cli.json("start ask --param n=" + std::to_string(n) + " --json");
    CHECK(started["id"] == n);
    CHECK(started["status"] == "waiting");
  }
  // Pages of two: --after the last id shown; a full page says how to read on.
  const Result first = p.run("task list --limit 2 --json");
  REQUIRE(first.status == 0);
  const auto page1 = nlohmann::json::parse(first.out);
  REQUIRE(page1.size() == 2);
  CHECK(first.err == "casekit: 2 items shown; more may follow: --after 2\n");
  const auto page3 = p.cli.json("task list --limit 2 --after 4 --json");
  REQUIRE(page3.size() == 1);
  CHECK(page3[0]["id"] == 5);
  CHECK(p.run("task list --limit 0").status == 2);

  const auto done = p.cli.json("task complete 1 --outcome done --as carl --json");
  CHECK(done["item"]["id"] == 1);
  CHECK(done["item"]["status"] == "completed");
  CHECK(done["instance"]["status"] == "completed");
  CHECK(done["instance"]["result"] == "done");

  // Nothing changed in the source: an upgrade has nothing to move to.
  const Result upgraded = p.run("instance upgrade 2 --json");
  INFO(upgraded.err);
  const auto report = nlohmann::json::parse(upgraded.out);
  CHECK(report["instance"] == 2);
  CHECK(report["divergence"].is_null());
  CHECK(report.contains("switched"));
  CHECK(report["message"].is_string());
}

TEST_CASE("cli: instance upgrade --procedure moves what replays and reports what diverges") {
  ProcedureCli p;
  p.cli.seeded();
  const auto source = [](const std::string& second_title, const std::string& result) {
    return R"lua(
return procedure {
  name = "branches",
  run = function(ctx)
    if ctx.params.n == "1" then
      task.await{inbox = "caseworker", title = "First", outcomes = {"done"}}
    else
      task.await{inbox = "caseworker", title = ")lua" +
           second_title + R"lua(", outcomes = {"done"}}
    end
    return ")lua" +
           result + R"lua("
  end,
}
)lua";
  };
  p.procedure("branches", source("Second", "v1"));
  REQUIRE(p.run("user add carl --role caseworker").status == 0);
  REQUIRE(p.run("start branches --param n=1").status == 0);
  REQUIRE(p.run("start branches --param n=2").status == 0);
  const auto hash_of = [&](int id) {
    return p.cli.json("instance show " + std::to_string(id) + " --json")["source_hash"];
  };
  const auto old_hash = hash_of(1);
  // The new source asks the second branch something else: its history no longer replays.
  p.procedure("branches", source("Second, reworded", "v2"));

  const Result dry = p.run("instance upgrade --procedure branches --to-current --dry-run --json");
  CHECK(dry.status == 1);
  const auto plan = nlohmann::json::parse(dry.out);
  CHECK(plan["dry_run"] == true);
  CHECK(plan["upgraded"] == 1);
  CHECK(plan["diverged"] == 1);
  REQUIRE(plan["instances"].size() == 2);
  CHECK(plan["instances"][0]["switched"] == false);
  CHECK(plan["instances"][1]["divergence"]["position"] == 1);
  CHECK_THAT(plan["instances"][1]["divergence"]["line"].get<std::string>(),
             Catch::Contains("branches.lua:"));
  CHECK(hash_of(1) == old_hash);  // nothing moved
  CHECK(hash_of(2) == old_hash);

  const Result moved = p.run("instance upgrade --procedure branches --to-current");
  CHECK(moved.status == 1);
  CHECK_THAT(moved.out, Catch::Contains("instance 1 upgraded from ") &&
                            Catch::Contains("not upgraded: ") &&
                            Catch::EndsWith("2 running instance(s) of branches: 1 upgraded, 1 "
                                            "diverge\n"));
  CHECK(moved.err == "casekit: 1 instance(s) diverge from the current source and stay on theirs\n");
  CHECK(hash_of(1) != old_hash);
  CHECK(hash_of(2) == old_hash);
  // The moved one runs the new source from its wait; the other goes on with its own.
  REQUIRE(p.run("task complete 1 --outcome done --as carl").status == 0);
  REQUIRE(p.run("task complete 2 --outcome done --as carl").status == 0);
  CHECK(p.cli.json("instance show 1 --json")["result"] == "v2");
  CHECK(p.cli.json("instance show 2 --json")["result"] == "v1");

  CHECK(p.run("instance upgrade").status == 2);
  CHECK(p.run("instance upgrade --procedure branches").status == 2);
  CHECK(p.run("instance upgrade 1 --procedure branches --to-current").status == 2);
  const Result unknown = p.run("instance upgrade --procedure nowhere --to-current");
  CHECK(unknown.status == 1);
  CHECK_THAT(unknown.err, Catch::Contains("nowhere"));
}

}  // namespace casekit::test

TEST_CASE("cli: whatif reports both runs and --module names a file under procedures/lib") {
  ProcedureCli p;
  p.cli.seeded();
  write_file(p.home.procedures() / "lib" / "raised.lua", "return 'Action Missed Payment'\n");
  p.procedure("raiser", R"lua(
local sub_area = require "raised"
return procedure{name = "raiser", run = function(ctx)
  wait{days = 1}
  sr.create{casegroup = ctx.casegroup, process = "Arrears", area = "Arrears Management",
            sub_area = sub_area}
end}
)lua");
  REQUIRE(p.run("start raiser --casegroup 1").status == 0);
  write_file(p.home_dir.path() / "raised.lua", "return 'Arrears Review'\n");

  const Result text =
      p.run("whatif raiser --module raised.lua=" + (p.home_dir.path() / "raised.lua").string() +
            " --days 3");
  REQUIRE(text.status == 0);
  CHECK_THAT(text.out,
             Catch::StartsWith("what if: raiser from ") &&
                 Catch::Contains("1 running instance(s) of raiser: 0 do not replay") &&
                 Catch::Contains("Arrears Management / Arrears Review") &&
                 Catch::Contains("2 difference(s) between the current and the changed files"));
  CHECK_THAT(text.err, Catch::Contains("whatif: copying the database"));
  const auto json = p.cli.json("whatif raiser --days 3 --json --module raised.lua=" +
                               (p.home_dir.path() / "raised.lua").string());
  // The seeded caseload's other instances and schedules run too, the same on both sides.
  std::map<std::string, std::pair<int, int>> raised;
  for (const auto& c : json["counts"]) {
    CHECK((c["key"].get<std::string>().find("Arrears Management / ") == 0 || c["difference"] == 0));
    if (c["measure"] == "SRs raised") raised[c["key"]] = {c["current"], c["changed"]};
  }
  CHECK(raised["Arrears Management / Arrears Review"] == std::pair{0, 1});
  // The seed's missed payments raise theirs on both sides: one fewer on the changed.
  const auto [current, changed] = raised["Arrears Management / Action Missed Payment"];
  CHECK(current - changed == 1);
  // The caseload itself: the instance still waits, and no SR was raised.
  CHECK(p.cli.json("instance show 1 --json")["status"] == "waiting");

  CHECK(p.run("whatif raiser").status == 1);
  CHECK(p.run("whatif raiser --module raised.lua").status == 2);  // not NAME=FILE
  CHECK(p.run("whatif raiser --source x.lua --days 0").status == 2);

  // Only casegroup 1's: the other casegroups' missed payments are not counted, and the
  // stated refusal is checked before anything is copied.
  const std::string module = " --module raised.lua=" + (p.home_dir.path() / "raised.lua").string();
  const auto only = p.cli.json("whatif raiser --days 3 --json --casegroups csa_ref=" +
                               p.cli.json("casegroup show 1 --json")["csa_ref"].get<std::string>() +
                               " --refuse bancs.unsuspend=down" + module);
  CHECK(only["selected"] == 1);
  CHECK(only["running"] == 1);
  for (const auto& c : only["counts"]) {
    for (const auto& g : c["examples"]) CHECK(g == 1);
  }
  const Result refused = p.run("whatif raiser --refuse bancs.nothing" + module);
  CHECK(refused.status == 1);
  CHECK_THAT(refused.err, Catch::Contains("'bancs.nothing' is not an operation"));
  CHECK(p.run("whatif raiser --refuse nothing" + module).status == 2);
  CHECK_THAT(p.run("whatif raiser --casegroups colour=red" + module).err,
             Catch::Contains("unknown key 'colour'"));
}
