#include "engine/durable/instance_store.hpp"
#include "engine/core/json.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <unordered_map>

#include "engine/core/error.hpp"
#include "engine/store/history_blob.hpp"
#include "engine/store/row_format.hpp"

namespace casekit {

std::string source_hash(std::string_view source) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : source) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

std::string library_hash(const LibraryFiles& files) {
  std::string manifest;
  for (const auto& [file, text] : files)
    manifest.append(file).append("\n").append(source_hash(text)).append("\n");
  return source_hash(manifest);
}

std::string InstanceStore::keep_source(const std::string& procedure, const std::string& file,
                                       const std::string& source) {
  const std::string hash = source_hash(source);
  auto st = db_.prepare("SELECT source FROM procedure_sources WHERE hash = ?1");
  st.bind(1, hash);
  if (st.step()) {
    if (st.text(0) != source) {
      throw Error(ErrorCode::conflict, "two procedure sources share hash " + hash +
                                           "; change the new source (even a comment) and retry");
    }
    return hash;
  }
  db_.prepare(
         "INSERT INTO procedure_sources(hash, name, file, source, created_at) "
         "VALUES (?1, ?2, ?3, ?4, ?5)")
      .bind_all(hash, procedure, file, source, now())
      .run();
  return hash;
}

bool InstanceStore::has_source(const std::string& hash) {
  auto st = db_.prepare("SELECT 1 FROM procedure_sources WHERE hash = ?1");
  st.bind(1, hash);
  return st.step();
}

std::string InstanceStore::source(const std::string& hash) {
  auto st = db_.prepare("SELECT source FROM procedure_sources WHERE hash = ?1");
  st.bind(1, hash);
  if (!st.step()) throw Error(ErrorCode::not_found, "no procedure source with hash " + hash);
  return st.text(0);
}

std::string InstanceStore::keep_library(const LibraryFiles& files) {
  const std::string hash = library_hash(files);
  // Kept already: the hash names each file and its text's hash, and each text was compared
  // with any it shared a hash with (keep_source) when that version was kept.
  if (has_library(hash)) return hash;
  // All of it or none, also when no transaction is open (a single `casekit start`).
  Savepoint all(db_);
  db_.prepare("INSERT INTO libraries(hash, created_at) VALUES (?1, ?2)")
      .bind_all(hash, now())
      .run();
  for (const auto& [file, text] : files) {
    const std::string text_hash = keep_source(file, file, text);
    db_.prepare("INSERT INTO library_modules(library_hash, file, source_hash) VALUES (?1, ?2, ?3)")
        .bind_all(hash, file, text_hash)
        .run();
  }
  all.release();
  return hash;
}

bool InstanceStore::has_library(const std::string& hash) {
  auto st = db_.prepare("SELECT 1 FROM libraries WHERE hash = ?1");
  st.bind(1, hash);
  return st.step();
}

LibraryFiles InstanceStore::library(const std::string& hash) {
  if (!has_library(hash)) throw Error(ErrorCode::not_found, "no library version " + hash);
  auto st = db_.prepare(
      "SELECT m.file, s.source FROM library_modules m "
      "JOIN procedure_sources s ON s.hash = m.source_hash WHERE m.library_hash = ?1");
  st.bind(1, hash);
  LibraryFiles out;
  while (st.step()) out.emplace(st.text(0), st.text(1));
  return out;
}

namespace {

const RowFormat kInstanceRow{column<&Instance::id>("id"),
                             column<&Instance::procedure>("procedure"),
                             column<&Instance::source_hash>("source_hash"),
                             column<&Instance::library_hash>("library_hash"),
                             column<&Instance::casegroup>("casegroup_id"),
                             column<&Instance::input>("input"),
                             column<&Instance::status>("status"),
                             column<&Instance::wait_kind>("wait_kind"),
                             column<&Instance::wait_seq>("wait_seq"),
                             column<&Instance::wake_at>("wake_at"),
                             column<&Instance::wait_ref>("wait_ref"),
                             column<&Instance::result>("result"),
                             column<&Instance::error>("error"),
                             column<&Instance::started_by>("started_by"),
                             column<&Instance::created_at>("created_at"),
                             column<&Instance::updated_at>("updated_at"),
                             column<&Instance::history_format>("history_format")};

const RowFormat kIncidentRow{column<&Incident::id>("id"),
                             column<&Incident::instance>("instance_id"),
                             column<&Incident::kind>("kind"),
                             column<&Incident::position>("position"),
                             column<&Incident::expected>("expected"),
                             column<&Incident::found>("found"),
                             column<&Incident::line>("line"),
                             column<&Incident::message>("message"),
                             column<&Incident::created_at>("created_at"),
                             column<&Incident::resolved_at>("resolved_at"),
                             column<&Incident::resolution>("resolution")};

}  // namespace

