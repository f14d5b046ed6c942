// The audit as change sets (engine/store/database.cpp, schema 29): each change keeps only
// what it changed, and still every audited table can be rebuilt from the audit alone.
#include <map>
#include <sstream>

#include "engine/store/audit_chain.hpp"
#include "engine/store/schema.hpp"
#include "engine/transition/dw_generate.hpp"
#include "engine/transition/dw_import.hpp"
#include "tests/durable_support.hpp"

using namespace casekit;
using namespace casekit::test;
using Json = nlohmann::json;

namespace {

// Names a row: its id, or for a table keyed by more than one column, those columns' values.
std::string row_key(const AuditedTable& t, const Json& row, const Json& entity_id) {
  if (t.key_columns.size() < 2) return entity_id.dump();
  std::string key;
  for (const int c : t.key_columns) {
    const auto& column = t.columns[static_cast<std::size_t>(c)];
    key += (row.contains(column) ? row[column] : Json(nullptr)).dump() + "|";
  }
  return key;
}

using Rows = std::map<std::string, Json>;  // row key -> its non-NULL columns

// Every row of every audited table, as the tables hold them.
std::map<std::string, Rows> tables_now(Database& db, const std::vector<AuditedTable>& tables) {
  std::map<std::string, Rows> out;
  for (const auto& t : tables) {
    std::string object = "json_object(";
    for (std::size_t i = 0; i < t.columns.size(); ++i) {
      object += (i ? ", '" : "'") + t.columns[i] + "', \"" + t.columns[i] + "\"";
    }
    auto st = db.prepare("SELECT " + object + ") FROM \"" + t.name + "\"");
    auto& rows = out[t.name];
    while (st.step()) {
      Json row = Json::parse(st.text(0));
      for (auto it = row.begin(); it != row.end();) it = it->is_null() ? row.erase(it) : ++it;
      const Json id = row.contains(t.columns[static_cast<std::size_t>(t.id_column)])
                          ? row[t.columns[static_cast<std::size_t>(t.id_column)]]
                          : Json(nullptr);
      // The key first: Json's assignment takes its value by copy, made (and here moved
      // from `row`) before the left side is worked out.
      const std::string key = row_key(t, row, id);
      rows[key] = std::move(row);
    }
  }
  return out;
}

// The same rows rebuilt from nothing but the audit, its changes applied in order.
std::map<std::string, Rows> tables_from_audit(Database& db,
                                              const std::vector<AuditedTable>& tables) {
  std::map<std::string, const AuditedTable*> by_name;
  std::map<std::string, Rows> out;
  for (const auto& t : tables) {
    by_name[t.name] = &t;
    out[t.name];
  }
  auto st = db.prepare(
      "SELECT entity, json_quote(entity_id), action, before, after FROM audit ORDER BY id");
  while (st.step()) {
    INFO(st.text(0) << " " << st.text(1) << " " << st.text(2));
    REQUIRE(by_name.contains(st.text(0)));
    const AuditedTable& t = *by_name[st.text(0)];
    Rows& rows = out[t.name];
    const Json id = Json::parse(st.text(1));
    const std::string action = st.text(2);
    const Json before = st.is_null(3) ? Json() : Json::parse(st.text(3));
    const Json after = st.is_null(4) ? Json() : Json::parse(st.text(4));
    if (action == "insert") {
      const std::string key = row_key(t, after, id);
      REQUIRE_FALSE(rows.contains(key));
      rows[key] = after;
    } else if (action == "update") {
      const std::string key = row_key(t, before, id);
      REQUIRE(rows.contains(key));
      Json row = rows[key];
      rows.erase(key);
      for (const auto& [column, value] : after.items()) {
        if (value.is_null()) {
          row.erase(column);
        } else {
          row[column] = value;
        }
      }
      const std::string new_key = row_key(t, row, id);
      rows[new_key] = std::move(row);
    } else {
      const std::string key = row_key(t, before, id);
      REQUIRE(rows.contains(key));
      CHECK(rows[key] == before);  // a delete keeps the row as it was
      rows.erase(key);
    }
  }
  return out;
}

// Where the tables and the audit disagree: each table whose rows differ, and how.
std::vector<std::string> differences(Database& db) {
  const auto tables = audited_tables(db);
  const auto now = tables_now(db, tables);
  const auto rebuilt = tables_from_audit(db, tables);
  std::vector<std::string> out;
  for (const auto& [table, rows] : now) {
    const Rows& from_audit = rebuilt.at(table);
    if (from_audit == rows) continue;
    std::string what = table + ": " + std::to_string(rows.size()) + " rows, " +
                       std::to_string(from_audit.size()) + " rebuilt";
    for (const auto& [key, row] : rows) {
      if (!from_audit.contains(key) || from_audit.at(key) != row) {
        what += "; first differs at " + key + ": " + row.dump();
        break;
      }
    }
    out.push_back(what);
  }
  return out;
}

}  // namespace

