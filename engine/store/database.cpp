#include "engine/store/database.hpp"

#include "engine/core/error.hpp"

namespace casekit {

Statement::~Statement() {
  if (stmt_) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Statement& Statement::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) db_->fail(rc, "bind");
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  int rc = sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                             SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) db_->fail(rc, "bind");
  return *this;
}

Statement& Statement::bind_null(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) db_->fail(rc, "bind");
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_->fail(rc, sqlite3_sql(stmt_));
}

void Statement::run() {
  while (step()) {
  }
}

std::int64_t Statement::integer(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string Statement::text(int column) const {
  const unsigned char* p = sqlite3_column_text(stmt_, column);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, column));
}

int Statement::columns() const {
  return sqlite3_column_count(stmt_);
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::optional<std::string> Statement::optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}

std::optional<std::int64_t> Statement::optional_integer(int column) const {
  if (is_null(column)) return std::nullopt;
  return integer(column);
}

namespace {

// Process-wide SQLite settings, applied once before the first connection opens. Memory
// statistics cost a mutex and a counter on every allocation, and nothing here reads them.
void configure_sqlite_once() {
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
}

}  // namespace

Database::Database(const std::filesystem::path& path, OpenMode mode) : path_(path) {
  configure_sqlite_once();
  if (mode == OpenMode::existing && !std::filesystem::exists(path)) {
    throw Error(ErrorCode::not_found,
                "no database at " + path.string() + " (create one with: casekit init)");
  }
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (mode == OpenMode::create) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(ErrorCode::storage, path.string() + ": cannot open database: " + message);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 5000);
  try {
    // Reading the schema is what detects a file that is not a database, or a corrupt header.
    exec("SELECT count(*) FROM sqlite_schema");
    exec("PRAGMA foreign_keys = ON");
    exec("PRAGMA journal_mode = WAL");
    exec("PRAGMA synchronous = FULL");
    // 32 MiB of page cache (the default is 2 MiB): a wake-up of many instances touches rows
    // all over the instances table.
    exec("PRAGMA cache_size = -32768");
    // Statement journals and the scratch tables SQLite builds for INSERT ... SELECT and
    // triggers stay in memory: as files they cost a create, writes and a delete per statement.
    exec("PRAGMA temp_store = MEMORY");
    register_functions();
  } catch (...) {
    cache_.clear();
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

Database::~Database() {
  cache_.clear();
  if (db_) sqlite3_close(db_);
}

void Database::fail(int rc, std::string_view what) const {
  std::string message = path_.string() + ": ";
  const int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    message += "database is locked by another process; try again when it has finished";
  } else if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT) {
    message += "database file is corrupt or not a casekit database (" +
               std::string(sqlite3_errstr(rc)) + ")";
  } else {
    message += db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    if (!what.empty()) message += " [" + std::string(what.substr(0, 120)) + "]";
  }
  const bool constraint = primary == SQLITE_CONSTRAINT;
  throw Error(constraint ? ErrorCode::conflict : ErrorCode::storage, message);
}

void Database::exec(std::string_view sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &err);
  if (err) sqlite3_free(err);
  if (rc != SQLITE_OK) fail(rc, sql);
}

Statement Database::prepare(std::string_view sql) {
  std::string key(sql);
  auto it = cache_.find(key);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, key.c_str(), static_cast<int>(key.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) fail(rc, sql);
    it = cache_.emplace(std::move(key), std::unique_ptr<sqlite3_stmt, Finalize>(stmt)).first;
  }
  return Statement(*this, it->second.get());
}

std::int64_t Database::last_insert_id() const {
  return sqlite3_last_insert_rowid(db_);
}

int Database::changes() const {
  return sqlite3_changes(db_);
}

void Database::register_functions() {
  auto actor = [](sqlite3_context* ctx, int, sqlite3_value**) {
    auto* self = static_cast<Database*>(sqlite3_user_data(ctx));
    sqlite3_result_text(ctx, self->actor_.c_str(), static_cast<int>(self->actor_.size()),
                        SQLITE_TRANSIENT);
  };
  auto now = [](sqlite3_context* ctx, int, sqlite3_value**) {
    auto* self = static_cast<Database*>(sqlite3_user_data(ctx));
    if (!self->clock_) {
      sqlite3_result_error(ctx, "casekit_now(): no engine clock set", -1);
      return;
    }
    std::string t = format_instant(self->clock_->now());
    sqlite3_result_text(ctx, t.c_str(), static_cast<int>(t.size()), SQLITE_TRANSIENT);
  };
  int rc =
      sqlite3_create_function(db_, "casekit_actor", 0, SQLITE_UTF8, this, actor, nullptr, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_create_function(db_, "casekit_now", 0, SQLITE_UTF8, this, now, nullptr, nullptr);
  }
  if (rc != SQLITE_OK) fail(rc, "register functions");
}

Transaction::Transaction(Database& db) : db_(db) {
  db_.exec("BEGIN IMMEDIATE");
}

Transaction::~Transaction() {
  if (!done_) {
    // A failed rollback leaves SQLite to roll back on close; nothing useful to throw here.
    sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

// Prepared (and so cached) rather than exec'd: a batch opens one per activation.
Savepoint::Savepoint(Database& db) : db_(db) {
  db_.prepare("SAVEPOINT activation").run();
}

Savepoint::~Savepoint() {
  if (!done_) {
    sqlite3_exec(db_.handle(), "ROLLBACK TO activation; RELEASE activation", nullptr, nullptr,
                 nullptr);
  }
}

void Savepoint::release() {
  db_.prepare("RELEASE activation").run();
  done_ = true;
}

}  // namespace casekit
