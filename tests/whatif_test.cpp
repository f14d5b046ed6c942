// casekit whatif: a changed procedure or module run on a copy of the caseload beside the
// current files, the caseload itself untouched.
#include <catch2/catch.hpp>

#include "engine/whatif/whatif.hpp"
#include "tests/durable_support.hpp"

using namespace casekit;
using namespace casekit::test;
using namespace std::chrono_literals;

namespace {

// Waits two days, then raises an SR of the type its module names. The changed version
// below records a command before the wait for kind "b" only, so a kind "b" instance
// already waiting cannot replay on it.
constexpr const char* kChase = R"lua(
local chaser = require "chaser"
return procedure{name = "chase", run = function(ctx)
  wait{days = 2}
  local s = sr.create{casegroup = ctx.casegroup, process = "Arrears",
                      area = "Arrears Management", sub_area = chaser.sub_area}
  return s.id
end}
)lua";

constexpr const char* kChaseChanged = R"lua(
local chaser = require "chaser"
return procedure{name = "chase", run = function(ctx)
  if ctx.params.kind == "b" then clock.now() end
  wait{days = 2}
  local s = sr.create{casegroup = ctx.casegroup, process = "Arrears",
                      area = "Arrears Management", sub_area = "Arrears Review"}
  return s.id
end}
)lua";

std::string chaser(const std::string& sub_area) {
  return "return { sub_area = '" + sub_area + "' }\n";
}

// Three casegroups, each with a chase waiting: kinds a, b, a.
struct Caseload {
  Caseload() {
    write_file(d.engine.home.procedures() / "lib" / "chaser.lua", chaser("Action Missed Payment"));
    d.procedure("chase", kChase);
    for (const char* kind : {"a", "b", "a"}) {
      const auto f = d.family("CSA-000000" + std::to_string(casegroups.size() + 1));
      casegroups.push_back(f.casegroup);
      instances.push_back(d.runtime.start("chase", f.casegroup, {{"kind", kind}}, "op"));
    }
  }
  // A changed file, outside the home.
  std::filesystem::path changed(const std::string& name, const std::string& text) {
    const auto file = d.dir.path() / name;
    write_file(file, text);
    return file;
  }
  // The changed chase tried for five days.
  WhatIfOptions changed_chase() {
    WhatIfOptions options;
    options.procedure = "chase";
    options.source = changed("chase.lua", kChaseChanged);
    options.days = 5;
    return options;
  }
  // What the caseload holds, to show a what-if left it as it was.
  std::string state() {
    return d.dump("instances") + d.dump("service_requests") + d.dump("libraries") +
           format_instant(d.clock.now());
  }
  const WhatIfCount* count(const WhatIfReport& r, const std::string& measure,
                           const std::string& key) {
    for (const auto& c : r.counts) {
      if (c.measure == measure && c.key == key) return &c;
    }
    return nullptr;
  }

  DurableEngine d;
  std::vector<Id> casegroups;
  std::vector<Id> instances;
};

using Amounts = std::pair<std::int64_t, std::int64_t>;  // current, changed

// A measure's amounts on the two sides; {0, 0} when neither run made any.
Amounts amounts(const WhatIfReport& r, const std::string& measure, const std::string& key) {
  for (const auto& c : r.counts) {
    if (c.measure == measure && c.key == key) return {c.current, c.changed};
  }
  return {0, 0};
}

// A procedure of `source`, and options to try `changed` on it for three days.
struct Trial {
  Trial(const std::string& name, const std::string& source, const std::string& changed) {
    d.procedure(name, source);
    const auto file = d.dir.path() / (name + "_changed.lua");
    write_file(file, changed);
    options.procedure = name;
    options.source = file;
    options.days = 3;
  }
  // Starts the procedure on a casegroup of its own; the casegroup's family.
  Family start(
      const std::string& csa_ref,
      const std::function<std::map<std::string, std::string>(const Family&)>& params = nullptr) {
    const Family f = d.family(csa_ref);
    d.runtime.start(options.procedure, f.casegroup, params ? params(f) : decltype(params(f)){},
                    "op");
    return f;
  }
  WhatIfReport run() { return run_whatif(d.engine, options); }

  DurableEngine d;
  WhatIfOptions options;
};

}  // namespace