Id InstanceStore::create(const std::string& procedure, const Pin& pin, std::optional<Id> casegroup,
                         const std::string& input_json, const std::string& started_by) {
  db_.prepare(
         "INSERT INTO instances(procedure, source_hash, casegroup_id, input, status, started_by, "
         "created_at, updated_at, library_hash, history_format) VALUES (?1, ?2, ?3, ?4, "
         "'runnable', ?5, ?6, ?6, ?7, ?8)")
      .bind_all(procedure, pin.source, casegroup)
      .bind_unowned(4, input_json)  // the largest text; the caller holds it
      .bind(5, started_by)
      .bind(6, now())
      .bind(7, pin.library)
      .bind(8, lua::kHistoryFormat)
      .run();
  return db_.last_insert_id();
}

Instance InstanceStore::get(Id id) {
  auto st = db_.prepare(kInstanceRow.select("FROM instances WHERE id = ?1"));
  st.bind(1, id);
  if (!st.step()) throw Error(ErrorCode::not_found, "no procedure instance " + std::to_string(id));
  return kInstanceRow.read(st);
}

std::vector<Instance> InstanceStore::list(const Filter& f) {
  auto st = db_.prepare(kInstanceRow.select(
      "FROM instances WHERE (?1 IS NULL OR status = ?1) "
      "AND (?2 IS NULL OR procedure = ?2) AND (?3 IS NULL OR casegroup_id = ?3) "
      "AND id > ?4 ORDER BY id LIMIT ?5"));
  st.bind_all(f.status, f.procedure, f.casegroup, f.after_id, static_cast<std::int64_t>(f.limit));
  std::vector<Instance> out;
  while (st.step()) out.push_back(kInstanceRow.read(st));
  return out;
}

namespace {
// An instance that may still run: an upgrade or a what-if concerns these.
constexpr const char* kRunning = "status IN ('runnable', 'waiting', 'failed')";
}  // namespace

std::vector<Instance> InstanceStore::running(const std::string& procedure, Id after_id, int limit) {
  auto st =
      db_.prepare(kInstanceRow.select(std::string("FROM instances WHERE procedure = ?1 AND ") +
                                      kRunning + " AND id > ?2 ORDER BY id LIMIT ?3"));
  st.bind_all(procedure, after_id, static_cast<std::int64_t>(limit));
  std::vector<Instance> out;
  while (st.step()) out.push_back(kInstanceRow.read(st));
  return out;
}

std::int64_t InstanceStore::count_running(const std::string& procedure) {
  auto st = db_.prepare(std::string("SELECT count(*) FROM instances WHERE procedure = ?1 AND ") +
                        kRunning);
  st.bind(1, procedure);
  st.step();
  return st.integer(0);
}

std::vector<Id> InstanceStore::runnable(int limit) {
  auto st = db_.prepare("SELECT id FROM instances WHERE status = 'runnable' ORDER BY id LIMIT ?1");
  st.bind(1, static_cast<std::int64_t>(limit));
  std::vector<Id> out;
  while (st.step()) out.push_back(st.integer(0));
  return out;
}

InstanceStore::Outcomes InstanceStore::count_outcomes(Id first, Id last) {
  auto st = db_.prepare(
      "SELECT status = 'failed', count(*) FROM instances WHERE id BETWEEN ?1 AND ?2 "
      "GROUP BY 1");
  st.bind_all(first, last);
  Outcomes out;
  while (st.step()) (st.integer(0) ? out.failed : out.ok) += st.integer(1);
  return out;
}

namespace {

std::string history_of(Id id) {
  return "instance " + std::to_string(id) + "'s history";
}

// One activation's row read back: its commands, the wait it ended on given its result
// once the wait has ended.
std::vector<StoredCommand> activation_commands(HistoryCodec& codec, const Statement& st, int blob,
                                               int wait_result, Id id) {
  auto commands = codec.decode(st.blob(blob), history_of(id));
  if (!st.is_null(wait_result) && !commands.empty()) {
    commands.back().result = st.text(wait_result);
  }
  return commands;
}

}  // namespace