TEST_CASE("every audited table is rebuilt from the audit alone") {
  DurableEngine d;
  d.engine.users.add("carl", "caseworker", std::string("Financial Transition"));
  std::ostringstream extract;
  generate_dw_extract(extract, {40, 7, 0.05, "2026-11-20"});
  std::istringstream in(extract.str());
  DwImportOptions options;
  options.batch_rows = 9;
  const auto counts = import_dw_extract(d.engine, d.runtime, in, options);
  REQUIRE(counts.transitioned > 30);
  // Updates of rows keyed by one column and by two, deletes, and time passing: reminders,
  // escalations and reviews fired by the procedures' timers.
  const Id sr = d.count("SELECT min(id) FROM service_requests WHERE status <> 'Closed'");
  const Id casegroup = d.engine.srs.get(sr).casegroup_id.value();
  d.engine.casegroups.set_flag(casegroup, "enforcement_monitoring", true);
  d.engine.casegroups.set_segment(casegroup, "Enforcement");
  d.engine.casegroups.set_flag(casegroup, "enforcement_monitoring", false);
  d.engine.srs.set_field(sr, "Reason", std::string("first"));
  d.engine.srs.set_field(sr, "Reason", std::string("second"));
  d.engine.srs.set_field(sr, "Reason", std::nullopt);
  for (int day = 0; day < 20; ++day) d.advance(std::chrono::days(3));
  CHECK(d.count("SELECT count(*) FROM audit WHERE action = 'update'") > 0);
  CHECK(d.count("SELECT count(*) FROM audit WHERE action = 'delete'") > 0);
  CHECK(differences(d.db) == std::vector<std::string>{});
  CHECK(d.count("SELECT count(*) FROM audit_changes") > 1000);
  // A change made past the audit (its hook off, as sqlite3 by hand would be) is found.
  d.db.audit({});
  d.db.exec("UPDATE casegroups SET segment = 'Central Team' WHERE id = " +
            std::to_string(casegroup));
  const auto found = differences(d.db);
  REQUIRE(found.size() == 1);
  CHECK_THAT(found[0], Catch::Contains("casegroups: ") && Catch::Contains("Central Team"));
}

TEST_CASE("a change set says who and when once and each change only what it changed") {
  DurableEngine d;
  const auto sets = [&] { return d.count("SELECT count(*) FROM audit_sets"); };
  const auto sets_before = sets();
  {
    ActorScope actor(d.db, "user:olga");
    WhyScope why(d.db, "casekit client add");
    Transaction tx(d.db);
    d.db.exec(
        "INSERT INTO clients(nino, name, created_at) VALUES ('AB123456C', 'Ann Smith', "
        "'2026-11-20T09:00:00Z')");
    d.db.exec("UPDATE clients SET name = 'Ann Jones' WHERE nino = 'AB123456C'");
    d.db.exec("UPDATE clients SET name = 'Ann Jones' WHERE nino = 'AB123456C'");  // no change
    tx.commit();
  }
  CHECK(sets() == sets_before + 1);
  auto st = d.db.prepare(
      "SELECT actor, action, before, after, why FROM audit WHERE entity = 'clients' ORDER BY id");
  REQUIRE(st.step());
  CHECK(st.text(0) == "user:olga");
  CHECK(st.text(1) == "insert");
  CHECK(st.text(3).find("\"dob\"") == std::string::npos);  // NULL columns are not written
  CHECK(st.text(3).find("\"name\":\"Ann Smith\"") != std::string::npos);
  REQUIRE(st.step());
  CHECK(st.text(1) == "update");
  CHECK(st.text(2) == R"({"name":"Ann Smith"})");
  CHECK(st.text(3) == R"({"name":"Ann Jones"})");
  CHECK(st.text(4) == "casekit client add");
  CHECK_FALSE(st.step());  // the update that changed nothing is not a change
  CHECK(d.count("SELECT count(*) FROM audit_whys WHERE why = 'casekit client add'") == 1);
}