TEST_CASE("whatif runs the changed procedure beside the current one and touches nothing") {
  Caseload c;
  const std::string before = c.state();
  WhatIfOptions options = c.changed_chase();
  options.casegroup = c.casegroups[0];
  const WhatIfReport r = run_whatif(c.d.engine, options);
  CHECK(r.running == 3);
  CHECK(r.from == "2026-11-20T09:00:00Z");
  CHECK(r.until == "2026-11-25T09:00:00Z");
  // The kind "b" instance cannot replay on the change: it stays on its source.
  REQUIRE(r.diverging.size() == 1);
  CHECK(r.diverging[0].instance == c.instances[1]);
  CHECK(r.diverging[0].casegroup == c.casegroups[1]);
  CHECK_THAT(r.diverging[0].message, Catch::Contains("clock.now"));
  CHECK(r.diverging_already.empty());
  // Current files: three Action Missed Payment SRs. Changed: the two that moved raise an
  // Arrears Review instead; the one that stayed raises what it always would.
  const auto* missed = c.count(r, "SRs raised", "Arrears Management / Action Missed Payment");
  const auto* review = c.count(r, "SRs raised", "Arrears Management / Arrears Review");
  REQUIRE(missed);
  REQUIRE(review);
  CHECK(missed->current == 3);
  CHECK(missed->changed == 1);
  CHECK(missed->examples == std::vector<Id>{c.casegroups[0], c.casegroups[2]});
  CHECK(review->current == 0);
  CHECK(review->changed == 2);
  CHECK(review->examples == std::vector<Id>{c.casegroups[0], c.casegroups[2]});
  // The drill-down: what each run changed on the first casegroup, past the snapshot.
  const auto raised = [](const nlohmann::json& timeline) {
    std::vector<std::string> out;
    for (const auto& change : timeline["changes"]) {
      if (change["entity"] == "service_requests" && change["action"] == "insert") {
        out.push_back(change["after"]["sub_area"]);
      }
    }
    return out;
  };
  CHECK(raised(r.current_timeline) == std::vector<std::string>{"Action Missed Payment"});
  CHECK(raised(r.changed_timeline) == std::vector<std::string>{"Arrears Review"});
  // The caseload is as it was: its instances wait on their pins, no SR was raised, the
  // clock has not moved.
  CHECK(c.state() == before);
}

TEST_CASE("whatif tries a changed library module") {
  Caseload c;
  WhatIfOptions options;
  options.procedure = "chase";
  options.modules.emplace("chaser.lua", c.changed("chaser.lua", chaser("Arrears Trigger")));
  options.days = 5;
  options.examples = 1;
  const WhatIfReport r = run_whatif(c.d.engine, options);
  // Every instance replays on the module (it is read after the wait), so all three move.
  CHECK(r.diverging.empty());
  const auto* trigger = c.count(r, "SRs raised", "Arrears Management / Arrears Trigger");
  REQUIRE(trigger);
  CHECK(trigger->current == 0);
  CHECK(trigger->changed == 3);
  CHECK(trigger->examples == std::vector<Id>{c.casegroups[0]});
  const auto json = to_json(r);
  CHECK(json["counts"][0]["difference"] == -3);
  CHECK(json["counts"][0]["measure"] == "SRs raised");
}

TEST_CASE("whatif refuses bad input before copying anything") {
  Caseload c;
  const std::string before = c.state();
  WhatIfOptions options;
  options.procedure = "chase";
  CHECK_THROWS_WITH(run_whatif(c.d.engine, options), Catch::Contains("nothing to try"));
  options.source = c.d.dir.path() / "missing.lua";
  CHECK_THROWS_WITH(run_whatif(c.d.engine, options), Catch::Contains("script not found"));
  options.source.reset();
  options.modules.emplace("../chase.lua", c.changed("x.lua", "return {}"));
  CHECK_THROWS_WITH(run_whatif(c.d.engine, options), Catch::Contains("is not a library module"));
  options.modules.clear();
  options.source = c.changed("broken.lua", "return procedure{name = 'chase', run = function(");
  CHECK_THROWS_WITH(run_whatif(c.d.engine, options), Catch::Contains("broken.lua"));
  options.source.reset();
  options.modules.emplace("chaser.lua", c.changed("chaser2.lua", "return {"));
  CHECK_THROWS_WITH(run_whatif(c.d.engine, options), Catch::Contains("chaser2.lua"));
  options.modules.clear();
  options.source = c.changed("chase.lua", kChaseChanged);
  options.procedure = "nothere";
  CHECK_THROWS_WITH(run_whatif(c.d.engine, options), Catch::Contains("no procedure 'nothere'"));
  options.procedure = "../chase";
  CHECK_THROWS_WITH(run_whatif(c.d.engine, options), Catch::Contains("bad procedure name"));
  options.procedure = "chase";
  options.days = 0;
  CHECK_THROWS_WITH(run_whatif(c.d.engine, options), Catch::Contains("--days"));
  options.days = 5;
  options.casegroup = 999;
  CHECK_THROWS_WITH(run_whatif(c.d.engine, options), Catch::Contains("999"));
  CHECK(c.state() == before);
}

