#include "engine/store/database.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "engine/core/error.hpp"
#include "engine/store/audit_chain.hpp"

namespace casekit {

namespace {

// Statements that must not (or cannot) run inside a transaction opened for their audit.
bool controls_transactions(std::string_view sql) {
  const auto start = sql.find_first_not_of(" \t\n");
  if (start == std::string_view::npos) return true;
  std::string word;
  for (auto i = start; i < sql.size() && std::isalpha(static_cast<unsigned char>(sql[i])); ++i) {
    word += static_cast<char>(std::toupper(static_cast<unsigned char>(sql[i])));
  }
  for (const char* w :
       {"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA", "VACUUM"}) {
    if (word == w) return true;
  }
  return false;
}

}  // namespace

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

Statement& Statement::bind_unowned(int index, std::string_view value) {
  int rc =
      sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
  if (rc != SQLITE_OK) db_->fail(rc, "bind");
  return *this;
}

Statement& Statement::bind(int index, Blob value) {
  int rc = sqlite3_bind_blob(stmt_, index, value.bytes.data(), static_cast<int>(value.bytes.size()),
                             SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) db_->fail(rc, "bind");
  return *this;
}

std::string_view Statement::blob(int column) const {
  const void* p = sqlite3_column_blob(stmt_, column);
  if (!p) return {};
  return {static_cast<const char*>(p),
          static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

Statement& Statement::bind_null(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) db_->fail(rc, "bind");
  return *this;
}

bool Statement::step() {
  // A change made outside any transaction gets one of its own, so that its audit rows
  // commit with it (transaction control statements count as read-only).
  if (!db_->audited_.empty() && !sqlite3_stmt_readonly(stmt_) &&
      sqlite3_get_autocommit(db_->handle()) && !controls_transactions(sqlite3_sql(stmt_))) {
    Transaction tx(*db_);
    int rc = sqlite3_step(stmt_);
    while (rc == SQLITE_ROW) rc = sqlite3_step(stmt_);
    if (rc != SQLITE_DONE) db_->fail(rc, sqlite3_sql(stmt_));
    tx.commit();
    return false;
  }
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
  if (!audited_.empty() && sqlite3_get_autocommit(db_) && !controls_transactions(sql)) {
    Transaction tx(*this);
    exec(sql);
    tx.commit();
    return;
  }
  char* err = nullptr;
  int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &err);
  if (err) sqlite3_free(err);
  if (rc != SQLITE_OK) fail(rc, sql);
}

Statement Database::prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) fail(rc, sql);
    it = cache_.emplace(std::string(sql), std::unique_ptr<sqlite3_stmt, Finalize>(stmt)).first;
  }
  return Statement(*this, it->second.get());
}

std::int64_t Database::last_insert_id() const {
  return sqlite3_last_insert_rowid(db_);
}

int Database::changes() const {
  return sqlite3_changes(db_);
}

namespace {

// One SQL value as JSON, as SQLite's json_object() would write it.
void append_json(std::string& out, sqlite3_value* v) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
      out += std::to_string(sqlite3_value_int64(v));
      return;
    case SQLITE_FLOAT: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", sqlite3_value_double(v));
      out += buf;
      return;
    }
    case SQLITE_TEXT: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(v));
      const int n = sqlite3_value_bytes(v);
      out += '"';
      int plain_from = 0;  // the run of characters that need no escape, appended at once
      for (int i = 0; i < n; ++i) {
        const unsigned char c = static_cast<unsigned char>(p[i]);
        if (c != '"' && c != '\\' && c >= 0x20) continue;
        out.append(p + plain_from, static_cast<std::size_t>(i - plain_from));
        plain_from = i + 1;
        if (c == '"' || c == '\\') {
          out += '\\';
          out += static_cast<char>(c);
        } else if (c == '\n') {
          out += "\\n";
        } else {
          char esc[8];
          std::snprintf(esc, sizeof esc, "\\u%04x", c);
          out += esc;
        }
      }
      out.append(p + plain_from, static_cast<std::size_t>(n - plain_from));
      out += '"';
      return;
    }
    default:  // NULL; audited tables hold no BLOBs
      out += "null";
  }
}

}  // namespace

