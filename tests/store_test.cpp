#include <fstream>

#include "engine/core/error.hpp"
#include "engine/store/history_blob.hpp"
#include "engine/store/row_format.hpp"
#include "test_support.hpp"

using namespace casekit;
using casekit::test::TempDir;
using casekit::test::TestEngine;

namespace {

// A database left at an older schema version, to be migrated forward by the test.
struct OldDatabase {
  explicit OldDatabase(int version) {
    db.set_clock(&clock);
    migrate(db, version);
  }
  TempDir dir;
  SimulatedClock clock{parse_instant("2026-11-20T09:00:00Z")};
  Database db{dir.path() / "x.db", OpenMode::create};
};

std::string pragma(Database& db, const std::string& name) {
  auto st = db.prepare("PRAGMA " + name);
  st.step();
  return st.text(0);
}

struct Inner {
  std::optional<std::string> note;
};
struct Sample {
  std::int64_t id = 0;
  std::string name;
  std::optional<std::int64_t> ref;
  bool flag = false;
  std::optional<bool> maybe;
  Inner inner;
  std::string shouted;
};

}  // namespace

TEST_CASE("a row format names its columns once and reads each into its field, in order") {
  const RowFormat row{column<&Sample::id>("id"),
                      column<&Sample::name>("name"),
                      column<&Sample::ref>("ref"),
                      column<&Sample::flag>("flag"),
                      column<&Sample::maybe>("maybe"),
                      column<&Sample::inner, &Inner::note>("note"),
                      column<Sample>("name", [](const Statement& st, int i, Sample& s) {
                        s.shouted = st.text(i) + "!";
                      })};
  CHECK(row.list() == "id, name, ref, flag, maybe, note, name");
  TempDir dir;
  Database db(dir.path() / "rows.db", OpenMode::create);
  db.exec(
      "CREATE TABLE t(id INTEGER, name TEXT, ref INTEGER, flag INTEGER, maybe INTEGER, "
      "note TEXT)");
  db.exec("INSERT INTO t VALUES (7, 'a', NULL, 1, 0, 'n'), (8, 'b', 3, 0, NULL, NULL)");
  CHECK(row.select("FROM t ORDER BY id") == "SELECT " + row.list() + " FROM t ORDER BY id");
  auto st = db.prepare(row.select("FROM t ORDER BY id"));
  REQUIRE(st.step());
  const Sample a = row.read(st);
  CHECK(a.id == 7);
  CHECK(a.name == "a");
  CHECK_FALSE(a.ref);
  CHECK(a.flag);
  CHECK(a.maybe == std::optional(false));
  CHECK(a.inner.note == std::optional<std::string>("n"));
  CHECK(a.shouted == "a!");
  REQUIRE(st.step());
  const Sample b = row.read(st);
  CHECK(b.ref == std::optional<std::int64_t>(3));
  CHECK_FALSE(b.flag);
  CHECK_FALSE(b.maybe);
  CHECK_FALSE(b.inner.note);
}

TEST_CASE("a new database is migrated to the latest schema in WAL mode with foreign keys") {
  TempDir dir;
  SystemClock clock;
  Database db(dir.path() / "x.db", OpenMode::create);
  db.set_clock(&clock);
  CHECK(schema_version(db) == 0);
  migrate(db);
  CHECK(schema_version(db) == latest_schema_version());
  CHECK(pragma(db, "journal_mode") == "wal");
  CHECK(pragma(db, "foreign_keys") == "1");
  // Every domain table named by the design exists.
  for (const char* table : {"clients",
                            "addresses",
                            "casegroups",
                            "casegroup_flags",
                            "cases",
                            "ledger_accounts",
                            "dues",
                            "charges",
                            "payments",
                            "write_offs",
                            "payment_schedules",
                            "service_requests",
                            "sr_fields",
                            "sr_notes",
                            "sr_steps",
                            "step_plans",
                            "sr_step_marks",
                            "sr_relations",
                            "payment_requests",
                            "work_items",
                            "letters",
                            "exceptions",
                            "audit_sets",
                            "audit_changes",
                            "audit_whys"}) {
    auto st = db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1");
    st.bind(1, table);
    st.step();
    INFO(table);
    CHECK(st.integer(0) == 1);
  }
}

