// The casekit binary end to end: exit codes, JSON shapes, and bad input leaving the
// database as it was.
#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "engine/domain/accounts.hpp"
#include "engine/store/schema.hpp"
#include "tests/cli_support.hpp"

using casekit::test::Cli;
using casekit::test::Result;
using casekit::test::slurp;
using casekit::test::TempDir;

namespace {

int lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

TEST_CASE("cli: init makes a database once, and --force replaces it") {
  Cli cli;
  const Result first = cli.run("init");
  CHECK(first.status == 0);
  CHECK_THAT(first.out, Catch::Contains("initialised casekit.db (schema version " +
                                        std::to_string(casekit::latest_schema_version())));
  const Result again = cli.run("init");
  CHECK(again.status == 1);
  CHECK(again.err == "casekit: casekit.db already exists; use --force to replace it\n");
  CHECK(cli.run("init --force --simulated-clock 2026-11-20").status == 0);
  CHECK(cli.run("exec scripts/demo_seed.lua").status == 0);
  // A failed re-init leaves the existing database and its data alone.
  CHECK(cli.run("init --force --simulated-clock 2026-13-20").status == 1);
  CHECK(cli.run("--home /nonexistent init --force").status == 1);
  CHECK(cli.json("casegroup list --json").size() == 5);
  CHECK_FALSE(std::filesystem::exists(cli.db().string() + ".new"));
}

TEST_CASE("cli: casegroup show --json has segment, flags, cases and dues in pence") {
  Cli cli;
  cli.seeded();
  const auto j = cli.json("casegroup show --csa-ref CSA-1004 --json");
  CHECK(j["segment"] == "Arrears Only Categorised");
  CHECK(j["region"] == "Scotland");
  CHECK(j["flags"]["transition_complete"] == false);
  CHECK(j["cases"].size() == 1);
  CHECK(j["cases"][0]["receiving_parent"]["name"] == "Fiona Campbell");
  REQUIRE(j["dues"].size() == 2);
  CHECK(j["dues"][0]["owed_to"] == "RP");
  CHECK(j["dues"][0]["state"] == "active");
  CHECK(j["dues"][0]["amount"].is_number_integer());
  CHECK(j["dues"][0]["amount"] == 84250);
  CHECK(j["dues"][1]["owed_to"] == "SOS_GB");
  CHECK(j["dues"][1]["state"] == "deferred");
  CHECK(j["dues"][1]["amount"] == 12000);
  const auto by_id = cli.json("casegroup show 3 --json");
  CHECK(by_id["csa_ref"] == "CSA-1003");
  CHECK(by_id["flags"]["disable_missed_payment_monitor"] == true);
}

TEST_CASE("cli: the monitor raises one SR per missed casegroup, once, and letters fulfil once") {
  Cli cli;
  cli.seeded();
  const Result run1 = cli.run("exec scripts/missed_payment_monitor.lua");
  INFO(run1.err);
  REQUIRE(run1.status == 0);
  CHECK_THAT(run1.out, Catch::Contains("3 schedules checked, 2 SRs raised, 3 letters queued"));
  {
    // An operator script's changes are audited as made by the line that called the
    // binding (here in the collections module it shares with the procedures), not only by
    // the command that ran the script.
    casekit::Database db(cli.db(), casekit::OpenMode::existing);
    auto st = db.prepare(
        "SELECT why, count(*) FROM audit WHERE entity = 'service_requests' AND action = "
        "'insert' GROUP BY why");
    REQUIRE(st.step());
    CHECK_THAT(st.text(0), Catch::Matches("procedures/lib/collections\\.lua:[0-9]+ sr\\.create"));
    CHECK(st.integer(1) == 2);
    CHECK_FALSE(st.step());
  }
  const Result run2 = cli.run("exec scripts/missed_payment_monitor.lua");
  CHECK_THAT(run2.out, Catch::Contains("0 SRs raised"));
  const auto srs = cli.json("sr list --json");
  REQUIRE(srs.size() == 2);
  CHECK(srs[0]["casegroup_id"] == 1);
  CHECK(srs[0]["sub_area"] == "Action Missed Payment");
  CHECK(srs[1]["casegroup_id"] == 5);
  const auto sr = cli.json("sr show 2 --json");
  CHECK(sr["fields"]["shortfall"] == "3500");
  CHECK(sr["steps"].size() == 5);  // arrears_negotiation's activity plan, started by the monitor
  CHECK(sr["status"] == "In Progress");
  CHECK_THAT(sr["notes"][0]["text"].get<std::string>(), Catch::Contains("paid £115.00 of £150.00"));
  CHECK(cli.json("letters list --status queued --json").size() == 3);
  const auto fulfil = cli.json("letters fulfil --outbox out --json");
  CHECK(fulfil["fulfilled"] == 3);
  CHECK(cli.json("letters fulfil --outbox out --json")["fulfilled"] == 0);
  const auto letter = cli.json("letters show 1 --json");
  CHECK(letter["status"] == "fulfilled");
  CHECK(slurp(cli.dir.path() / "out" / "1-CMSL6000.txt") == letter["body"]);
  CHECK(cli.json("casegroup list --json").size() == 5);
  CHECK(cli.json("casegroup list --segment Arrears --json").size() == 2);
  // The search's other criteria, as GET /api/v1/casegroups has them.
  const auto one = [&](const std::string& criteria) {
    const auto found = cli.json("casegroup list " + criteria + " --json");
    return found.size() == 1 ? found[0]["csa_ref"].get<std::string>() : std::string("-");
  };
  CHECK(one("--csa-ref CSA-1002") == "CSA-1002");
  CHECK(one("--nino JK193847B") == "CSA-1001");  // a receiving parent's
  CHECK(one("--name ellis") == "CSA-1003");
  CHECK(one("--name mark --segment Enforcement") == "CSA-1003");
  CHECK(cli.json("casegroup list --name nobody --json").empty());
  CHECK(cli.run("casegroup list --review-due-by 2026-13-01").status == 1);
}

TEST_CASE("cli: a wrong id is one line on stderr and exit 1") {
  Cli cli;
  cli.seeded();
  for (const char* args :
       {"casegroup show 999", "sr show 42", "letters show 7", "casegroup show --csa-ref NOPE"}) {
    const Result r = cli.run(args);
    INFO(args);
    CHECK(r.status == 1);
    CHECK(lines(r.err) == 1);
    CHECK_THAT(r.err, Catch::StartsWith("casekit: no "));
  }
}

TEST_CASE("cli: user set changes a role or team, checked as user add checks them") {
  Cli cli;
  REQUIRE(cli.run("init --simulated-clock 2026-11-20T07:00:00Z").status == 0);
  REQUIRE(cli.run("user add tom --role caseworker --team Arrears").status == 0);
  CHECK(cli.run("user set tom --role team_leader").out == "user tom: team_leader, team Arrears\n");
  CHECK(cli.run("user set tom --team Enforcement").out ==
        "user tom: team_leader, team Enforcement\n");
  CHECK(cli.run("user set tom --no-team").out == "user tom: team_leader, no team\n");
  CHECK_THAT(cli.run("user set tom --role king").err, Catch::Contains("unknown role 'king'"));
  CHECK_THAT(cli.run("user set tom --team Nowhere").err, Catch::Contains("unknown team"));
  CHECK(cli.run("user set tom").status != 0);
  CHECK(cli.run("user set ghost --role caseworker").status != 0);
  const auto users = cli.json("user list --json");
  REQUIRE(users.size() == 1);
  CHECK(users[0]["role"] == "team_leader");
  CHECK(users[0]["team"].is_null());
  // The audit says which command made each change (its words, not its arguments).
  casekit::Database db(cli.db(), casekit::OpenMode::existing);
  auto st = db.prepare(
      "SELECT why, count(*) FROM audit WHERE entity = 'users' GROUP BY why ORDER BY why");
  std::string whys;
  while (st.step()) whys += st.text(0) + " " + st.text(1) + "\n";
  CHECK(whys == "casekit user add 1\ncasekit user set 3\n");
}

TEST_CASE("cli: user metrics-token prints a token once, keeps only its hash, and revokes") {
  Cli cli;
  REQUIRE(cli.run("init").status == 0);
  const Result first = cli.run("user metrics-token");
  REQUIRE(first.status == 0);
  const std::string token = first.out.substr(0, first.out.size() - 1);
  CHECK(std::regex_match(first.out, std::regex("[0-9a-f]{64}\n")));
  const auto stored = [&cli] {
    casekit::Database db(cli.db(), casekit::OpenMode::existing);
    auto st = db.prepare("SELECT value FROM settings WHERE key = 'metrics_token_hash'");
    return st.step() ? st.text(0) : std::string();
  };
  const std::string first_hash = stored();
  CHECK(!first_hash.empty());
  CHECK(first_hash != token);  // the hash, never the token
  const Result second = cli.run("user metrics-token");
  CHECK(second.out != first.out);
  const std::string second_token = second.out.substr(0, second.out.size() - 1);
  const std::string second_hash = stored();
  {
    casekit::Database db(cli.db(), casekit::OpenMode::existing);
    const casekit::SystemClock clock;
    casekit::Users users(db, clock, {});
    // A new token replaces the last.
    casekit::Accounts accounts(db, clock, users);
    CHECK_FALSE(accounts.metrics_token_matches(token));
    CHECK(accounts.metrics_token_matches(second_token));
  }
  CHECK(cli.run("user metrics-token --revoke").out == "metrics token revoked\n");
  CHECK(stored().empty());
  // The audit says when each token was made and when it ended, never the token or its hash.
  casekit::Database db(cli.db(), casekit::OpenMode::existing);
  auto st = db.prepare(
      "SELECT action, entity_id, coalesce(after, '') || ' ' || coalesce(before, ''), why "
      "FROM audit WHERE entity = 'metrics_tokens' ORDER BY id");
  std::vector<std::string> trail;
  while (st.step()) {
    trail.push_back(st.text(0) + " " + st.text(1) + " " + st.text(3));
    for (const std::string& secret : {token, first_hash, second_token, second_hash}) {
      CHECK(st.text(2).find(secret) == std::string::npos);
    }
  }
  CHECK(trail == std::vector<std::string>{
                     "insert 1 casekit user metrics-token", "update 1 casekit user metrics-token",
                     "insert 2 casekit user metrics-token", "update 2 casekit user metrics-token"});
}

TEST_CASE("cli: usage errors exit 2") {
  Cli cli;
  cli.seeded();
  for (const char* args :
       {"", "casegroup", "casegroup frob", "casegroup show", "casegroup show 1 --csa-ref X",
        "--log-level loud sr list", "sr list --limit 0", "exec"}) {
    INFO(args);
    CHECK(cli.run(args).status == 2);
  }
  CHECK(cli.run("--help").status == 0);
}

TEST_CASE("cli: a missing or corrupt database is reported and left alone") {
  Cli cli;
  const Result missing = cli.run("casegroup list");
  CHECK(missing.status == 1);
  CHECK_THAT(missing.err,
             Catch::Contains("no database at casekit.db (create one with: casekit init)"));
  CHECK_FALSE(std::filesystem::exists(cli.db()));
  {
    std::ofstream out(cli.db(), std::ios::binary);
    out << std::string(4096, '\x42');
  }
  const Result corrupt = cli.run("casegroup list");
  CHECK(corrupt.status == 1);
  CHECK(lines(corrupt.err) == 1);
  CHECK_THAT(corrupt.err, Catch::Contains("corrupt or not a casekit database"));
  CHECK(slurp(cli.db()) == std::string(4096, '\x42'));
}

TEST_CASE("cli: payment allocate by hand on an account held for manual allocation") {
  Cli cli;
  cli.seeded();
  cli.write("hold.lua", "case.find{csa_ref = 'CSA-1003'}:set_flag('manual_allocation')\n");
  REQUIRE(cli.run("exec hold.lua").status == 0);
  const auto shown = cli.json("casegroup show --csa-ref CSA-1003 --json");
  const std::string account = std::to_string(shown["account"]["id"].get<int>());
  const std::string due = std::to_string(shown["dues"][0]["id"].get<int>());
  const Result paid =
      cli.run("payment record --account " + account + " --amount 4000 --date 2026-11-20");
  CHECK_THAT(paid.out, Catch::Contains("£0.00 allocated to dues"));
  const auto payments = cli.json("payment list --account " + account + " --json");
  CHECK(payments["credit"] == 4000);
  const std::string payment = std::to_string(payments["payments"].back()["id"].get<int>());
  const std::string allocate = "payment allocate --payment " + payment + " --due " + due;

  REQUIRE(cli.run("user add anna --role caseworker --team Enforcement").status == 0);
  REQUIRE(cli.run("user add olly --role operator").status == 0);
  const auto before = cli.json("payment list --account " + account + " --json");
  CHECK(cli.run(allocate + " --amount 1500").status == 2);  // who is asking?
  CHECK_THAT(cli.run(allocate + " --amount 1500 --as nobody").err, Catch::Contains("nobody"));
  CHECK_THAT(cli.run(allocate + " --amount 1500 --as olly").err,
             Catch::Contains("may not allocate payments"));
  CHECK_THAT(cli.run(allocate + " --amount 4001 --as anna").err,
             Catch::Contains("has £40.00 unallocated"));
  CHECK(cli.run(allocate + " --charge 1 --amount 1 --as anna").status == 2);
  CHECK(cli.json("payment list --account " + account + " --json") == before);

  const Result done = cli.run(allocate + " --amount 1500 --as anna");
  INFO(done.err);
  CHECK(done.out == "£15.00 of payment " + payment + " allocated to due " + due + " by anna\n");
  CHECK(cli.json("payment list --account " + account + " --json")["credit"] == 2500);
}

TEST_CASE("cli: a failing script changes nothing and names its line") {
  Cli cli;
  cli.seeded();
  cli.write("half.lua",
            "case.create_client{name = 'Half Done', nino = 'ZZ999999Z'}\n"
            "sr.create{process = 'Arrears', area = 'x', sub_area = 'y'}\n");
  const Result r = cli.run("exec half.lua");
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::StartsWith("casekit: half.lua:2: sr.create: unknown SR type"));
  CHECK_THAT(r.err, Catch::Contains("stack traceback:"));
  // The client created on line 1 was rolled back with the rest; the seeded data is intact.
  cli.write("count.lua",
            "print(case.find_client{nino = 'ZZ999999Z'} == nil, "
            "case.find_client{nino = 'JH482913A'} ~= nil, #case.list{})\n");
  CHECK(cli.run("exec count.lua").out == "true\ttrue\t5\n");
  CHECK(cli.run("exec no-such-script.lua").err ==
        "casekit: script not found: no-such-script.lua\n");
}