// Each command's script line is named by id in the row: looked up once a line.
std::vector<lua::Command> InstanceStore::history(Id id) {
  auto st = db_.prepare(
      "SELECT first_seq, commands, wait_result, last_seq FROM instance_activations "
      "WHERE instance_id = ?1 ORDER BY first_seq");
  st.bind(1, id);
  std::vector<lua::Command> out;
  std::unordered_map<std::int64_t, std::string> lines;
  while (st.step()) {
    std::int64_t seq = st.integer(0);
    auto commands = activation_commands(codec_, st, 1, 2, id);
    // A row holds the commands numbered from its first to its last, after the one before
    // it: anything else was not written by append.
    const bool follows = out.empty() ? seq >= 1 : seq > out.back().seq;
    if (!follows || st.integer(3) - seq + 1 != static_cast<std::int64_t>(commands.size())) {
      throw Error(ErrorCode::storage, history_of(id) + " is damaged: its activation from command " +
                                          std::to_string(seq) + " does not hold commands " +
                                          std::to_string(seq) + " to " +
                                          std::to_string(st.integer(3)));
    }
    for (auto& c : commands) {
      auto line = lines.find(c.line_id);
      if (line == lines.end()) {
        auto text = db_.prepare("SELECT line FROM script_lines WHERE id = ?1");
        text.bind(1, c.line_id);
        line = lines.emplace(c.line_id, text.step() ? text.text(0) : std::string()).first;
      }
      out.push_back(
          {seq++, std::move(c.name), std::move(c.args), std::move(c.result), line->second});
    }
  }
  return out;
}

std::int64_t InstanceStore::last_seq(Id id) {
  auto st = db_.prepare(
      "SELECT coalesce(max(last_seq), 0) FROM instance_activations WHERE instance_id = ?1");
  st.bind(1, id);
  st.step();
  return st.integer(0);
}

std::optional<std::string> InstanceStore::command_result(Id id, std::int64_t seq) {
  auto st = db_.prepare(
      "SELECT first_seq, last_seq, commands, wait_result FROM instance_activations "
      "WHERE instance_id = ?1 AND first_seq <= ?2 ORDER BY first_seq DESC LIMIT 1");
  st.bind_all(id, seq);
  if (!st.step() || seq > st.integer(1)) return std::nullopt;
  // The result of the wait an activation ended on needs no decompressing.
  if (seq == st.integer(1) && !st.is_null(3)) return st.text(3);
  auto commands = activation_commands(codec_, st, 2, 3, id);
  const auto at = static_cast<std::size_t>(seq - st.integer(0));
  if (at >= commands.size()) return std::nullopt;
  return std::move(commands[at].result);
}

void InstanceStore::append(Id id, std::span<const lua::Command> commands) {
  if (commands.empty()) return;
  if (commands.back().seq - commands.front().seq + 1 !=
      static_cast<std::int64_t>(commands.size())) {
    throw Error(ErrorCode::internal, "an activation's commands are not numbered one after another");
  }
  std::vector<StoredCommand> stored;
  stored.reserve(commands.size());
  for (const auto& c : commands) {
    stored.push_back(
        {c.name, db_.intern(Database::Interned::script_lines, c.line), c.args, c.result});
  }
  db_.prepare(
         "INSERT INTO instance_activations(instance_id, first_seq, last_seq, commands) "
         "VALUES (?1, ?2, ?3, ?4)")
      .bind_all(id, commands.front().seq, commands.back().seq, Blob{codec_.encode(stored)})
      .run();
}

void InstanceStore::set_waiting(Id id, const lua::PendingWait& wait) {
  db_.prepare(
         "UPDATE instances SET status = 'waiting', wait_kind = ?1, wait_seq = ?2, wake_at = ?3, "
         "wait_ref = ?4, updated_at = ?5 WHERE id = ?6")
      .bind_all(wait.kind, wait.seq,
                wait.wake_at ? std::optional(format_instant(*wait.wake_at)) : std::nullopt,
                wait.ref, now(), id)
      .run();
}

namespace {
constexpr const char* kClearWait =
    "wait_kind = NULL, wait_seq = NULL, wake_at = NULL, wait_ref = NULL";
}

void InstanceStore::set_completed(Id id, const std::optional<std::string>& result) {
  db_.prepare(
         std::string("UPDATE instances SET status = 'completed', result = ?1, error = NULL, ") +
         kClearWait + ", updated_at = ?2 WHERE id = ?3")
      .bind_all(result, now(), id)
      .run();
}