TEST_CASE("migrating twice changes nothing") {
  TempDir dir;
  SystemClock clock;
  Database db(dir.path() / "x.db", OpenMode::create);
  db.set_clock(&clock);
  migrate(db);
  auto count_objects = [&] {
    auto st = db.prepare("SELECT count(*) FROM sqlite_schema");
    st.step();
    return st.integer(0);
  };
  const auto before = count_objects();
  migrate(db);
  CHECK(count_objects() == before);
  CHECK(schema_version(db) == latest_schema_version());
}

TEST_CASE("an older database is migrated forward with its data") {
  OldDatabase old(1);
  Database& db = old.db;
  CHECK(schema_version(db) == 1);
  db.exec("INSERT INTO clients(name, created_at) VALUES ('Kept', 'then')");
  migrate(db);
  CHECK(schema_version(db) == latest_schema_version());
  auto st = db.prepare("SELECT name FROM clients");
  REQUIRE(st.step());
  CHECK(st.text(0) == "Kept");
  // Tables added later are audited like the rest.
  db.exec("INSERT INTO schedule_state(name) VALUES ('daily')");
  auto audit = db.prepare("SELECT count(*) FROM audit WHERE entity = 'schedule_state'");
  audit.step();
  CHECK(audit.integer(0) == 1);
}

TEST_CASE("schemas 20 and 21 on an older database: senior managers, and old dues are arrears") {
  OldDatabase old(19);
  Database& db = old.db;
  CHECK_THROWS_WITH(db.exec("INSERT INTO users(name, role, created_at) "
                            "VALUES ('sue', 'senior_manager', 'then')"),
                    Catch::Contains("CHECK constraint failed"));
  db.exec(
      "INSERT INTO clients(name, created_at) VALUES ('Sam', 'then');"
      "INSERT INTO casegroups(paying_parent_id, segment, region, created_at) "
      "VALUES (1, 'Maintenance', 'E&W', 'then');"
      "INSERT INTO ledger_accounts(client_id, bancs_number, created_at) VALUES (1, 'B1', 'then');"
      "INSERT INTO dues(account_id, casegroup_id, owed_to, state, amount, created_at, due_on) "
      "VALUES (1, 1, 'SOS_GB', 'active', 5000, 'then', '2026-01-01')");
  migrate(db);
  db.exec("INSERT INTO users(name, role, created_at) VALUES ('sue', 'senior_manager', 'now')");
  auto kind = db.prepare("SELECT kind FROM dues WHERE id = 1");
  REQUIRE(kind.step());
  CHECK(kind.text(0) == "arrears");
  CHECK_THROWS_WITH(db.exec("UPDATE dues SET kind = 'fees' WHERE id = 1"),
                    Catch::Contains("CHECK constraint failed"));
  CHECK_THROWS_WITH(db.exec("INSERT INTO users(name, role, created_at) "
                            "VALUES ('boss', 'chief', 'now')"),
                    Catch::Contains("CHECK constraint failed"));
  CHECK(pragma(db, "integrity_check") == "ok");
}