// Schema 36: a change names its table and columns by a shape and its action by number, and
// an inserted or deleted row is its values in the shape's columns' order.
TEST_CASE("a row is kept as its values in the order of its shape's columns") {
  DurableEngine d;
  {
    ActorScope actor(d.db, "user:olga");
    Transaction tx(d.db);
    d.db.exec(
        "INSERT INTO clients(nino, name, created_at) VALUES ('AB123456C', 'Ann \"Nan\" Smith', "
        "'2026-11-20T09:00:00Z')");
    d.db.exec("DELETE FROM clients WHERE nino = 'AB123456C'");
    tx.commit();
  }
  std::vector<std::string> columns;
  {
    auto st = d.db.prepare("SELECT name FROM pragma_table_info('clients') ORDER BY cid");
    while (st.step()) columns.push_back(st.text(0));
  }
  auto st = d.db.prepare(
      "SELECT c.action, c.before, c.after, sh.entity, sh.columns FROM audit_changes c "
      "JOIN audit_shapes sh ON sh.id = c.shape_id WHERE sh.entity = 'clients' ORDER BY c.id");
  REQUIRE(st.step());
  CHECK(st.integer(0) == 1);
  CHECK(st.is_null(1));
  CHECK(Json::parse(st.text(4)) == Json(columns));
  const Json inserted = Json::parse(st.text(2));
  REQUIRE(inserted.is_array());
  // The values by place, NULL columns in the middle as null and the trailing ones left off.
  const Json last = inserted.back();
  CHECK_FALSE(last.is_null());
  CHECK(inserted.size() <= columns.size());
  for (std::size_t i = 0; i < inserted.size(); ++i) {
    if (columns[i] == "name") CHECK(inserted[i] == "Ann \"Nan\" Smith");
    if (columns[i] == "nino") CHECK(inserted[i] == "AB123456C");
    if (columns[i] == "dob") CHECK(inserted[i].is_null());
  }
  REQUIRE(st.step());
  CHECK(st.integer(0) == 3);
  CHECK(Json::parse(st.text(1)) == inserted);  // the row deleted, as it was
  CHECK_FALSE(st.step());
  // The audit view reads the row as an object of its columns that are not NULL.
  auto view =
      d.db.prepare("SELECT action, after, before FROM audit WHERE entity = 'clients' ORDER BY id");
  REQUIRE(view.step());
  CHECK(view.text(0) == "insert");
  const Json object = Json::parse(view.text(1));
  CHECK(object["name"] == "Ann \"Nan\" Smith");
  CHECK(object["nino"] == "AB123456C");
  CHECK_FALSE(object.contains("dob"));
  REQUIRE(view.step());
  CHECK(view.text(0) == "delete");
  CHECK(Json::parse(view.text(2)) == object);
  // The columns a row follows are part of what its set's hash vouches for.
  CHECK(verify_audit(d.db).problem.empty());
  d.db.exec(
      "UPDATE audit_shapes SET columns = replace(columns, '\"name\"', '\"nino2\"') "
      "WHERE entity = 'clients'");
  d.db.exec(
      "UPDATE audit_shapes SET columns = replace(columns, '\"nino\"', '\"name\"') "
      "WHERE entity = 'clients'");
  CHECK_THAT(verify_audit(d.db).problem, Catch::Contains("does not match its hash"));
}