TEST_CASE("cli: check lints scripts and fails on problems") {
  Cli cli;
  const Result good = cli.run("check scripts/missed_payment_monitor.lua scripts/demo_seed.lua");
  INFO(good.err);
  CHECK(good.status == 0);
  CHECK(good.out == "2 files OK\n");
  cli.write("bad.lua",
            "local s = sr.create{process = 'Arrears', area = 'Arrears Management', "
            "sub_area = 'Tea'}\nletter.send{template = 'XX1', to = 1}\n");
  const Result bad = cli.run("check bad.lua");
  CHECK(bad.status == 1);
  CHECK_THAT(bad.err, Catch::Contains("bad.lua:1: unknown SR type"));
  CHECK_THAT(bad.err, Catch::Contains("bad.lua:2: unknown letter template 'XX1'"));
  const auto j = nlohmann::json::parse(cli.run("check bad.lua --json").out);
  CHECK(j.size() == 2);
  CHECK(j[0]["line"] == 1);
}

TEST_CASE("cli: a database locked by another writer fails cleanly") {
  Cli cli;
  cli.seeded();
  casekit::Database holder(cli.db(), casekit::OpenMode::existing);
  casekit::Transaction hold(holder);
  const Result r = cli.run("exec scripts/missed_payment_monitor.lua");
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::Contains("database is locked"));
}