TEST_CASE("CHECK constraints are comparisons, not IN lists, and still refuse bad values") {
  OldDatabase old(5);
  Database& db = old.db;
  db.exec(
      "INSERT INTO clients(name, created_at) VALUES ('Kept', 'then');"
      "INSERT INTO addresses(client_id, line1, status, created_at) "
      "VALUES (1, '1 High St', 'DLO', 'then')");
  migrate(db);
  // An IN list of constants in a CHECK costs a temporary index per row written; no table
  // may carry one (a later migration must write comparisons).
  auto in_lists = db.prepare(
      "SELECT group_concat(name) FROM sqlite_schema WHERE type = 'table' AND "
      "sql GLOB '*CHECK*' AND sql GLOB '* IN (''*'");
  in_lists.step();
  CHECK(in_lists.text(0).empty());
  auto kept = db.prepare("SELECT status FROM addresses WHERE client_id = 1");
  REQUIRE(kept.step());
  CHECK(kept.text(0) == "DLO");
  CHECK(pragma(db, "integrity_check") == "ok");
  // The rewritten constraints refuse what the lists refused and allow NULL where they did.
  CHECK_THROWS_WITH(db.exec("INSERT INTO addresses(client_id, line1, status, created_at) "
                            "VALUES (1, '2 High St', 'Mars', 'now')"),
                    Catch::Contains("CHECK constraint failed"));
  CHECK_THROWS(db.exec("UPDATE clients SET deceased = 2 WHERE id = 1"));
  db.exec(
      "INSERT INTO ledger_accounts(client_id, bancs_number, created_at) VALUES (1, 'B1', 'now')");
  CHECK_THROWS(db.exec("UPDATE ledger_accounts SET mop = 'CASH' WHERE client_id = 1"));
  db.exec("UPDATE ledger_accounts SET mop = 'DEO' WHERE client_id = 1");
}

TEST_CASE("a database from a newer casekit is refused, untouched") {
  TempDir dir;
  SystemClock clock;
  Database db(dir.path() / "x.db", OpenMode::create);
  db.set_clock(&clock);
  db.exec("PRAGMA user_version = 999");
  CHECK_THROWS_WITH(migrate(db), Catch::Contains("newer than this casekit"));
  CHECK(schema_version(db) == 999);
}

TEST_CASE("opening a missing database without create says how to make one") {
  TempDir dir;
  CHECK_THROWS_WITH(Database(dir.path() / "none.db", OpenMode::existing),
                    Catch::Contains("casekit init"));
  CHECK_FALSE(std::filesystem::exists(dir.path() / "none.db"));
}

TEST_CASE("a file that is not a database is reported as such") {
  TempDir dir;
  const auto path = dir.path() / "junk.db";
  {
    std::ofstream out(path);
    out << std::string(8192, 'j');
  }
  CHECK_THROWS_WITH(Database(path, OpenMode::existing), Catch::Contains("not a casekit database"));
  CHECK(std::filesystem::file_size(path) == 8192);
}

TEST_CASE("every change leaves an audit row with actor, time, before and after") {
  TestEngine t;
  ActorScope actor(t.db, "tester");
  const auto f = t.family();
  t.engine.casegroups.set_segment(f.casegroup, "Arrears");
  auto st = t.db.prepare(
      "SELECT at, actor, action, json_extract(before, '$.segment'), json_extract(after, "
      "'$.segment') FROM audit WHERE entity = 'casegroups' AND entity_id = ?1 ORDER BY id");
  st.bind(1, f.casegroup);
  REQUIRE(st.step());
  CHECK(st.text(2) == "insert");
  CHECK(st.text(1) == "tester");
  CHECK(st.text(0) == "2026-11-20T09:00:00Z");
  REQUIRE(st.step());
  CHECK(st.text(2) == "update");
  CHECK(st.text(3) == "Maintenance");
  CHECK(st.text(4) == "Arrears");
  CHECK_FALSE(st.step());
  // Deletions are audited too (clearing a flag deletes its row).
  t.engine.casegroups.set_flag(f.casegroup, "lock_assignment", true);
  t.engine.casegroups.set_flag(f.casegroup, "lock_assignment", false);
  auto del = t.db.prepare(
      "SELECT count(*) FROM audit WHERE entity = 'casegroup_flags' AND action = 'delete'");
  del.step();
  CHECK(del.integer(0) == 1);
}