void InstanceStore::set_failed(Id id, const std::string& message) {
  // The wait columns stay: a retry replays to the same point.
  db_.prepare("UPDATE instances SET status = 'failed', error = ?1, updated_at = ?2 WHERE id = ?3")
      .bind_all(message, now(), id)
      .run();
}

void InstanceStore::set_runnable(Id id) {
  db_.prepare(
         "UPDATE instances SET status = 'runnable', error = NULL, updated_at = ?1 WHERE id = ?2")
      .bind_all(now(), id)
      .run();
}

void InstanceStore::set_cancelled(Id id) {
  db_.prepare(std::string("UPDATE instances SET status = 'cancelled', ") + kClearWait +
              ", updated_at = ?1 WHERE id = ?2")
      .bind_all(now(), id)
      .run();
}

void InstanceStore::forget_history(Id id) {
  db_.prepare("DELETE FROM instance_activations WHERE instance_id = ?1").bind(1, id).run();
}

void InstanceStore::set_pin(Id id, const Pin& pin) {
  db_.prepare(
         "UPDATE instances SET source_hash = ?1, library_hash = ?2, updated_at = ?3 WHERE id = ?4")
      .bind_all(pin.source, pin.library, now(), id)
      .run();
}

void InstanceStore::resolve_wait(const Instance& instance, const nlohmann::json& result) {
  if (instance.status != "waiting" || !instance.wait_seq) {
    throw Error(ErrorCode::invalid, "instance " + std::to_string(instance.id) + " is " +
                                        instance.status + ", not waiting");
  }
  db_.prepare(
         "UPDATE instance_activations SET wait_result = ?1, resolved_at = ?2 "
         "WHERE instance_id = ?3 AND last_seq = ?4")
      .bind_all(result.dump(), now(), instance.id, *instance.wait_seq)
      .run();
  db_.prepare(std::string("UPDATE instances SET status = 'runnable', ") + kClearWait +
              ", updated_at = ?1 WHERE id = ?2")
      .bind_all(now(), instance.id)
      .run();
}

std::optional<Id> InstanceStore::active_for_sr(const std::string& procedure,
                                               const std::string& sr) {
  auto st = db_.prepare(
      "SELECT id FROM instances WHERE procedure = ?1 AND status IN ('runnable', 'waiting') "
      "AND json_extract(input, '$.params.sr') = ?2 ORDER BY id LIMIT 1");
  st.bind_all(procedure, sr);
  if (!st.step()) return std::nullopt;
  return st.integer(0);
}

std::vector<std::pair<Id, std::string>> InstanceStore::signal_waits(std::optional<Id> instance,
                                                                    std::optional<Id> casegroup) {
  // The arguments of the wait each ended its last activation on.
  auto st = db_.prepare(
      "SELECT i.id, a.commands, a.wait_result FROM instances i "
      "JOIN instance_activations a ON a.instance_id = i.id AND a.last_seq = i.wait_seq "
      "WHERE i.status = 'waiting' AND i.wait_kind = 'signal' "
      "AND (i.id = ?1 OR i.casegroup_id = ?2) ORDER BY i.id");
  st.bind_all(instance, casegroup);
  std::vector<std::pair<Id, std::string>> out;
  while (st.step()) {
    auto commands = activation_commands(codec_, st, 1, 2, st.integer(0));
    if (!commands.empty()) out.emplace_back(st.integer(0), std::move(commands.back().args));
  }
  return out;
}