void Database::audit(std::vector<AuditedTable> tables) {
  flush_audit();
  audited_ = std::move(tables);
  audit_shapes_.clear();
  for (const auto& t : audited_) {
    AuditShape shape{&t, {}, "[", 0};
    for (const auto& column : t.columns) {
      shape.members.push_back('"' + column + "\":");
      shape.columns += (shape.columns.size() == 1 ? "\"" : ",\"") + column + '"';
    }
    shape.columns += "]";
    audit_shapes_.emplace(t.name, std::move(shape));
  }
  sqlite3_preupdate_hook(db_, audited_.empty() ? nullptr : &Database::on_preupdate, this);
  sqlite3_commit_hook(db_, audited_.empty() ? nullptr : &Database::on_commit, this);
  sqlite3_rollback_hook(db_, audited_.empty() ? nullptr : &Database::on_rollback, this);
}

namespace {

// Whether an update left a column as it was: same type and same value (SQLite compares a
// text or blob byte for byte, as the audit would write it).
bool same_value(sqlite3_value* a, sqlite3_value* b) {
  const int type = sqlite3_value_type(a);
  if (type != sqlite3_value_type(b)) return false;
  switch (type) {
    case SQLITE_NULL:
      return true;
    case SQLITE_INTEGER:
      return sqlite3_value_int64(a) == sqlite3_value_int64(b);
    case SQLITE_FLOAT:
      return sqlite3_value_double(a) == sqlite3_value_double(b);
    default: {
      // An empty text or blob has no bytes to point at: SQLite gives NULL for it, which
      // memcmp may not be given even with a length of 0.
      const int n = sqlite3_value_bytes(a);
      if (n != sqlite3_value_bytes(b)) return false;
      return n == 0 || std::memcmp(sqlite3_value_blob(a), sqlite3_value_blob(b),
                                   static_cast<std::size_t>(n)) == 0;
    }
  }
}

}  // namespace

// A change is written as only what it changed: an insert's row, an update's changed columns
// before and after, a delete's row as it was. Together with the row's id that is enough to
// rebuild every audited table from the audit alone (tests/audit_test.cpp does), at a
// fraction of whole-row images. A row is a JSON list of its values in the order of its
// shape's columns (schema 36), its trailing NULLs left off: the column names were a third
// of an insert. An update names the columns it changed.
void Database::on_preupdate(void* self_ptr, sqlite3* db, int op, const char* schema,
                            const char* table, sqlite3_int64, sqlite3_int64) {
  auto* self = static_cast<Database*>(self_ptr);
  if (std::strcmp(schema, "main") != 0) return;
  const auto shape = self->audit_shapes_.find(std::string_view(table));
  if (shape == self->audit_shapes_.end()) return;
  const AuditedTable* t = shape->second.table;
  const auto& members = shape->second.members;
  const auto value = [db](bool old_row, std::size_t i) {
    sqlite3_value* v = nullptr;
    const int rc = old_row ? sqlite3_preupdate_old(db, static_cast<int>(i), &v)
                           : sqlite3_preupdate_new(db, static_cast<int>(i), &v);
    return rc == SQLITE_OK ? v : nullptr;
  };
  const auto add_member = [&](std::string& out, std::size_t i, sqlite3_value* v) {
    out += out.size() == 1 ? "" : ",";
    out += members[i];
    append_json(out, v);
  };
  AuditShape& audit_shape = shape->second;
  CapturedChange change;
  if (op == SQLITE_UPDATE) {
    std::string before = "{", after = "{";
    bool changed = false;
    for (std::size_t i = 0; i < t->columns.size(); ++i) {
      sqlite3_value* old_v = value(true, i);
      sqlite3_value* new_v = value(false, i);
      if (!old_v || !new_v) continue;
      const bool same = same_value(old_v, new_v);
      const bool names_row =
          t->key_columns.size() > 1 && std::find(t->key_columns.begin(), t->key_columns.end(),
                                                 static_cast<int>(i)) != t->key_columns.end();
      if (same && !names_row) continue;
      changed = changed || !same;
      add_member(before, i, old_v);
      add_member(after, i, new_v);
    }
    if (!changed) return;  // an update that changed nothing changed nothing
    change.before = before + "}";
    change.after = after + "}";
  } else {
    std::string row = "[";
    row.reserve(256);
    std::size_t values_end = row.size();  // after the last value that is not NULL
    for (std::size_t i = 0; i < t->columns.size(); ++i) {
      if (i > 0) row += ',';
      sqlite3_value* v = value(op == SQLITE_DELETE, i);
      if (v && sqlite3_value_type(v) != SQLITE_NULL) {
        append_json(row, v);
        values_end = row.size();
      } else {
        row += "null";
      }
    }
    row.resize(values_end);
    (op == SQLITE_DELETE ? change.before : change.after) = row + "]";
  }
  if (self->clock_) {
    const Instant now = self->clock_->now();
    if (self->audit_at_.empty() || now != self->audit_instant_) {
      self->audit_instant_ = now;
      self->audit_at_ = format_instant(now);
    }
    change.at = self->audit_at_;
  }
  change.actor = self->actor_;
  change.why = self->why_;
  change.shape = &audit_shape;
  change.action = op == SQLITE_INSERT ? "insert" : op == SQLITE_DELETE ? "delete" : "update";
  sqlite3_value* id = value(op == SQLITE_DELETE, static_cast<std::size_t>(t->id_column));
  if (id) {
    if (sqlite3_value_type(id) == SQLITE_INTEGER) {
      change.entity_id = static_cast<std::int64_t>(sqlite3_value_int64(id));
    } else if (sqlite3_value_type(id) == SQLITE_TEXT) {
      change.entity_id = std::string(reinterpret_cast<const char*>(sqlite3_value_text(id)));
    }
  }
  self->pending_.push_back(std::move(change));
}

