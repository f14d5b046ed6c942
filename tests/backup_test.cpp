// casekit backup and restore, and one serve per database: through the real program, with a
// real `casekit serve` running beside them.
#include <catch2/catch.hpp>

#include "tests/cli_support.hpp"

namespace casekit::test {
namespace {

// A casegroup's worth of domain data, and what a comparison of two databases reads.
std::string domain(Cli& cli, const std::string& db) {
  const Result r = cli.run("--db " + db + " casegroup list --json");
  INFO(r.err);
  REQUIRE(r.status == 0);
  return r.out + cli.run("--db " + db + " sr list --json").out;
}

// A database on the real clock (serve refuses a simulated one) with the demo's casegroups.
void live(Cli& cli) {
  REQUIRE(cli.run("init").status == 0);
  const Result seed = cli.run("exec scripts/demo_seed.lua");
  INFO(seed.err);
  REQUIRE(seed.status == 0);
}

}  // namespace

TEST_CASE("backup: a copy taken while serve runs restores to the same data") {
  Cli cli;
  live(cli);
  const std::string before = domain(cli, "casekit.db");
  ServeProcess serve(cli);
  REQUIRE(serve.port() != 0);

  const Result backup = cli.run("backup saved.db --json");
  INFO(backup.err);
  REQUIRE(backup.status == 0);
  const auto answer = nlohmann::json::parse(backup.out);
  CHECK(answer["backup"] == "saved.db");
  CHECK(answer["bytes"].get<std::int64_t>() > 0);
  CHECK(domain(cli, "saved.db") == before);
  // A backup never overwrites: the next needs a new name.
  const Result again = cli.run("backup saved.db");
  CHECK(again.status == 1);
  CHECK(again.err.find("saved.db exists") != std::string::npos);

  // While serve runs, the database is not restored over, even with --force.
  const Result under = cli.run("restore saved.db --force");
  CHECK(under.status == 1);
  CHECK(under.err.find("a casekit serve is running") != std::string::npos);
  REQUIRE(serve.stop(SIGTERM) == 0);

  // A change after the backup, then the restore takes it away.
  cli.write("more.lua",
            "case.create_casegroup { csa_ref = 'CSA-7777', paying_parent = "
            "case.create_client { name = 'Extra Person', nino = 'ZZ123456A' } }");
  const Result more = cli.run("exec more.lua");
  INFO(more.err);
  REQUIRE(more.status == 0);
  REQUIRE(domain(cli, "casekit.db") != before);
  const Result refused = cli.run("restore saved.db");
  CHECK(refused.status == 1);
  CHECK(refused.err.find("--force") != std::string::npos);
  const Result restored = cli.run("restore saved.db --force");
  INFO(restored.err);
  REQUIRE(restored.status == 0);
  CHECK(domain(cli, "casekit.db") == before);
  // And serve runs on the restored database.
  ServeProcess after(cli);
  CHECK(after.port() != 0);
}

TEST_CASE("backup: a damaged or foreign file is refused and the database is left as it was") {
  Cli cli;
  live(cli);
  const std::string before = domain(cli, "casekit.db");
  cli.write("junk.db", std::string(8192, 'x'));
  Result r = cli.run("restore junk.db --force");
  CHECK(r.status == 1);
  CHECK(r.err.find("junk.db is not a casekit database") != std::string::npos);
  // A real SQLite file that casekit never made.
  REQUIRE(
      std::system(("sqlite3 '" + (cli.dir.path() / "other.db").string() + "' 'CREATE TABLE t(x)'")
                      .c_str()) == 0);
  r = cli.run("restore other.db --force");
  CHECK(r.status == 1);
  CHECK(r.err.find("not a casekit database") != std::string::npos);
  r = cli.run("restore missing.db --force");
  CHECK(r.status == 1);
  CHECK(r.err.find("no backup at missing.db") != std::string::npos);
  CHECK(domain(cli, "casekit.db") == before);
  // A backup cut short: its pages are damaged, and the check finds it.
  REQUIRE(cli.run("backup good.db").status == 0);
  std::filesystem::resize_file(cli.dir.path() / "good.db",
                               std::filesystem::file_size(cli.dir.path() / "good.db") / 2);
  r = cli.run("restore good.db --force");
  CHECK(r.status == 1);
  CHECK(domain(cli, "casekit.db") == before);
}

TEST_CASE("serve: only one runs per database, and a killed one leaves no lock") {
  Cli cli;
  live(cli);
  ServeProcess first(cli);
  REQUIRE(first.port() != 0);
  ServeProcess second(cli);
  CHECK(second.stop(0) == 1);
  CHECK(second.err().find("another casekit serve is already running") != std::string::npos);
  // SIGKILL: the kernel drops the lock with the process.
  first.stop(SIGKILL);
  ServeProcess third(cli);
  CHECK(third.port() != 0);
  CHECK(third.stop(SIGTERM) == 0);
}

}  // namespace casekit::test