TEST_CASE("cli: schedule next prints UTC instants, one per line, and names a bad field") {
  Cli cli;
  const Result r = cli.run("schedule next '30 1 * * *' --after 2026-03-28T12:00:00Z --count 3");
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(r.out == "2026-03-29T01:00:00Z\n2026-03-30T00:30:00Z\n2026-03-31T00:30:00Z\n");
  CHECK(cli.run("schedule next '0 9 * * *' --tz America/New_York --after 2026-11-20T00:00:00Z "
                "--count 1")
            .out == "2026-11-20T14:00:00Z\n");
  CHECK(lines(cli.run("schedule next '*/5 * * * *'").out) == 5);  // default: after now
  const Result bad = cli.run("schedule next '0 25 * * *'");
  CHECK(bad.status == 1);
  CHECK(bad.err == "casekit: hour field '25': 25 is out of range (0-23)\n");
  CHECK(cli.run("schedule next '0 0 * * *' --tz Nowhere/Land").err ==
        "casekit: unknown time zone 'Nowhere/Land' (use an IANA name such as Europe/London)\n");
  CHECK(cli.run("schedule next '0 0 30 2 *'").status == 1);
  CHECK(lines(cli.run("schedule next '0 0 29 2 *' --count 10").out) == 10);  // 40 years
  const Result short_of =
      cli.run("schedule next '0 0 29 2 *' --after 9990-01-01T00:00:00Z --count 8");
  CHECK(short_of.status == 1);
  CHECK(short_of.out == "9992-02-29T00:00:00Z\n9996-02-29T00:00:00Z\n");
  CHECK(short_of.err == "casekit: '0 0 29 2 *' fires only 2 times before the year 10000, not 8\n");
  CHECK(cli.run("schedule next '0 0 * * *' --count 0").status == 2);
}