// The last line of defence: a commit with captured changes still unwritten (a COMMIT run
// by hand, past Transaction) is turned into a rollback.
int Database::on_commit(void* self_ptr) {
  auto* self = static_cast<Database*>(self_ptr);
  if (self->pending_.empty()) return 0;
  self->pending_.clear();
  return 1;
}

// A rolled-back transaction may have taken interned texts with it.
void Database::on_rollback(void* self_ptr) {
  static_cast<Database*>(self_ptr)->forget_interned();
}

void Database::forget_interned() {
  for (auto& ids : interned_) ids.clear();
  for (auto& [name, shape] : audit_shapes_) shape.id = 0;
}

void Database::discard_audit() {
  pending_.clear();
  forget_interned();
}

// Stepped directly, not through Statement::run: these writes are the audit itself (or the
// texts it names), inside the transaction they belong to.
void Database::write_audit_row(Statement& st) {
  const int rc = sqlite3_step(st.stmt_);
  if (rc != SQLITE_DONE) fail(rc, "write audit");
}

std::int64_t Database::intern(Interned table, const std::string& text) {
  static constexpr std::array<std::array<const char*, 2>, 2> kSql = {{
      {"SELECT id FROM audit_whys WHERE why = ?1", "INSERT INTO audit_whys(why) VALUES (?1)"},
      {"SELECT id FROM script_lines WHERE line = ?1", "INSERT INTO script_lines(line) VALUES (?1)"},
  }};
  auto& ids = interned_[static_cast<std::size_t>(table)];
  if (const auto it = ids.find(text); it != ids.end()) return it->second;
  const auto& sql = kSql[static_cast<std::size_t>(table)];
  std::int64_t id = 0;
  {
    auto find = prepare(sql[0]);
    find.bind(1, text);
    if (sqlite3_step(find.stmt_) == SQLITE_ROW) id = sqlite3_column_int64(find.stmt_, 0);
  }
  if (id == 0) {
    // Callers read last_insert_id() after their own write, not after this one.
    const sqlite3_int64 last_insert = sqlite3_last_insert_rowid(db_);
    auto add = prepare(sql[1]);
    add.bind(1, text);
    write_audit_row(add);
    id = sqlite3_last_insert_rowid(db_);
    sqlite3_set_last_insert_rowid(db_, last_insert);
  }
  ids.emplace(text, id);
  return id;
}