TEST_CASE("the audit follows the transaction: rolled-back changes leave no audit rows") {
  TestEngine t;
  const auto f = t.family();
  const auto audit_rows = [&] {
    auto st = t.db.prepare("SELECT count(*) FROM audit");
    st.step();
    return st.integer(0);
  };
  const auto start = audit_rows();
  {
    Transaction tx(t.db);
    {
      Savepoint kept(t.db);
      t.engine.casegroups.set_segment(f.casegroup, "Arrears");
      kept.release();
    }
    {
      Savepoint undone(t.db);
      t.engine.casegroups.set_segment(f.casegroup, "Enforcement");
    }
    tx.commit();
  }
  CHECK(t.engine.casegroups.get(f.casegroup).segment == "Arrears");
  auto st = t.db.prepare(
      "SELECT json_extract(after, '$.segment') FROM audit WHERE entity = 'casegroups' "
      "AND action = 'update'");
  REQUIRE(st.step());
  CHECK(st.text(0) == "Arrears");
  CHECK_FALSE(st.step());
  CHECK(audit_rows() == start + 1);
  {
    Transaction tx(t.db);
    t.engine.casegroups.set_segment(f.casegroup, "Maintenance");
  }  // rolled back
  CHECK(audit_rows() == start + 1);
  // A change outside any transaction is audited in one of its own, with the row's values
  // (text escaped as JSON would have it).
  t.db.prepare("UPDATE clients SET name = ?1 WHERE id = ?2")
      .bind_all("Sam \"the\" Payer\n", f.paying_parent)
      .run();
  CHECK(audit_rows() == start + 2);
  auto name = t.db.prepare(
      "SELECT json_extract(after, '$.name'), entity_id FROM audit ORDER BY id DESC LIMIT 1");
  REQUIRE(name.step());
  CHECK(name.text(0) == "Sam \"the\" Payer\n");
  CHECK(name.integer(1) == f.paying_parent);
  // A COMMIT run past Transaction would commit an unaudited change, so it is refused.
  t.db.exec("BEGIN");
  t.db.prepare("UPDATE clients SET name = 'Nobody' WHERE id = ?1").bind(1, f.paying_parent).run();
  CHECK_THROWS(t.db.exec("COMMIT"));
  if (!sqlite3_get_autocommit(t.db.handle())) t.db.exec("ROLLBACK");
  CHECK(t.engine.casegroups.client(f.paying_parent).name == "Sam \"the\" Payer\n");
}

TEST_CASE("money columns refuse floats and negatives at the database itself") {
  TestEngine t;
  const auto f = t.family();
  const auto account = t.engine.ledger.account_of_casegroup(f.casegroup).id;
  auto insert = [&](const std::string& amount) {
    t.db.exec(
        "INSERT INTO dues(account_id, casegroup_id, case_id, owed_to, state, amount, "
        "created_at) VALUES (" +
        std::to_string(account) + ", " + std::to_string(f.casegroup) + ", " +
        std::to_string(f.case_id) + ", 'RP', 'active', " + amount + ", 'now')");
  };
  CHECK_THROWS_AS(insert("12.5"), Error);
  CHECK_THROWS_AS(insert("-1"), Error);
  CHECK_NOTHROW(insert("1250"));
  CHECK(t.count("dues") == 1);
}

TEST_CASE("a transaction that is not committed leaves nothing behind") {
  TestEngine t;
  {
    Transaction tx(t.db);
    t.family();
    CHECK(t.count("clients") == 2);
  }
  CHECK(t.count("clients") == 0);
  CHECK(t.count("audit") == 0);
}

TEST_CASE("foreign keys are enforced") {
  TestEngine t;
  CHECK_THROWS_AS(t.db.exec("INSERT INTO cases(casegroup_id, receiving_parent_id, created_at) "
                            "VALUES (42, 43, 'now')"),
                  Error);
}

TEST_CASE("a database locked by another writer is reported, not waited on forever") {
  TestEngine t;
  Database other(t.dir.path() / "casekit.db", OpenMode::existing);
  other.exec("PRAGMA busy_timeout = 0");
  Transaction hold(t.db);
  t.family();
  other.set_clock(&t.clock);
  CHECK_THROWS_WITH(other.exec("BEGIN IMMEDIATE"), Catch::Contains("locked"));
}

