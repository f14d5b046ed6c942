// Procedures through the casekit binary: separate processes (so replay meets a different
// string-hash seed each time), work items, payments, incidents, and serve on real time.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

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