TEST_CASE("whatif answers work items as stated, and counts the answers it could not give") {
  // Nobody works the copies: without answers an instance waiting on people stays waiting.
  const std::string asker = R"lua(
return procedure{name = "asker", run = function(ctx)
  local s = sr.create{casegroup = ctx.casegroup, process = "Arrears",
                      area = "Arrears Management", sub_area = "Arrears Review"}
  local r = task.await{inbox = "caseworker", kind = "check", title = "Check", sr = s,
                       outcomes = {"yes", "no"}, fields = {"note"}, required = {yes = {"note"}}}
  s:add_note(r.outcome .. " by " .. r.by)
  return r.outcome
end}
)lua";
  std::string changed = asker;
  changed.replace(changed.find("  return r.outcome"), 0,
                  "  sr.create{casegroup = ctx.casegroup, process = \"Arrears\",\n"
                  "            area = \"Arrears Management\", sub_area = \"Arrears Trigger\"}\n");
  Trial t("asker", asker, changed);
  for (const char* csa : {"CSA-0000001", "CSA-0000002"}) t.start(csa);
  const auto trigger = "Arrears Management / Arrears Trigger";

  const WhatIfReport unanswered = t.run();
  CHECK(amounts(unanswered, "SRs raised", trigger) == Amounts{0, 0});

  t.options.answers = {{"check", "yes", {{"note", "checked"}}}};
  const WhatIfReport answered = t.run();
  CHECK(amounts(answered, "work items answered", "check: yes") == Amounts{2, 2});
  CHECK(amounts(answered, "SRs raised", trigger) == Amounts{0, 2});

  // An answer the item refuses (a required field missing) completes nothing, and says why.
  t.options.answers = {{"check", "yes", {}}};
  const WhatIfReport refused = t.run();
  CHECK(amounts(refused, "SRs raised", trigger) == Amounts{0, 0});
  bool said = false;
  for (const auto& c : refused.counts) {
    if (c.measure != "work items not answered") continue;
    CHECK_THAT(c.key, Catch::StartsWith("check: ") && Catch::Contains("note"));
    said = c.current > 0 && c.changed > 0;
  }
  CHECK(said);
  // The caseload's own items are still open.
  CHECK(t.d.count("SELECT count(*) FROM work_items WHERE status = 'open'") == 2);
  CHECK(t.d.count("SELECT count(*) FROM users WHERE name LIKE 'whatif-%'") == 0);
}

TEST_CASE("whatif --casegroups moves and counts only the casegroups asked for") {
  Caseload c;
  WhatIfOptions options = c.changed_chase();
  options.casegroups = parse_casegroup_query("csa_ref=CSA-0000003");
  const WhatIfReport r = run_whatif(c.d.engine, options);
  CHECK(r.selected == 1);
  CHECK(r.running == 1);
  // The kind "b" instance of casegroup 2 is not tried: it is not among them.
  CHECK(r.diverging.empty());
  const auto* missed = c.count(r, "SRs raised", "Arrears Management / Action Missed Payment");
  const auto* review = c.count(r, "SRs raised", "Arrears Management / Arrears Review");
  REQUIRE(missed);
  REQUIRE(review);
  CHECK(missed->current == 1);
  CHECK(missed->changed == 0);
  CHECK(review->changed == 1);
  CHECK(review->examples == std::vector<Id>{c.casegroups[2]});

  options.casegroups = parse_casegroup_query("csa_ref=CSA-0000002");
  const WhatIfReport b = run_whatif(c.d.engine, options);
  REQUIRE(b.diverging.size() == 1);
  CHECK(b.diverging[0].casegroup == c.casegroups[1]);
  // A casegroup with no instance of the procedure: nothing moves, nothing differs.
  options.casegroups = parse_casegroup_query("segment=Enforcement");
  const WhatIfReport none = run_whatif(c.d.engine, options);
  CHECK(none.selected == 0);
  CHECK(none.running == 0);
  CHECK(none.counts.empty());

  CHECK_THROWS_WITH(parse_casegroup_query("segment"), Catch::Contains("not KEY=VALUE"));
  CHECK_THROWS_WITH(parse_casegroup_query("colour=red"), Catch::Contains("unknown key 'colour'"));
  CHECK_THROWS_WITH(parse_casegroup_query("flag=a,flag=b"), Catch::Contains("given twice"));
  CHECK_THROWS_WITH(parse_casegroup_query(""), Catch::Contains("not KEY=VALUE"));
  // A value the casegroup search refuses is its error, before anything is copied.
  options.casegroups = parse_casegroup_query("segment=nowhere");
  CHECK_THROWS_WITH(run_whatif(c.d.engine, options), Catch::Contains("segment"));
}