TEST_CASE("text bound unowned is stored as it was, and a missing value as NULL") {
  TempDir dir;
  Database db(dir.path() / "x.db", OpenMode::create);
  db.exec("CREATE TABLE t (a TEXT, b TEXT, c TEXT)");
  const std::string large(5000, 'x');
  const std::optional<std::string> some = "some", none;
  db.prepare("INSERT INTO t VALUES (?1, ?2, ?3)")
      .bind_unowned(1, large)
      .bind_unowned(2, some)
      .bind_unowned(3, none)
      .run();
  auto st = db.prepare("SELECT a, b, c IS NULL FROM t");
  REQUIRE(st.step());
  CHECK(st.text(0) == large);
  CHECK(st.text(1) == "some");
  CHECK(st.integer(2) == 1);
}

namespace casekit::test {
namespace {

// The counts the triggers keep, and the same counted from the items, as text to compare.
std::pair<std::string, std::string> kept_and_counted(Database& db) {
  const auto rows = [&](const std::string& sql) {
    std::string out;
    auto st = db.prepare(sql);
    while (st.step()) {
      out += st.text(0) + "|" + st.text(1) + "|" + st.text(2) + "|" + st.text(3) + "\n";
    }
    return out;
  };
  return {rows("SELECT status, inbox, team, n FROM work_item_counts WHERE n > 0 ORDER BY 1, 2, 3"),
          rows("SELECT status, inbox, IFNULL(team, ''), count(*) FROM work_items "
               "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")};
}

}  // namespace

TEST_CASE("work item counts are filled by the migration and kept by every change") {
  OldDatabase old(15);
  Database& db = old.db;
  const auto add = [&](const std::string& inbox, const std::string& team) {
    db.prepare(
          "INSERT INTO work_items (inbox, kind, title, outcomes, team, created_at) "
          "VALUES (?1, 'task', 'T', '[\"done\"]', NULLIF(?2, ''), 'then')")
        .bind_all(inbox, team)
        .run();
  };
  for (int i = 0; i < 5; ++i) add("caseworker", i % 2 ? "Arrears" : "Enforcement");
  add("team_leader", "");
  migrate(db);
  auto [kept, counted] = kept_and_counted(db);
  CHECK(kept == counted);
  CHECK(counted.find("open|caseworker|Arrears|2\n") != std::string::npos);

  add("caseworker", "Arrears");
  add("team_leader", "");
  db.exec("UPDATE work_items SET status = 'completed' WHERE id = 1");
  db.exec("UPDATE work_items SET status = 'cancelled', assignee = 'x' WHERE id = 2");
  db.exec("UPDATE work_items SET assignee = 'y' WHERE id = 3");  // no count changes
  db.exec("UPDATE work_items SET team = NULL WHERE id = 4");
  db.exec("UPDATE work_items SET inbox = 'team_leader', team = 'Arrears' WHERE id = 5");
  db.exec("DELETE FROM work_items WHERE id = 6");
  std::tie(kept, counted) = kept_and_counted(db);
  CHECK(kept == counted);
  CHECK(counted.find("completed|caseworker|Enforcement|1\n") != std::string::npos);

  // A change rolled back leaves the counts as they were.
  {
    Transaction tx(db);
    db.exec("UPDATE work_items SET status = 'completed'");
  }
  std::tie(kept, counted) = kept_and_counted(db);
  CHECK(kept == counted);
}

}  // namespace casekit::test

