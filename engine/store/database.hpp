// A small RAII layer over SQLite: one connection, cached prepared statements, and
// transactions that roll back unless committed. Every SQLite failure becomes a
// casekit::Error with code storage, naming the database file.
#pragma once

#include <sqlite3.h>

#include <array>
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "engine/core/time.hpp"

namespace casekit {

class Database;

// Bytes that are not text (a compressed history): bound as an SQLite BLOB, copied.
struct Blob {
  std::string_view bytes;
};

// A prepared statement borrowed from the connection's cache; reset when it goes out of scope.
class Statement {
 public:
  Statement(Database& db, sqlite3_stmt* stmt) : db_(&db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
    other.stmt_ = nullptr;
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQLite.
  Statement& bind(int index, std::int64_t value);
  // Every other integer type (int, long long, bool, ...) binds as a 64-bit integer.
  template <std::integral T>
  requires(!std::same_as<T, std::int64_t>) Statement& bind(int index, T value) {
    return bind(index, static_cast<std::int64_t>(value));
  }
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const std::string& value) {
    return bind(index, std::string_view(value));
  }
  Statement& bind_null(int index);
  Statement& bind(int index, Blob value);
  // Text SQLite reads in place instead of copying: the caller keeps it alive and unchanged
  // until the statement has run. For the hot paths that bind large texts they already hold
  // (an instance's history and input); everywhere else, bind() is the safe choice.
  Statement& bind_unowned(int index, std::string_view value);
  Statement& bind_unowned(int index, const std::string& value) {
    return bind_unowned(index, std::string_view(value));
  }
  Statement& bind_unowned(int index, const std::optional<std::string>& value) {
    return value ? bind_unowned(index, std::string_view(*value)) : bind_null(index);
  }
  template <typename T>
  Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }
  // Binds each argument in order, from parameter 1.
  template <typename... Args>
  Statement& bind_all(const Args&... args) {
    int i = 0;
    (bind(++i, args), ...);
    return *this;
  }

  // Advances to the next row; false when done.
  bool step();
  // Runs a statement that returns no rows.
  void run();

  std::int64_t integer(int column) const;
  std::string text(int column) const;
  bool is_null(int column) const;
  int columns() const;
  std::optional<std::string> optional_text(int column) const;
  std::optional<std::int64_t> optional_integer(int column) const;
  // A BLOB column's bytes, good until the statement steps again or is reset.
  std::string_view blob(int column) const;

 private:
  friend class Database;
  Database* db_;
  sqlite3_stmt* stmt_;
};

enum class OpenMode { create, existing };

// Lets the maps below be searched with a string_view (SQL text, a table name SQLite hands
// over) without making a std::string of it first.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// A table whose every change is written to the audit: its columns in order, and the one
// whose value names the row (the primary key, or its first column). A table keyed by more
// than one column (an SR's fields by SR and name) lists them, so that an update's change
// can say which row it changed.
struct AuditedTable {
  std::string name;
  std::vector<std::string> columns;
  int id_column = 0;
  std::vector<int> key_columns = {};
};

class Database {
 public:
  // Opens (or with OpenMode::create, creates) the file, sets WAL and foreign keys, and
  // checks the file really is a SQLite database.
  Database(const std::filesystem::path& path, OpenMode mode);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(std::string_view sql);
  Statement prepare(std::string_view sql);
  std::int64_t last_insert_id() const;
  int changes() const;
  const std::filesystem::path& path() const { return path_; }
  sqlite3* handle() { return db_; }

  // Audit: from now on every insert, update and delete on these tables is captured as it
  // happens (SQLite's pre-update hook: what it changed, who, when, why) and written to
  // the audit tables (change sets: audit_sets, audit_changes, audit_whys; the `audit` view
  // reads them as one row a change) in the same transaction, when the transaction or
  // savepoint that made it commits. A write outside any transaction is wrapped in one of its own,
  // and a commit that would leave captured changes unwritten is refused, so no change commits
  // unaudited.
  void audit(std::vector<AuditedTable> tables);
  // Writes the captured changes (Transaction and Savepoint call this before they commit).
  void flush_audit();
  // Forgets captured changes whose writes were rolled back.
  void discard_audit();

  // Texts that repeat on many rows, each kept once in a table of (id INTEGER PRIMARY KEY,
  // <column> TEXT NOT NULL UNIQUE) and named by its id: an audit change's why, a history
  // command's script line.
  enum class Interned { audit_whys, script_lines };
  // The id of `text` in that table, added the first time it is given. Ids are remembered
  // until a rollback, which may have undone the insert.
  std::int64_t intern(Interned table, const std::string& text);