int InstanceStore::fire_due_timers(Instant at) {
  const std::string t = format_instant(at);
  // The due instances are woken a chunk at a time: SQLite keeps what each statement changes
  // in memory until the statement ends (to undo it alone), and a wake-up of a whole caseload
  // in one statement held 15 MiB per 100,000 instances.
  constexpr int kChunk = 1000;
  const std::string due =
      "SELECT id FROM instances WHERE status = 'waiting' AND wake_at IS NOT NULL "
      "AND wake_at <= ?1 ORDER BY wake_at, id LIMIT ?2";
  // A work item nobody completed in time can no longer be completed.
  const std::string cancel_items =
      "UPDATE work_items SET status = 'cancelled' WHERE status = 'open' AND id IN ("
      "  SELECT wait_ref FROM instances WHERE wait_kind = 'task' AND id IN (" +
      due + "))";
  const std::string answer_waits =
      "UPDATE instance_activations SET resolved_at = ?1, wait_result = ("
      "  SELECT CASE i.wait_kind"
      "    WHEN 'timer' THEN json_array(json_object('fired_at', i.wake_at))"
      "    ELSE json_array(json_object('kind', 'timeout', 'timeout', json('true'))) END"
      "  FROM instances i WHERE i.id = instance_activations.instance_id) "
      "WHERE (instance_id, last_seq) IN (SELECT id, wait_seq FROM instances WHERE id IN (" +
      due + "))";
  const std::string make_runnable = std::string("UPDATE instances SET status = 'runnable', ") +
                                    kClearWait + ", updated_at = ?1 WHERE id IN (" + due + ")";
  int woken = 0;
  for (;;) {
    // The first two leave the chunk waiting, so all three name the same instances.
    db_.prepare(cancel_items).bind_all(t, kChunk).run();
    db_.prepare(answer_waits).bind_all(t, kChunk).run();
    db_.prepare(make_runnable).bind_all(t, kChunk).run();
    const int changed = db_.changes();
    woken += changed;
    if (changed < kChunk) return woken;
  }
}

std::optional<Instant> InstanceStore::next_wake() {
  auto st = db_.prepare(
      "SELECT min(wake_at) FROM instances WHERE status = 'waiting' AND wake_at IS NOT NULL");
  if (!st.step() || st.is_null(0)) return std::nullopt;
  return parse_instant(st.text(0));
}

Id InstanceStore::record_incident(const Incident& i) {
  db_.prepare(
         "INSERT INTO incidents(instance_id, kind, position, expected, found, line, message, "
         "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
      .bind_all(i.instance, i.kind, i.position, i.expected, i.found, i.line, i.message, now())
      .run();
  return db_.last_insert_id();
}

std::vector<Incident> InstanceStore::incidents(bool include_resolved, std::optional<Id> instance) {
  auto st =
      db_.prepare(kIncidentRow.select("FROM incidents WHERE (?1 OR resolved_at IS NULL) "
                                      "AND (?2 IS NULL OR instance_id = ?2) ORDER BY id"));
  st.bind_all(static_cast<std::int64_t>(include_resolved), instance);
  std::vector<Incident> out;
  while (st.step()) out.push_back(kIncidentRow.read(st));
  return out;
}

void InstanceStore::resolve_incidents(Id instance, const std::string& resolution) {
  db_.prepare(
         "UPDATE incidents SET resolved_at = ?1, resolution = ?2 "
         "WHERE instance_id = ?3 AND resolved_at IS NULL")
      .bind_all(now(), resolution, instance)
      .run();
}

nlohmann::json to_json(const Instance& i) {
  return {{"id", i.id},
          {"procedure", i.procedure},
          {"source_hash", i.source_hash},
          {"library_hash", or_null(i.library_hash)},
          {"history_format", i.history_format},
          {"casegroup", or_null(i.casegroup)},
          {"input", nlohmann::json::parse(i.input)},
          {"status", i.status},
          {"wait", i.wait_kind ? nlohmann::json{{"kind", *i.wait_kind},
                                                {"seq", or_null(i.wait_seq)},
                                                {"wake_at", or_null(i.wake_at)},
                                                {"ref", or_null(i.wait_ref)}}
                               : nlohmann::json()},
          {"result", i.result ? nlohmann::json::parse(*i.result) : nlohmann::json()},
          {"error", or_null(i.error)},
          {"started_by", i.started_by},
          {"created_at", i.created_at},
          {"updated_at", i.updated_at}};
}

nlohmann::json to_json(const Incident& i) {
  return {{"id", i.id},
          {"instance", i.instance},
          {"kind", i.kind},
          {"position", or_null(i.position)},
          {"expected", or_null(i.expected)},
          {"found", or_null(i.found)},
          {"line", or_null(i.line)},
          {"message", i.message},
          {"created_at", i.created_at},
          {"resolved_at", or_null(i.resolved_at)},
          {"resolution", or_null(i.resolution)}};
}

nlohmann::json to_json(const lua::Command& c) {
  return {{"seq", c.seq},
          {"command", c.name},
          {"args", nlohmann::json::parse(c.args)},
          {"result", c.result ? nlohmann::json::parse(*c.result) : nlohmann::json()},
          {"pending", !c.result.has_value()},
          {"line", c.line}};
}

}  // namespace casekit