TEST_CASE("casegroup name keys are filled by the migration and kept whatever comes first") {
  OldDatabase old(26);
  Database& db = old.db;
  const auto client = [&](const std::string& name) {
    db.prepare("INSERT INTO clients(name, created_at) VALUES (?1, 'then')").bind_all(name).run();
    return db.last_insert_id();
  };
  const auto keys = [&](Id client_id, const std::vector<std::string>& ks) {
    for (const auto& k : ks) {
      db.prepare("INSERT INTO client_name_keys(key, client_id) VALUES (?1, ?2)")
          .bind_all(k, client_id)
          .run();
    }
  };
  const auto casegroup = [&](Id payer) {
    db.prepare(
          "INSERT INTO casegroups(paying_parent_id, segment, region, created_at) VALUES (?1, "
          "'Arrears', 'E&W', 'then')")
        .bind_all(payer)
        .run();
    return db.last_insert_id();
  };
  const auto add_case = [&](Id group, Id receiver) {
    db.prepare(
          "INSERT INTO cases(casegroup_id, receiving_parent_id, created_at) VALUES (?1, ?2, "
          "'then')")
        .bind_all(group, receiver)
        .run();
  };
  const auto of = [&](Id group) {
    std::string out;
    auto st =
        db.prepare("SELECT key FROM casegroup_name_keys WHERE casegroup_id = ?1 ORDER BY key");
    st.bind(1, group);
    while (st.step()) out += st.text(0) + ";";
    return out;
  };
  // Before schema 27: a casegroup with a payer and a receiver, their keys already there.
  const Id ann = client("Ann Bell"), bo = client("Bo Cox");
  keys(ann, {"ann bell", "bell"});
  keys(bo, {"bo cox", "cox"});
  const Id first = casegroup(ann);
  add_case(first, bo);
  migrate(db);
  CHECK(of(first) == "ann bell;bell;bo cox;cox;");
  // After: keys before the casegroup (as create_client writes them), and keys after it.
  const Id cy = client("Cy Dee"), di = client("Di Eve");
  keys(cy, {"cy dee", "dee"});
  const Id second = casegroup(cy);
  add_case(second, di);
  CHECK(of(second) == "cy dee;dee;");
  keys(di, {"di eve", "eve"});
  CHECK(of(second) == "cy dee;dee;di eve;eve;");
  add_case(second, ann);  // a parent already known by name
  CHECK(of(second) == "ann bell;bell;cy dee;dee;di eve;eve;");
}

TEST_CASE("an activation's commands are kept compressed and read back byte for byte") {
  std::vector<StoredCommand> commands = {
      {"sr.create", 3,
       R"([{"casegroup":{"$object":"Casegroup","id":1},"reason":")" + std::string(300, 'r') +
           "\"}]",
       std::string("[7]")},
      {"SR:add_note", 4, "[\"a note with \x1e, \x1f, : and 12:\\n\"]", std::string("[]")},
      {"wait", 5, R"([{"days":1}])", std::nullopt},
  };
  const std::string blob = encode_commands(commands);
  const auto back = decode_commands(blob, "instance 1's history");
  REQUIRE(back.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(back[i].name == commands[i].name);
    CHECK(back[i].line_id == commands[i].line_id);
    CHECK(back[i].args == commands[i].args);
    CHECK(back[i].result == commands[i].result);
  }
  // A short activation is kept as it is; a longer one compressed.
  const std::vector<StoredCommand> short_one = {commands[2]};
  CHECK(encode_commands(short_one).front() == '=');
  CHECK(decode_commands(encode_commands(short_one), "x")[0].args == commands[2].args);
  CHECK(blob.front() != '=');
  CHECK_THROWS_WITH(decode_commands("=4:wait", "instance 2's history"),
                    Catch::Contains("instance 2's history is damaged"));
  // Repeated commands compress.
  std::vector<StoredCommand> many(200, commands[0]);
  CHECK(encode_commands(many).size() * 5 < 200 * commands[0].args.size());
  // What encode_commands did not write is one clear error.
  for (const std::string& bad :
       {std::string(), std::string("12"), std::string("99999999:xyz"),
        blob.substr(0, blob.size() - 3), std::string("5:") + blob.substr(blob.find(':') + 1)}) {
    CHECK_THROWS_WITH(decode_commands(bad, "instance 1's history"),
                      Catch::Contains("instance 1's history is damaged"));
  }
}
