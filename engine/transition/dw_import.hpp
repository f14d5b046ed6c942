// `casekit import dw`: streams a Data Warehouse extract into the engine. Each row is checked
// (engine/transition/dw_extract.hpp); a bad one goes to the daily exceptions report and
// leaves nothing else behind, a good one becomes an instance of procedures/
// phase2_transition.lua with the row as its input. Rows are taken a batch at a time (one
// transaction to store them, then the runtime's batched activations), so memory stays flat
// and a million rows do not cost a million fsyncs.
//
// Every row seen is remembered (table dw_rows: a transitioned row by its CSA reference, an
// exception by a hash of its text), so importing the same extract again changes nothing and
// counts each row as a duplicate; a corrected row for a casegroup that was an exception is
// taken in.
//
// Each import is recorded as a run (table runs, script 'import dw'), its progress updated
// with every batch, so an operator can watch it (GET /api/v1/runs, /metrics) from another
// process. A run left 'running' by an import that was killed is marked failed by the next.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <istream>
#include <optional>
#include <string>

#include "engine/durable/runtime.hpp"

namespace casekit {

inline constexpr const char* kTransitionProcedure = "phase2_transition";

struct DwImportCounts {
  std::int64_t read = 0;          // rows (blank lines are not rows)
  std::int64_t transitioned = 0;  // rows whose transition ran (to its end or to a person's step)
  std::int64_t exceptions = 0;    // rows refused, each now on the exceptions report
  std::int64_t duplicates = 0;    // rows already taken in, by this import or an earlier one
  std::int64_t failed = 0;        // rows whose procedure stopped with an incident
};

struct DwImportOptions {
  std::string actor = "import";
  std::int64_t batch_rows = 1000;
  std::int64_t progress_every = 50000;
  // Warm Lua states kept for the instances left waiting (on people, for days): few, so
  // memory stays flat however long the extract.
  std::size_t warm_states = 16;
  std::function<void(const DwImportCounts&)> progress;
  // Rows in the extract, when known beforehand (a file: count_rows); shown with the run's
  // progress.
  std::optional<std::int64_t> total_rows;
};

// Rows in an extract file as the import counts them (lines not blank), read once quickly.
std::int64_t count_rows(const std::filesystem::path& file);

DwImportCounts import_dw_extract(Engine& engine, ProcedureRuntime& runtime, std::istream& in,
                                 const DwImportOptions& options = {});

}  // namespace casekit