TEST_CASE("a why first given in a transaction that rolled back is given again") {
  DurableEngine d;
  WhyScope why(d.db, "a why never seen before");
  {
    Transaction tx(d.db);
    d.db.exec(
        "INSERT INTO clients(nino, name, created_at) VALUES ('AB123456C', 'Ann Smith', "
        "'2026-11-20T09:00:00Z')");
    d.db.flush_audit();  // the why is interned, then the transaction rolls back
  }
  CHECK(d.count("SELECT count(*) FROM audit_whys WHERE why = 'a why never seen before'") == 0);
  {
    Transaction tx(d.db);
    d.db.exec(
        "INSERT INTO clients(nino, name, created_at) VALUES ('AB123456C', 'Ann Smith', "
        "'2026-11-20T09:00:00Z')");
    tx.commit();
  }
  CHECK(d.count("SELECT count(*) FROM audit WHERE why = 'a why never seen before'") == 1);
}

TEST_CASE("an audit of whole rows (schema 28) is rewritten as change sets") {
  TempDir dir;
  SimulatedClock clock{parse_instant("2026-11-20T09:00:00Z")};
  Database db(dir.path() / "old.db", OpenMode::create);
  db.set_clock(&clock);
  migrate(db, 28);
  db.exec(R"sql(
INSERT INTO audit(id, at, actor, entity, entity_id, action, before, after, why) VALUES
 (5, '2026-11-20T09:00:00Z', 'user:olga', 'clients', 1, 'insert', NULL,
  '{"id":1,"nino":"AB123456C","name":"Ann Smith","dob":null}', 'casekit client add'),
 (6, '2026-11-20T09:00:00Z', 'user:olga', 'clients', 1, 'update',
  '{"id":1,"nino":"AB123456C","name":"Ann Smith","dob":null}',
  '{"id":1,"nino":"AB123456C","name":"Ann Jones","dob":null}', 'casekit client add'),
 (7, '2026-11-20T09:00:00Z', 'user:olga', 'clients', 1, 'update',
  '{"id":1,"nino":"AB123456C","name":"Ann Jones","dob":null}',
  '{"id":1,"nino":"AB123456C","name":"Ann Jones","dob":null}', NULL),
 (8, '2026-11-21T09:00:00Z', 'arrears_negotiation#3', 'sr_fields', 4, 'update',
  '{"sr_id":4,"name":"Reason","value":"first"}', '{"sr_id":4,"name":"Reason","value":"second"}',
  'procedures/arrears_negotiation.lua:12 SR:set_field'),
 (9, '2026-11-21T09:00:00Z', 'arrears_negotiation#3', 'casegroup_flags', 2, 'delete',
  '{"casegroup_id":2,"flag":"enforcement_monitoring","set_at":null}', NULL,
  'procedures/arrears_negotiation.lua:12 SR:set_field');
)sql");
  migrate(db);
  CHECK(schema_version(db) == latest_schema_version());
  auto st = db.prepare("SELECT id, at, actor, action, before, after, why FROM audit ORDER BY id");
  std::vector<std::string> rows;
  while (st.step()) {
    std::string row;
    for (int c = 0; c < 7; ++c) row += (st.is_null(c) ? "NULL" : st.text(c)) + " ";
    rows.push_back(row);
  }
  CHECK(rows == std::vector<std::string>{
                    "5 2026-11-20T09:00:00Z user:olga insert NULL "
                    R"({"id":1,"nino":"AB123456C","name":"Ann Smith"} casekit client add )",
                    "6 2026-11-20T09:00:00Z user:olga update "
                    R"({"name":"Ann Smith"} {"name":"Ann Jones"} casekit client add )",
                    "8 2026-11-21T09:00:00Z arrears_negotiation#3 update "
                    R"({"sr_id":4,"name":"Reason","value":"first"} )"
                    R"({"sr_id":4,"name":"Reason","value":"second"} )"
                    "procedures/arrears_negotiation.lua:12 SR:set_field ",
                    "9 2026-11-21T09:00:00Z arrears_negotiation#3 delete "
                    R"({"casegroup_id":2,"flag":"enforcement_monitoring"} NULL )"
                    "procedures/arrears_negotiation.lua:12 SR:set_field "});
  auto counts = db.prepare(
      "SELECT (SELECT count(*) FROM audit_sets), (SELECT count(*) FROM "
      "audit_whys)");
  counts.step();
  CHECK(counts.integer(0) == 2);
  CHECK(counts.integer(1) == 2);
  // Schema 31 chained the sets written before it, and later ones chain on.
  const auto chained = verify_audit(db);
  CHECK(chained.problem.empty());
  CHECK(chained.sets == 2);
  CHECK(chained.head.size() == 64);
  db.exec(
      "INSERT INTO clients(nino, name, created_at) VALUES ('AB654321C', 'Bo Ng', "
      "'2026-11-20T09:00:00Z')");
  const auto on = verify_audit(db);
  CHECK(on.problem.empty());
  CHECK(on.sets == 3);
  CHECK(on.head != chained.head);
}