TEST_CASE("whatif runs both sides with the external systems' stated refusals") {
  // Searches the CRA a day after starting; the change handles a refusal differently.
  const std::string credit = R"lua(
return procedure{name = "credit", run = function(ctx)
  wait{days = 1}
  local r = cra.search(tonumber(ctx.params.client))
  sr.create{casegroup = ctx.casegroup, process = "Arrears", area = "Arrears Management",
            sub_area = r.ok and "Arrears Review" or "Arrears Trigger"}
end}
)lua";
  std::string changed = credit;
  changed.replace(changed.find("\"Arrears Trigger\""), 17, "\"Action Missed Payment\"");
  Trial t("credit", credit, changed);
  const Family f = t.start("CSA-0000001", [](const Family& f) {
    return std::map<std::string, std::string>{{"client", std::to_string(f.paying_parent)}};
  });
  const auto raised = [](const WhatIfReport& r, const std::string& sub_area) {
    return amounts(r, "SRs raised", "Arrears Management / " + sub_area);
  };
  // The CRA answers from the copy's records: the parent's address is confirmed.
  const WhatIfReport answering = t.run();
  CHECK(raised(answering, "Arrears Review") == Amounts{1, 1});

  t.options.refusals = {{"cra.search", "CRA down"}};
  const WhatIfReport refusing = t.run();
  CHECK(raised(refusing, "Arrears Review") == Amounts{0, 0});
  CHECK(raised(refusing, "Arrears Trigger") == Amounts{1, 0});
  CHECK(raised(refusing, "Action Missed Payment") == Amounts{0, 1});
  // The live engine's adapter is its own again.
  CHECK(t.d.engine.cra.search(f.paying_parent).ok);

  t.options.refusals = {{"cra.lookup", "x"}};
  CHECK_THROWS_WITH(t.run(), Catch::Contains("'cra.lookup' is not an operation") &&
                                 Catch::Contains("bancs.reverse_write_off"));
}

TEST_CASE("whatif turns work items into staff hours by the inbox catalogue's minutes") {
  const std::string asker = R"lua(
return procedure{name = "asker", run = function(ctx)
  local s = sr.create{casegroup = ctx.casegroup, process = "Arrears",
                      area = "Arrears Management", sub_area = "Arrears Review"}
  wait{days = 1}
  task.await{inbox = "caseworker", kind = "check", title = "Check", sr = s, outcomes = {"yes"}}
end}
)lua";
  std::string changed = asker;
  changed.replace(changed.find("  task.await"), 0,
                  "  task.await{inbox = \"team_leader\", kind = \"approve\", title = \"Approve\","
                  " sr = s, outcomes = {\"yes\"}}\n");
  Trial t("asker", asker, changed);
  for (const char* csa : {"CSA-0000001", "CSA-0000002"}) t.start(csa);
  const WhatIfReport r = t.run();
  const auto minutes = [&](const std::string& inbox) {
    return *t.d.engine.inboxes.require(inbox).minutes_per_item;
  };
  // Current: each casegroup's check. Changed: each waits on a team leader's approval first.
  CHECK(amounts(r, "staff minutes", "caseworker") == Amounts{2 * minutes("caseworker"), 0});
  CHECK(amounts(r, "staff minutes", "team_leader") == Amounts{0, 2 * minutes("team_leader")});
}
