// Exactly-once under SIGKILL: 1,000 instances with waits, the engine killed at random
// points and restarted each time, must leave the same database as an uninterrupted run.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "engine/store/audit_chain.hpp"
#include "tests/test_support.hpp"

using namespace casekit;
using namespace casekit::test;

namespace {

constexpr const char* kCrashDemo = R"lua(
return procedure {
  name = "crash_demo",
  run = function(ctx)
    local s = sr.create{casegroup = ctx.casegroup, process = "Arrears",
                        area = "Arrears management", sub_area = "Action Missed Payment",
                        reason = "crash test"}
    -- The ledger too: every step adds a due and a payment, which allocate; the second
    -- returns the first payment, which takes its allocations back.
    local account = payment.account(ctx.casegroup)
    local case1 = ctx.casegroup:cases()[1]
    local first
    for step = 1, 3 do
      s:add_note("step " .. step .. " at " .. clock.now())
      s:set_field("step", tostring(step))
      payment.add_due{casegroup = ctx.casegroup, case = case1, owed_to = "RP",
                      amount = 1000 * step + ctx.casegroup.id}
      local paid = payment.record{account = account, amount = 700 * step, date = clock.today()}
      first = first or paid
      if step == 2 then
        payment.return_payment{payment = first, date = clock.today(), reason = "recalled"}
      end
      wait{days = ctx.casegroup.id % 3 + step}
    end
    -- Another instance works a child SR; this one sleeps until that SR closes.
    local child = sr.create{casegroup = ctx.casegroup, process = "Arrears", parent = s,
                            area = "Arrears management", sub_area = "Action Missed Payment",
                            reason = "crash test child"}
    procedures.start{name = "crash_child", casegroup = ctx.casegroup,
                     params = {sr = tostring(child.id)}}
    local closed = event.await{kind = "sr", sr = child}
    s:add_note("child SR " .. closed.sr.id .. " " .. closed.sr.sub_status)
    s:set_status("Closed")
    return s.id
  end,
}
)lua";

constexpr const char* kCrashChild = R"lua(
return procedure {
  name = "crash_child",
  run = function(ctx)
    wait{days = 1}
    local child = sr.get(math.tointeger(tonumber(ctx.params.sr)))
    child:close("Complete")
    return child.id
  end,
}
)lua";

// Starts the worker; returns its pid.
pid_t spawn(const std::vector<std::string>& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(CASEKIT_CRASH_WORKER));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(CASEKIT_CRASH_WORKER, argv.data());
    _exit(127);
  }
  return pid;
}