TEST_CASE("the chain verified a page at a time finds what one walk finds") {
  DurableEngine d;
  for (const char* csa : {"CSA-0000001", "CSA-0000002", "CSA-0000003", "CSA-0000004"}) {
    ActorScope actor(d.db, std::string("user:") + csa);
    Transaction tx(d.db);
    d.family(csa);
    tx.commit();
  }
  const AuditVerification whole = verify_audit(d.db);
  REQUIRE(whole.problem.empty());
  REQUIRE(whole.sets >= 4);
  CHECK_FALSE(whole.next);
  // Pages of two sets: they add up to the one walk, and the last ends it.
  const auto walk = [&](std::int64_t page) {
    AuditVerification sum;
    AuditCursor from;
    for (int pages = 0; pages < 100; ++pages) {
      const AuditVerification v = verify_audit(d.db, from, page);
      sum.sets += v.sets;
      sum.changes += v.changes;
      sum.head = v.head;
      sum.bad_set = v.bad_set;
      sum.problem = v.problem;
      if (!v.next) break;
      CHECK(v.problem.empty());
      from = *v.next;
      CHECK(AuditCursor::parse(from.text())->change == from.change);
    }
    return sum;
  };
  const AuditVerification paged = walk(2);
  CHECK(paged.sets == whole.sets);
  CHECK(paged.changes == whole.changes);
  CHECK(paged.head == whole.head);
  CHECK(paged.problem.empty());

  // A change in the third set altered: the page that holds it names the set.
  d.db.exec(
      "UPDATE audit_changes SET after = replace(after, 'CSA-', 'CSX-') WHERE set_id = "
      "(SELECT id FROM audit_sets ORDER BY id LIMIT 1 OFFSET 2)");
  const AuditVerification tampered = walk(2);
  const AuditVerification tampered_whole = verify_audit(d.db);
  REQUIRE(tampered_whole.bad_set);
  CHECK(tampered.bad_set == tampered_whole.bad_set);
  CHECK_THAT(tampered.problem, Catch::Contains("does not match its hash"));

  // A page asked to start at a set that is gone.
  d.db.exec("PRAGMA foreign_keys = OFF");
  d.db.exec("DELETE FROM audit_changes WHERE set_id = 2");
  d.db.exec("DELETE FROM audit_sets WHERE id = 2");
  const AuditVerification gone = verify_audit(d.db, {2, 0}, 2);
  CHECK(gone.bad_set == 2);
  CHECK_THAT(gone.problem, Catch::Contains("is gone"));
  CHECK_FALSE(AuditCursor::parse("12"));
  CHECK_FALSE(AuditCursor::parse("1.x"));
  CHECK_FALSE(AuditCursor::parse("-1.2"));
  CHECK(AuditCursor::parse("12.340")->set == 12);
}