  // Who and when for the audit and for SQL functions casekit_actor() and casekit_now().
  void set_actor(std::string actor) { actor_ = std::move(actor); }
  const std::string& actor() const { return actor_; }
  // Why, for the audit: the command, the route, or the procedure's script line that made
  // the change; empty when nobody said.
  void set_why(std::string why) { why_ = std::move(why); }
  const std::string& why() const { return why_; }
  void set_clock(const Clock* clock) { clock_ = clock; }
  const Clock* clock() const { return clock_; }

  [[noreturn]] void fail(int rc, std::string_view what) const;

  // A number for the Transaction open on this connection that no other Transaction of it
  // had; 0 when none is open. Lets a caller do a thing once per transaction.
  std::uint64_t transaction_serial() const { return transaction_serial_; }

 private:
  void register_functions();
  static void on_preupdate(void* self, sqlite3* db, int op, const char* schema, const char* table,
                           sqlite3_int64 old_key, sqlite3_int64 new_key);
  static int on_commit(void* self);
  static void on_rollback(void* self);
  void write_audit_row(Statement& st);
  struct CapturedChange;
  void write_change(std::int64_t set_id, const CapturedChange& c);
  void forget_interned();
  friend class Statement;
  friend class Transaction;

  // Transaction numbers: the one open (0 for none) and the last given.
  std::uint64_t transaction_serial_ = 0;
  std::uint64_t transactions_begun_ = 0;

  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
  std::string actor_ = "system";
  std::string why_;
  const Clock* clock_ = nullptr;
  struct Finalize {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, Finalize>, StringHash,
                     std::equal_to<>>
      cache_;

  // Each audited table by name, with its columns as they begin a JSON member ("name":),
  // and its shape as the audit names it: the table and its columns (a JSON list), which an
  // inserted or deleted row's values follow by place. `id` is the shape's row in
  // audit_shapes, looked up (or added) when first written and forgotten on a rollback.
  struct AuditShape {
    const AuditedTable* table;
    std::vector<std::string> members;
    std::string columns;
    std::int64_t id = 0;
  };
  struct CapturedChange {
    std::string at;
    std::string actor;
    std::string why;
    AuditShape* shape;
    std::variant<std::monostate, std::int64_t, std::string> entity_id;
    const char* action;
    std::optional<std::string> before;
    std::optional<std::string> after;
  };
  std::int64_t shape_id(AuditShape& shape);
  std::vector<AuditedTable> audited_;
  std::unordered_map<std::string, AuditShape, StringHash, std::equal_to<>> audit_shapes_;
  Instant audit_instant_{};  // the last instant formatted for the audit, and its text
  std::string audit_at_;
  std::vector<CapturedChange> pending_;
  // The ids of interned texts, one map for each Interned table.
  std::array<std::unordered_map<std::string, std::int64_t, StringHash, std::equal_to<>>, 2>
      interned_;
  bool flushing_ = false;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit() was called.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Database& db_;
  bool done_ = false;
};

// A nested unit inside a transaction: SAVEPOINT on construction, ROLLBACK TO (and RELEASE)
// on destruction unless release() was called. Lets one activation in a batch fail without
// losing the others.
class Savepoint {
 public:
  explicit Savepoint(Database& db);
  ~Savepoint();
  Savepoint(const Savepoint&) = delete;
  Savepoint& operator=(const Savepoint&) = delete;
  void release();

 private:
  Database& db_;
  bool done_ = false;
};

// Sets one of the audit's fields (who, or why) for a scope and restores the one before.
template <const std::string& (Database::*Get)() const, void (Database::*Set)(std::string)>
class AuditFieldScope {
 public:
  AuditFieldScope(Database& db, std::string value) : db_(db), previous_((db.*Get)()) {
    (db_.*Set)(std::move(value));
  }
  ~AuditFieldScope() { (db_.*Set)(previous_); }
  AuditFieldScope(const AuditFieldScope&) = delete;
  AuditFieldScope& operator=(const AuditFieldScope&) = delete;

 private:
  Database& db_;
  std::string previous_;
};

using ActorScope = AuditFieldScope<&Database::actor, &Database::set_actor>;
using WhyScope = AuditFieldScope<&Database::why, &Database::set_why>;

}  // namespace casekit