int run_to_end(const std::vector<std::string>& args) {
  int status = 0;
  waitpid(spawn(args), &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string dump(const std::filesystem::path& file) {
  SimulatedClock clock(parse_instant("2026-11-20T09:00:00Z"));
  Database db(file, OpenMode::existing);
  db.set_clock(&clock);
  std::string out;
  for (const char* table :
       {"clients", "casegroups", "cases", "service_requests", "sr_notes", "sr_fields",
        "ledger_accounts", "dues", "payments", "allocations", "instances",
        "(SELECT instance_id, first_seq, last_seq, commands, wait_result, resolved_at FROM "
        "instance_activations)",
        "script_lines", "incidents", "audit", "audit_sets"}) {
    out += std::string("== ") + table + "\n";
    auto st = db.prepare(std::string("SELECT * FROM ") + table + " ORDER BY 1, 2");
    while (st.step()) {
      for (int c = 0; c < st.columns(); ++c) out += (st.is_null(c) ? "NULL" : st.text(c)) + "|";
      out += "\n";
    }
  }
  return out;
}

std::int64_t scalar(const std::filesystem::path& file, const std::string& sql) {
  Database db(file, OpenMode::existing);
  auto st = db.prepare(sql);
  st.step();
  return st.integer(0);
}

}  // namespace

TEST_CASE("crash: SIGKILL at random points loses and doubles nothing") {
  constexpr int kInstances = 1000;
  TempDir dir;
  std::filesystem::create_directory(dir.path() / "home");
  const Home home = copied_home(dir.path() / "home");
  write_file(home.procedures() / "crash_demo.lua", kCrashDemo);
  write_file(home.procedures() / "crash_child.lua", kCrashChild);
  const auto calm = (dir.path() / "calm.db").string();
  const auto killed = (dir.path() / "killed.db").string();
  const std::string root = home.root.string();
  REQUIRE(run_to_end({calm, root, "setup", std::to_string(kInstances)}) == 0);
  REQUIRE(run_to_end({killed, root, "setup", std::to_string(kInstances)}) == 0);

  // The uninterrupted run, timed: the kills are spaced as fractions of it, so that they
  // land mid-run on a fast machine and a slow one (a sanitizer build) alike.
  const auto calm_start = std::chrono::steady_clock::now();
  REQUIRE(run_to_end({calm, root, "run"}) == 0);
  const auto calm_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - calm_start)
                           .count();

  const unsigned seed = std::random_device{}();
  INFO("seed " << seed << ", uninterrupted run " << calm_ms << " ms");
  std::mt19937 random(seed);
  // Twelve kills at most, each at most a twelfth of an uninterrupted run: together they
  // cannot give a run the time it needs to finish (checked below), and each killed run
  // also loses the batch it had not committed.
  const int longest = std::max<int>(4, static_cast<int>(calm_ms / 12));
  std::uniform_int_distribution<int> delay_ms(std::max(2, longest / 4), longest);
  int kills = 0;
  bool finished = false;
  while (!finished && kills < 12) {
    const pid_t pid = spawn({killed, root, "run"});
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) {
      ++kills;
    } else {
      REQUIRE(WIFEXITED(status));
      REQUIRE(WEXITSTATUS(status) == 0);
      finished = true;
    }
  }
  CHECK(kills >= 10);
  // Work was still left when the kills ended, so they landed mid-run.
  CHECK(scalar(killed, "SELECT count(*) FROM instances WHERE status != 'completed'") > 0);
  REQUIRE(run_to_end({killed, root, "run"}) == 0);

  // Each demo instance and the child instance it started, each child SR closed once.
  CHECK(scalar(killed, "SELECT count(*) FROM instances WHERE status = 'completed'") ==
        2 * kInstances);
  CHECK(scalar(killed, "SELECT count(*) FROM service_requests") == 2 * kInstances);
  CHECK(scalar(killed,
               "SELECT count(*) FROM service_requests WHERE status = 'Closed' AND "
               "reason = 'crash test child'") == kInstances);
  CHECK(scalar(killed, "SELECT count(*) FROM sr_notes WHERE body LIKE 'child SR % Complete'") ==
        kInstances);
  CHECK(scalar(killed, "SELECT count(*) FROM sr_notes") == 4 * kInstances);
  CHECK(scalar(killed, "SELECT count(*) FROM incidents") == 0);
  CHECK(scalar(killed, "SELECT count(*) FROM payments WHERE returned_on IS NOT NULL") ==
        kInstances);
  // 3,000 + 3 x id owed, 4,200 paid of which 700 came back: 3,500 paid of every casegroup.
  CHECK(scalar(killed,
               "SELECT count(*) FROM (SELECT p.account_id, sum(a.amount) AS s "
               "FROM allocations a JOIN payments p ON p.id = a.payment_id "
               "WHERE a.deallocated_on IS NULL GROUP BY p.account_id) WHERE s = 3500") ==
        kInstances);
  const std::string a = dump(calm);
  const std::string b = dump(killed);
  CHECK(a.size() == b.size());
  CHECK(a == b);
  // The audit's hash chain (audit_sets above) is the same, and whole.
  Database db(killed, OpenMode::existing);
  const auto chain = verify_audit(db);
  CHECK(chain.problem.empty());
  CHECK(chain.sets > kInstances);
}