TEST_CASE("cli: schedules list, pause, resume, run, and the clock advances through them") {
  Cli cli;
  cli.seeded();
  auto list = cli.json("schedule list --json");
  REQUIRE(list.size() == 4);
  CHECK(list[0]["name"] == "missed-payment-monitor");
  CHECK(list[0]["next"] == "2026-11-21T06:00:00Z");
  CHECK(list[1]["name"] == "transition-exceptions");
  CHECK(list[1]["next"] == "2026-11-20T18:00:00Z");
  CHECK(list[2]["name"] == "review-date-monitor");
  CHECK(list[2]["next"] == "2026-11-21T06:30:00Z");
  CHECK(list[3]["name"] == "lo-paid-off-monitor");
  CHECK(list[3]["next"] == "2026-11-21T06:45:00Z");
  CHECK(cli.run("clock show").out == "2026-11-20T07:00:00Z (simulated)\n");

  const Result advanced = cli.run("clock advance 2d");
  INFO(advanced.err);
  CHECK(advanced.status == 0);
  CHECK_THAT(advanced.out, Catch::Contains("2 SRs raised"));
  // The two SRs the monitor raised each start arrears negotiation: two activations.
  CHECK_THAT(advanced.out,
             Catch::EndsWith(
                 "clock now 2026-11-22T07:00:00Z (8 runs, 0 failed; 2 instance activations)\n"));
  auto runs = cli.json("runs list --json");
  REQUIRE(runs.size() == 8);
  CHECK(runs[0]["scheduled_for"] == "2026-11-22T06:45:00Z");
  CHECK(runs[0]["status"] == "succeeded");
  CHECK(cli.json("sr list --json").size() == 2);

  CHECK(cli.run("schedule pause missed-payment-monitor").status == 0);
  CHECK(cli.json("schedule list --json")[0]["next"].is_null());
  CHECK(cli.run("schedule pause transition-exceptions").status == 0);
  CHECK(cli.run("schedule pause review-date-monitor").status == 0);
  CHECK(cli.run("schedule pause lo-paid-off-monitor").status == 0);
  CHECK_THAT(cli.run("clock advance 1d").out, Catch::Contains("(0 runs, 0 failed;"));
  CHECK(cli.run("schedule resume missed-payment-monitor").status == 0);
  const Result manual = cli.run("schedule run missed-payment-monitor");
  CHECK(manual.status == 0);
  CHECK_THAT(manual.out, Catch::EndsWith("run 9 succeeded\n"));
  CHECK(cli.json("runs list --schedule missed-payment-monitor --json")[0]["trigger"] == "manual");

  CHECK(cli.run("schedule pause nothing-here").err ==
        "casekit: no schedule named 'nothing-here'\n");
  CHECK(cli.run("clock advance 3 days").status == 2);
  CHECK(cli.run("clock advance 3y").err ==
        "casekit: not a duration unit: 'y' in '3y' (w, d, h, m or s)\n");
  CHECK(cli.run("init --force").status == 0);
  CHECK_THAT(cli.run("clock advance 1d").err, Catch::Contains("runs on real time"));
}

