#include "engine/transition/dw_import.hpp"

#include <algorithm>
#include <fstream>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/transition/dw_extract.hpp"

namespace casekit {
namespace {

bool seen(Database& db, const std::string& key) {
  auto st = db.prepare("SELECT 1 FROM dw_rows WHERE row_key = ?1");
  st.bind(1, key);
  return st.step();
}

void remember(Database& db, const Clock& clock, const std::string& key,
              const std::optional<std::string>& csa_ref,
              const std::optional<std::string>& extract_date, const char* outcome,
              std::optional<Id> instance, std::optional<Id> exception) {
  db.prepare(
        "INSERT INTO dw_rows(row_key, csa_ref, extract_date, outcome, instance_id, exception_id, "
        "imported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
      .bind_all(key, csa_ref, extract_date, outcome, instance, exception,
                format_instant(clock.now()))
      .run();
}

// Takes one batch of lines in: bad rows to the exceptions report, good ones to new
// instances (returned, in order), duplicates counted. One transaction.
std::vector<Id> take_in(Engine& engine, ProcedureRuntime& runtime, const Pin& pin,
                        const std::vector<std::string>& lines, const std::string& actor, Id run,
                        DwImportCounts& counts) {
  std::vector<Id> created;
  ActorScope scope(engine.db, actor);
  Transaction tx(engine.db);
  for (const auto& line : lines) {
    ++counts.read;
    auto parsed = parse_dw_row(line);
    if (auto* bad = std::get_if<DwRowError>(&parsed)) {
      const std::string key = "line:" + source_hash(line);
      if (seen(engine.db, key)) {
        ++counts.duplicates;
        continue;
      }
      const Id exception = engine.exceptions.record(bad->csa_ref, bad->reason);
      remember(engine.db, engine.clock, key, bad->csa_ref, std::nullopt, "exception", std::nullopt,
               exception);
      ++counts.exceptions;
      continue;
    }
    auto& row = std::get<DwRow>(parsed);
    const std::string key = "csa:" + row.csa_ref;
    if (seen(engine.db, key)) {
      ++counts.duplicates;
      continue;
    }
    // The row as it came (it has just been parsed and checked) is the instance's input;
    // written again only if it starts with something JSON allows only at a document's start
    // (a byte order mark).
    std::string rewritten;
    if (!line.starts_with('{')) rewritten = row.json.dump();
    const std::string_view text = rewritten.empty() ? std::string_view(line) : rewritten;
    const Id instance = runtime.create_pinned(kTransitionProcedure, pin, std::nullopt, text,
                                              std::move(row.json), actor);
    remember(engine.db, engine.clock, key, row.csa_ref, row.extract_date, "transitioned", instance,
             std::nullopt);
    created.push_back(instance);
  }
  // With the rows, so what it says was taken in was.
  engine.db.prepare("UPDATE runs SET rows_read = ?1, progress_at = ?2 WHERE id = ?3")
      .bind_all(counts.read, format_instant(engine.clock.now()), run)
      .run();
  tx.commit();
  return created;
}

constexpr const char* kImportScript = "import dw";

// A line of the extract as a row: without the CR of a CRLF ending; false for a blank line,
// which is not a row. The import and count_rows both count by this.
bool as_row(std::string& line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line.find_first_not_of(" \t") != std::string::npos;
}

// Marks what a killed import left running as failed, and records this one as running.
Id begin_run(Engine& engine, const DwImportOptions& options) {
  ActorScope scope(engine.db, options.actor);
  Transaction tx(engine.db);
  const std::string now = format_instant(engine.clock.now());
  engine.db
      .prepare(
          "UPDATE runs SET status = 'failed', finished_at = ?1, message = 'stopped before the "
          "end (killed?); the rows it took in stay, and a rerun counts them as duplicates' "
          "WHERE schedule IS NULL AND script = ?2 AND status = 'running'")
      .bind_all(now, kImportScript)
      .run();
  engine.db
      .prepare(
          "INSERT INTO runs(script, trigger, started_at, status, rows_read, rows_total, "
          "progress_at) VALUES (?1, 'manual', ?2, 'running', 0, ?3, ?2)")
      .bind_all(kImportScript, now, options.total_rows)
      .run();
  const Id id = engine.db.last_insert_id();
  tx.commit();
  return id;
}

void end_run(Engine& engine, const DwImportOptions& options, Id run, const std::string& status,
             const std::string& message) {
  ActorScope scope(engine.db, options.actor);
  Transaction tx(engine.db);
  engine.db.prepare("UPDATE runs SET status = ?1, finished_at = ?2, message = ?3 WHERE id = ?4")
      .bind_all(status, format_instant(engine.clock.now()), message, run)
      .run();
  tx.commit();
}

std::string summary(const DwImportCounts& c) {
  return "read " + std::to_string(c.read) + " rows: " + std::to_string(c.transitioned) +
         " transitioned, " + std::to_string(c.exceptions) + " exceptions, " +
         std::to_string(c.duplicates) + " duplicates, " + std::to_string(c.failed) + " failed";
}

}  // namespace

DwImportCounts import_dw_extract(Engine& engine, ProcedureRuntime& runtime, std::istream& in,
                                 const DwImportOptions& options) {
  // Checked and pinned once: every row of this import runs the same source.
  const Pin pin = runtime.pin(kTransitionProcedure);
  runtime.set_cache_size(std::min<std::size_t>(options.warm_states, 1000));
  DwImportCounts counts;
  const Id run = begin_run(engine, options);
  std::int64_t next_progress = options.progress_every;
  std::vector<std::string> lines;
  std::string line;
  const auto flush = [&] {
    const auto created = take_in(engine, runtime, pin, lines, options.actor, run, counts);
    lines.clear();
    runtime.drain();
    // The batch created its instances one after another, in one transaction, so their ids
    // are a range (and the rows counted are the batch's own, however large the table grows).
    if (!created.empty()) {
      const auto outcomes = runtime.store().count_outcomes(created.front(), created.back());
      counts.transitioned += outcomes.ok;
      counts.failed += outcomes.failed;
    }
    if (options.progress && counts.read >= next_progress) {
      options.progress(counts);
      next_progress = counts.read + options.progress_every;
    }
  };
  try {
    while (std::getline(in, line)) {
      if (!as_row(line)) continue;
      lines.push_back(std::move(line));
      if (static_cast<std::int64_t>(lines.size()) >= options.batch_rows) flush();
    }
    if (in.bad()) throw Error(ErrorCode::io, "could not read the extract");
    if (!lines.empty()) flush();
  } catch (const std::exception& e) {
    try {
      end_run(engine, options, run, "failed", summary(counts) + "; stopped: " + e.what());
    } catch (...) {
      // The database itself failed: the run stays 'running', and the next import marks it.
    }
    throw;
  }
  end_run(engine, options, run, counts.failed ? "failed" : "succeeded", summary(counts));
  return counts;
}

std::int64_t count_rows(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorCode::io, "cannot read " + file.string());
  std::int64_t rows = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (as_row(line)) ++rows;
  }
  return rows;
}

}  // namespace casekit
