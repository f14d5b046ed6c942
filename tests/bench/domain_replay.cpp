#include "tests/bench/domain_replay.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <vector>

#include "engine/store/database.hpp"

namespace casekit::bench {
namespace {

constexpr const char* kMachinery[] = {
    "instances",      "instance_activations", "script_lines", "procedure_sources", "incidents",
    "audit_sets",     "audit_changes",        "audit_whys",   "audit_shapes",      "libraries",
    "library_modules"};
// Filled by triggers on the tables they index or count, in the copy as in the import.
constexpr const char* kTriggerFilled[] = {"work_item_counts", "casegroup_name_keys"};
// What the domain's foreign keys name among the machinery, copied before the clock starts.
constexpr const char* kReferenced[] = {"procedure_sources", "libraries", "library_modules",
                                       "instances"};
constexpr std::size_t kChunk = 5000;  // rows read (untimed) before they are written (timed)

struct FreeValue {
  void operator()(sqlite3_value* v) const { sqlite3_value_free(v); }
};
using Value = std::unique_ptr<sqlite3_value, FreeValue>;

struct Stmt {
  explicit Stmt(Database& db, const std::string& sql) {
    if (sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
      db.fail(sqlite3_errcode(db.handle()), sql);
    }
  }
  ~Stmt() { sqlite3_finalize(raw); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  sqlite3_stmt* raw = nullptr;
};

std::vector<std::string> domain_tables(Database& db) {
  std::vector<std::string> out;
  auto st = db.prepare(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
      "ORDER BY name");
  while (st.step()) {
    const std::string name = st.text(0);
    if (is_domain_table(name)) out.push_back(name);
  }
  return out;
}

// The tables in an order where each comes after those its foreign keys name (a table that
// names itself, an SR naming its parent SR, is written in id order, parents first).
std::vector<std::string> in_key_order(Database& db, std::vector<std::string> tables) {
  std::vector<std::string> ordered;
  std::set<std::string> placed;
  while (!tables.empty()) {
    const auto ready = std::find_if(tables.begin(), tables.end(), [&](const std::string& t) {
      auto st = db.prepare("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1)");
      st.bind(1, t);
      while (st.step()) {
        const std::string parent = st.text(0);
        if (parent != t && is_domain_table(parent) && !placed.contains(parent)) return false;
      }
      return true;
    });
    if (ready == tables.end()) db.fail(SQLITE_ERROR, "domain tables' foreign keys form a cycle");
    placed.insert(*ready);
    ordered.push_back(*ready);
    tables.erase(ready);
  }
  return ordered;
}

std::int64_t count_rows(Database& db, const std::string& table) {
  auto st = db.prepare("SELECT count(*) FROM \"" + table + "\"");
  st.step();
  return st.integer(0);
}

}  // namespace

bool is_domain_table(const std::string& name) {
  return std::none_of(std::begin(kMachinery), std::end(kMachinery),
                      [&](const char* t) { return name == t; });
}

DomainReplay replay_domain_rows(const std::filesystem::path& from, const std::filesystem::path& to,
                                std::int64_t transactions) {
  Database source(from, OpenMode::existing);
  Database copy(to, OpenMode::existing);
  copy.audit({});
  // The machinery names casegroups in turn (an instance's casegroup): copied with the keys
  // unchecked, as they were checked when the import wrote them.
  copy.exec("PRAGMA foreign_keys = OFF");
  copy.exec("ATTACH DATABASE '" + from.string() + "' AS src");
  for (const char* t : kReferenced) {
    copy.exec(std::string("INSERT INTO main.") + t + " SELECT * FROM src." + t);
  }
  copy.exec("DETACH DATABASE src");
  copy.exec("PRAGMA foreign_keys = ON");

  std::vector<std::string> tables = domain_tables(source);
  std::erase_if(tables, [](const std::string& t) {
    return std::any_of(std::begin(kTriggerFilled), std::end(kTriggerFilled),
                       [&](const char* f) { return t == f; });
  });
  tables = in_key_order(source, tables);
  std::int64_t total = 0;
  for (const auto& t : tables) total += count_rows(source, t);
  const std::int64_t per_commit =
      std::max<std::int64_t>(1, total / std::max<std::int64_t>(1, transactions));

  using Stopwatch = std::chrono::steady_clock;
  Stopwatch::duration spent{};
  std::int64_t in_transaction = 0;
  copy.exec("BEGIN IMMEDIATE");
  for (const auto& table : tables) {
    Stmt read(source, "SELECT * FROM \"" + table + "\"");
    const int columns = sqlite3_column_count(read.raw);
    std::string sql = "INSERT INTO \"" + table + "\" VALUES (";
    for (int c = 0; c < columns; ++c) sql += c ? ", ?" : "?";
    Stmt write(copy, sql + ")");
    bool more = true;
    while (more) {
      std::vector<std::vector<Value>> rows;
      while (rows.size() < kChunk && (more = sqlite3_step(read.raw) == SQLITE_ROW)) {
        auto& row = rows.emplace_back();
        for (int c = 0; c < columns; ++c) {
          row.emplace_back(sqlite3_value_dup(sqlite3_column_value(read.raw, c)));
        }
      }
      const auto t0 = Stopwatch::now();
      for (const auto& row : rows) {
        for (int c = 0; c < columns; ++c) sqlite3_bind_value(write.raw, c + 1, row[c].get());
        if (sqlite3_step(write.raw) != SQLITE_DONE) {
          copy.fail(sqlite3_errcode(copy.handle()), "replaying " + table);
        }
        sqlite3_reset(write.raw);
        if (++in_transaction == per_commit) {
          copy.exec("COMMIT");
          copy.exec("BEGIN IMMEDIATE");
          in_transaction = 0;
        }
      }
      spent += Stopwatch::now() - t0;
    }
  }
  const auto t0 = Stopwatch::now();
  copy.exec("COMMIT");
  spent += Stopwatch::now() - t0;

  DomainReplay out;
  out.seconds = std::chrono::duration<double>(spent).count();
  copy.exec("ATTACH DATABASE '" + from.string() + "' AS src");
  for (const auto& t : domain_tables(copy)) {
    auto st = copy.prepare("SELECT (SELECT count(*) FROM (SELECT * FROM main.\"" + t +
                           "\" EXCEPT SELECT * FROM src.\"" + t +
                           "\")) + (SELECT count(*) FROM (SELECT * FROM src.\"" + t +
                           "\" EXCEPT SELECT * FROM main.\"" + t + "\"))");
    st.step();
    if (st.integer(0) != 0) out.differing.push_back(t);
  }
  copy.exec("DETACH DATABASE src");
  return out;
}

}  // namespace casekit::bench