TEST_CASE("cli: exceptions report lists a day's entries with csa_ref and reason") {
  Cli cli;
  REQUIRE(cli.run("init --simulated-clock 2026-11-20T07:00:00Z").status == 0);
  {
    casekit::SimulatedClock clock(casekit::parse_instant("2026-11-20T07:00:00Z"));
    casekit::Database db(cli.db(), casekit::OpenMode::existing);
    db.set_clock(&clock);
    const auto record = [&db](std::optional<std::string> ref, const char* reason) {
      db.prepare(
            "INSERT INTO exceptions(report_date, csa_ref, reason, created_at) "
            "VALUES ('2026-11-20', ?1, ?2, '2026-11-20T07:00:00Z')")
          .bind_all(ref, reason)
          .run();
    };
    record("CSA-0000007", "missing NINO for the paying parent");
    record(std::nullopt, "line 9: not valid JSON");
  }
  const auto today = cli.json("exceptions report --json");
  REQUIRE(today.size() == 2);
  CHECK(today[0]["csa_ref"] == "CSA-0000007");
  CHECK(today[0]["reason"] == "missing NINO for the paying parent");
  CHECK(today[1]["csa_ref"].is_null());
  CHECK(cli.run("exceptions report")
            .out.rfind("exceptions report 2026-11-20: 2 casegroups not transitioned\n", 0) == 0);
  CHECK(cli.json("exceptions report --date 2026-11-19 --json").empty());
  CHECK(cli.run("exceptions report --date 19/11/2026").err ==
        "casekit: --date: expected YYYY-MM-DD, got '19/11/2026'\n");

  // A team leader gives one to a caseworker in their team; anyone else may not.
  REQUIRE(cli.run("user add tina --role team_leader --team Arrears").status == 0);
  REQUIRE(cli.run("user add carl --role caseworker --team Arrears").status == 0);
  CHECK_THAT(cli.run("exceptions allocate 1 --to carl --as carl").err,
             Catch::Contains("only a team leader"));
  CHECK(cli.run("exceptions allocate 9 --to carl --as tina").status != 0);
  const auto given = cli.json("exceptions allocate 1 --to carl --as tina --json");
  CHECK(given["allocated_to"] == "carl");
  CHECK(given["item_status"] == "open");
  CHECK_THAT(cli.run("exceptions allocate 1 --to carl --as tina").err,
             Catch::Contains("already allocated to carl"));
  CHECK_THAT(cli.run("exceptions report").out, Catch::Contains("carl (work item "));
}