// Consecutive changes made at one instant by one actor (an activation, a command, a
// request) share one change set, which says who and when once, and carries the hash that
// chains it to the set before (audit_chain.hpp).
void Database::flush_audit() {
  if (pending_.empty() || flushing_) return;
  flushing_ = true;
  // Callers read last_insert_id() after the write that was audited, not after its audit.
  const sqlite3_int64 last_insert = sqlite3_last_insert_rowid(db_);
  try {
    std::string previous;
    {
      auto last = prepare("SELECT hash FROM audit_sets ORDER BY id DESC LIMIT 1");
      if (sqlite3_step(last.stmt_) == SQLITE_ROW) previous = last.optional_text(0).value_or("");
    }
    for (auto first = pending_.begin(); first != pending_.end();) {
      auto end = first;
      while (end != pending_.end() && end->at == first->at && end->actor == first->actor) ++end;
      AuditSetHash hash(previous, first->at, first->actor);
      for (auto c = first; c != end; ++c) {
        const auto* n = std::get_if<std::int64_t>(&c->entity_id);
        const auto* text = std::get_if<std::string>(&c->entity_id);
        hash.change(c->shape->table->name,
                    n      ? AuditSetHash::integer_id(*n)
                    : text ? AuditSetHash::text_id(*text)
                           : std::string("n"),
                    c->action, c->before, c->after, c->why, c->shape->columns);
      }
      previous = hash.hex();
      auto set = prepare("INSERT INTO audit_sets(at, actor, hash) VALUES (?1, ?2, ?3)");
      set.bind_all(first->at, first->actor, previous);
      write_audit_row(set);
      const std::int64_t set_id = sqlite3_last_insert_rowid(db_);
      for (auto c = first; c != end; ++c) write_change(set_id, *c);
      first = end;
    }
  } catch (...) {
    sqlite3_set_last_insert_rowid(db_, last_insert);
    flushing_ = false;
    throw;
  }
  sqlite3_set_last_insert_rowid(db_, last_insert);
  pending_.clear();
  flushing_ = false;
}

// The id of a shape in audit_shapes, added the first time a change of it is written.
std::int64_t Database::shape_id(AuditShape& shape) {
  if (shape.id != 0) return shape.id;
  {
    auto find = prepare("SELECT id FROM audit_shapes WHERE entity = ?1 AND columns = ?2");
    find.bind_all(shape.table->name, shape.columns);
    if (sqlite3_step(find.stmt_) == SQLITE_ROW) shape.id = sqlite3_column_int64(find.stmt_, 0);
  }
  if (shape.id == 0) {
    auto add = prepare("INSERT INTO audit_shapes(entity, columns) VALUES (?1, ?2)");
    add.bind_all(shape.table->name, shape.columns);
    write_audit_row(add);
    shape.id = sqlite3_last_insert_rowid(db_);
  }
  return shape.id;
}

void Database::write_change(std::int64_t set_id, const CapturedChange& c) {
  const std::int64_t shape = shape_id(*c.shape);
  auto st = prepare(
      "INSERT INTO audit_changes(set_id, shape_id, entity_id, action, before, after, why_id) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  st.bind_all(set_id, shape);
  if (const auto* n = std::get_if<std::int64_t>(&c.entity_id)) {
    st.bind(3, *n);
  } else if (const auto* text = std::get_if<std::string>(&c.entity_id)) {
    st.bind(3, *text);
  } else {
    st.bind_null(3);
  }
  // 1 insert, 2 update, 3 delete: the audit view names them.
  const std::int64_t action = c.action[0] == 'i' ? 1 : c.action[0] == 'u' ? 2 : 3;
  st.bind(4, action).bind(5, c.before).bind(6, c.after);
  if (c.why.empty()) {
    st.bind_null(7);
  } else {
    st.bind(7, intern(Interned::audit_whys, c.why));
  }
  write_audit_row(st);
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
  db_.transaction_serial_ = ++db_.transactions_begun_;
}

Transaction::~Transaction() {
  if (!done_) {
    // A failed rollback leaves SQLite to roll back on close; nothing useful to throw here.
    sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    db_.discard_audit();
    db_.transaction_serial_ = 0;
  }
}

void Transaction::commit() {
  db_.flush_audit();
  db_.exec("COMMIT");
  db_.transaction_serial_ = 0;
  done_ = true;
}

// Prepared (and so cached) rather than exec'd: a batch opens one per activation. The audit
// captured before the savepoint is written first, so that rolling the savepoint back
// forgets exactly the changes it undoes.
Savepoint::Savepoint(Database& db) : db_(db) {
  db_.flush_audit();
  db_.prepare("SAVEPOINT activation").run();
}

Savepoint::~Savepoint() {
  if (!done_) {
    sqlite3_exec(db_.handle(), "ROLLBACK TO activation; RELEASE activation", nullptr, nullptr,
                 nullptr);
    db_.discard_audit();
  }
}

void Savepoint::release() {
  db_.flush_audit();
  db_.prepare("RELEASE activation").run();
  done_ = true;
}

}  // namespace casekit