TEST_CASE("cli: dw generate and import dw, with counts as JSON and a re-import of duplicates") {
  Cli cli;
  REQUIRE(cli.run("init --simulated-clock 2026-11-20T07:00:00Z").status == 0);
  const Result gen = cli.run("dw generate --count 120 --seed 5 --bad-ratio 0.1 -o extract.jsonl");
  INFO(gen.err);
  REQUIRE(gen.status == 0);
  CHECK_THAT(gen.err, Catch::StartsWith("wrote 120 rows ("));
  // Standard output gets the same rows; the extract date defaults to the engine's today.
  const Result stdout_gen = cli.run("dw generate --count 120 --seed 5 --bad-ratio 0.1");
  CHECK(stdout_gen.out == slurp(cli.dir.path() / "extract.jsonl"));
  CHECK_THAT(stdout_gen.out, Catch::Contains("\"extract_date\":\"2026-11-20\""));

  const auto first = cli.json("import dw extract.jsonl --json");
  for (const char* key : {"read", "transitioned", "exceptions", "duplicates"}) {
    CHECK(first[key].is_number_integer());
  }
  CHECK(first["read"] == 120);
  CHECK(first["exceptions"].get<int>() > 0);
  CHECK(first["transitioned"].get<int>() + first["exceptions"].get<int>() == 120);
  CHECK(first["duplicates"] == 0);
  const auto report = cli.json("exceptions report --json");
  CHECK(report.size() == first["exceptions"].get<std::size_t>());

  const auto again = cli.json("import dw extract.jsonl --json");
  CHECK(again["read"] == 120);
  CHECK(again["duplicates"] == 120);
  CHECK(again["transitioned"] == 0);
  CHECK(again["exceptions"] == 0);

  const Result text = cli.run("import dw extract.jsonl");
  CHECK(text.out == "read 120 rows: 0 transitioned, 0 exceptions, 120 duplicates\n");
  // Each import is a run, with the file's rows counted first.
  const auto runs = cli.json("runs list --json");
  REQUIRE(runs.size() == 3);
  CHECK(runs[0]["script"] == "import dw");
  CHECK(runs[0]["status"] == "succeeded");
  CHECK(runs[0]["progress"]["rows_read"] == 120);
  CHECK(runs[0]["progress"]["rows_total"] == 120);
  CHECK_THAT(cli.run("runs list").out,
             Catch::Contains("import dw") && Catch::Contains("120 of 120"));
  const Result missing = cli.run("import dw nowhere.jsonl");
  CHECK(missing.status == 1);
  CHECK(missing.err == "casekit: no extract file nowhere.jsonl\n");
  CHECK(cli.run("dw generate --count 5 --bad-ratio 2").err ==
        "casekit: --bad-ratio must be between 0 and 1\n");
}

TEST_CASE("cli: casekit test runs each scenario alone and ends with the counts") {
  Cli cli;
  cli.write("demo_test.lua", R"lua(
scenario("a client is created", function(t)
  case.create_client { name = "Only Here", nino = "AB000000A" }
  t.eq(case.find_client { nino = "AB000000A" }.name, "Only Here")
end)
scenario("each scenario starts from an empty database", function(t)
  t.eq(case.find_client { nino = "AB000000A" }, nil, "left over")
end)
scenario("a failing check names the line", function(t)
  t.eq(1 + 1, 3, "sum")
end)
scenario("simulated time fires timers", function(t)
  t.eq(clock.today(), "2026-11-20")
  t.advance { days = 3 }
  t.eq(clock.today(), "2026-11-23")
end)
)lua");
  const Result r = cli.run("test demo_test.lua");
  CHECK(r.status == 1);
  CHECK_THAT(r.out, Catch::Contains("ok    demo_test.lua: a client is created\n"));
  CHECK_THAT(r.out, Catch::Contains("ok    demo_test.lua: each scenario starts from an empty"));
  CHECK_THAT(r.out, Catch::Contains("FAIL  demo_test.lua: a failing check names the line\n"
                                    "      demo_test.lua:10: sum: expected 3, got 2\n"));
  CHECK_THAT(r.out, Catch::EndsWith("3 passed, 1 failed\n"));
  CHECK(cli.run("test nowhere.lua").err == "casekit: no test file or folder nowhere.lua\n");
}

TEST_CASE("cli: the t functions refuse bad arguments as bindings do, naming the line") {
  Cli cli;
  cli.write("bad_test.lua", R"lua(
scenario("a misspelt key", function(t)
  t.advance { dayz = 3 }
end)
scenario("time only moves forward", function(t)
  t.advance { days = -1 }
end)
scenario("no item to complete", function(t)
  t.complete { inbox = "team_leader", outcome = "approved", as = "tina" }
end)
scenario("a refusal is an error table", function(t)
  local message = t.refuses(function() t.instance("seven") end, "integer expected")
  t.expect(message:find("'t.instance'", 1, true), message)
end)
)lua");
  const Result r = cli.run("test bad_test.lua");
  CHECK(r.status == 1);
  CHECK_THAT(r.out, Catch::Contains("      bad_test.lua:3: bad argument #1 'by' to 't.advance' "
                                    "(unknown field 'dayz'; expected: days, hours)\n"));
  CHECK_THAT(r.out, Catch::Contains("      bad_test.lua:6: t.advance: time only moves forward\n"));
  CHECK_THAT(r.out, Catch::Contains("      bad_test.lua:9: t.complete: 0 open work items match "
                                    "(give inbox, kind or id)\n"));
  CHECK_THAT(r.out, Catch::Contains("ok    bad_test.lua: a refusal is an error table\n"));
  CHECK_THAT(r.out, Catch::EndsWith("1 passed, 3 failed\n"));
}

namespace {

// Runs SQL on the database file as sqlite3 by hand would: opened without migrating, the
// connection has no audit hooked, so the edit goes past the engine and its audit.
void edit_by_hand(const std::filesystem::path& file, const std::string& sql) {
  casekit::Database(file, casekit::OpenMode::existing).exec(sql);
}

// A database with `count` generated extract rows imported: a casegroup each.
void imported(Cli& cli, int count) {
  REQUIRE(cli.run("init --simulated-clock 2026-11-20T07:00:00Z").status == 0);
  REQUIRE(cli.run("dw generate --count " + std::to_string(count) +
                  " --seed 3 --bad-ratio 0 -o extract.jsonl")
              .status == 0);
  REQUIRE(cli.run("import dw extract.jsonl").status == 0);
}

}  // namespace

TEST_CASE("cli: audit --casegroup shows a casegroup's trail oldest first and pages back") {
  Cli cli;
  imported(cli, 3);
  const auto all = cli.json("audit --casegroup 1 --json");
  REQUIRE(all["changes"].size() > 10);
  CHECK(all["next_cursor"].is_null());
  // Newest first in JSON, as the HTTP route has it.
  CHECK(all["changes"][0]["id"].get<int>() > all["changes"][1]["id"].get<int>());
  const auto& first = all["changes"].back();
  CHECK(first["action"] == "insert");
  CHECK(first["who"]["procedure"] == "phase2_transition");
  CHECK_THAT(first["why"].get<std::string>(),
             Catch::StartsWith("procedures/phase2_transition.lua:"));

  // Text: one heading per actor and instant, a line per change, the oldest first.
  const Result text = cli.run("audit --casegroup 1");
  INFO(text.err);
  REQUIRE(text.status == 0);
  CHECK_THAT(text.out, Catch::StartsWith("2026-11-20T07:00:00Z  procedure phase2_transition, "
                                         "instance 1\n  + clients "));
  CHECK_THAT(text.out, Catch::Contains("\n  + casegroups 1  ") &&
                           Catch::Contains("\n      why: procedures/phase2_transition.lua:") &&
                           Catch::Contains(": In Progress -> Closed") &&
                           Catch::Contains("\n  + letters ") &&
                           Catch::Contains(" template_version="));
  // A letter's text is not stored (its template's version and values are), so not shown.
  std::istringstream lines(text.out);
  int letters = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("  + letters ", 0) != 0) continue;
    ++letters;
    CHECK(line.find("body=") == std::string::npos);
  }
  CHECK(letters > 0);
  CHECK(text.err.empty());

  // A page of the newest two, and a hint to read on; the next page is older.
  const Result page = cli.run("audit --casegroup 1 --limit 2");
  const auto second_id = all["changes"][1]["id"].get<int>();
  CHECK(page.err ==
        "older changes: casekit audit --casegroup 1 --before " + std::to_string(second_id) + "\n");
  const auto older =
      cli.json("audit --casegroup 1 --before " + std::to_string(second_id) + " --json");
  CHECK(older["changes"].size() == all["changes"].size() - 2);

  const Result missing = cli.run("audit --casegroup 99");
  CHECK(missing.status == 1);
  CHECK(missing.err == "casekit: no casegroup with id 99\n");
  CHECK(cli.run("audit --casegroup 1 --limit 5000").status == 2);
  CHECK(cli.run("audit").status == 2);
}

TEST_CASE("cli: audit verify finds a change altered removed or inserted by hand") {
  Cli cli;
  imported(cli, 4);
  const auto intact = cli.json("audit verify --json");
  CHECK(intact["intact"] == true);
  CHECK(intact["sets"].get<int>() > 4);
  CHECK(intact["head"].get<std::string>().size() == 64);
  const Result text = cli.run("audit verify");
  CHECK_THAT(text.out, Catch::StartsWith("audit intact: ") &&
                           Catch::EndsWith(intact["head"].get<std::string>() + "\n"));
  // Each edit is made on a fresh copy of the intact database.
  const auto intact_copy = cli.dir.path() / "intact.db";
  REQUIRE(cli.run("backup " + intact_copy.string()).status == 0);
  const auto restore = [&] {
    REQUIRE(cli.run("restore --force " + intact_copy.string()).status == 0);
  };
  // A set whose content changed fails its hash; a change appended to an earlier set is out
  // of place before its set's hash is ever in doubt.
  std::string found = "does not match its hash";

  SECTION("a value altered") {
    edit_by_hand(cli.db(),
                 "UPDATE audit_changes SET after = replace(after, 'CSA-', 'CSX-') "
                 "WHERE shape_id IN (SELECT id FROM audit_shapes WHERE "
                 "entity = 'casegroups') AND entity_id = 1");
  }
  SECTION("a change removed") {
    edit_by_hand(cli.db(),
                 "DELETE FROM audit_changes WHERE shape_id IN (SELECT id FROM audit_shapes WHERE "
                 "entity = 'casegroups') AND "
                 "entity_id = 1");
  }
  SECTION("a change inserted into a set") {
    edit_by_hand(cli.db(),
                 "INSERT INTO audit_changes(set_id, shape_id, entity_id, action, after) SELECT "
                 "set_id, shape_id, 1, 2, '{\"segment\":\"Enforcement\"}' FROM "
                 "audit_changes WHERE shape_id IN (SELECT id FROM audit_shapes WHERE "
                 "entity = 'casegroups') AND entity_id = 1");
    found = "which is not where it sits";
  }
  SECTION("a whole set removed") {
    edit_by_hand(
        cli.db(),
        "PRAGMA foreign_keys = OFF; DELETE FROM audit_changes WHERE set_id = "
        "(SELECT set_id FROM audit_changes WHERE shape_id IN (SELECT id FROM audit_shapes WHERE "
        "entity = 'casegroups') AND "
        "entity_id = 1); DELETE FROM audit_sets WHERE id NOT IN (SELECT "
        "set_id FROM audit_changes)");
  }
  SECTION("who made it altered") {
    edit_by_hand(cli.db(),
                 "UPDATE audit_sets SET actor = 'user:nobody' WHERE id = (SELECT "
                 "set_id FROM audit_changes WHERE shape_id IN (SELECT id FROM audit_shapes WHERE "
                 "entity = 'casegroups') AND "
                 "entity_id = 1)");
  }
  const Result broken = cli.run("audit verify");
  CHECK(broken.status == 1);
  CHECK_THAT(broken.err, Catch::StartsWith("casekit: audit ") && Catch::Contains(found) &&
                             Catch::EndsWith("outside casekit\n"));
  const Result json = cli.run("audit verify --json");
  CHECK(json.status == 1);
  CHECK(nlohmann::json::parse(json.out)["intact"] == false);
  restore();
  CHECK(cli.run("audit verify").status == 0);
}
