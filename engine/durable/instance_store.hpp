// What the store keeps about procedure instances: the sources they are pinned to (by hash),
// their rows (status and current wait), their command histories and their incidents.
// No Lua here; engine/durable/runtime.hpp runs the instances.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bindings/history.hpp"
#include "engine/domain/casegroups.hpp"
#include "engine/runtime/library_files.hpp"
#include "engine/store/database.hpp"
#include "engine/store/history_blob.hpp"

namespace casekit {

// What an instance runs, each by hash: its procedure's source, and the library modules its
// requires load (none for an instance from before schema 32: it reads the folders).
struct Pin {
  std::string source;
  std::optional<std::string> library;
};

struct Instance {
  Id id = 0;
  std::string procedure;
  std::string source_hash;
  std::optional<std::string> library_hash;
  std::optional<Id> casegroup;
  std::string input;   // JSON text: {"params": {...}, "input": ...}
  std::string status;  // runnable | waiting | completed | failed | cancelled
  std::optional<std::string> wait_kind;
  std::optional<std::int64_t> wait_seq;
  std::optional<std::string> wake_at;
  std::optional<Id> wait_ref;
  std::optional<std::string> result;
  std::optional<std::string> error;
  std::string started_by;
  std::string created_at;
  std::string updated_at;
  // What its history records (lua::kHistoryFormat for one started now; 1 before schema 33).
  std::int64_t history_format = lua::kHistoryFormat;
};

struct Incident {
  Id id = 0;
  Id instance = 0;
  std::string kind;  // divergence | error
  std::optional<std::int64_t> position;
  std::optional<std::string> expected, found, line;
  std::string message;
  std::string created_at;
  std::optional<std::string> resolved_at, resolution;
};

// 64-bit FNV-1a of the source, as 16 hex digits. Not cryptographic: the store also compares
// the text when a hash is already known, so a collision is an error, never a mix-up.
std::string source_hash(std::string_view source);
// The hash naming a version of the library: of its files' names and their texts' hashes.
std::string library_hash(const LibraryFiles& files);

class InstanceStore {
 public:
  InstanceStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // Keeps a procedure's source and returns its hash.
  std::string keep_source(const std::string& procedure, const std::string& file,
                          const std::string& source);
  std::string source(const std::string& hash);
  bool has_source(const std::string& hash);
  // Keeps a version of the library (each file's text as a source), unless kept already, and
  // returns its hash.
  std::string keep_library(const LibraryFiles& files);
  LibraryFiles library(const std::string& hash);
  bool has_library(const std::string& hash);

  Id create(const std::string& procedure, const Pin& pin, std::optional<Id> casegroup,
            const std::string& input_json, const std::string& started_by);
  Instance get(Id id);
  // Instances in id order, after `after_id`, matching what is given.
  struct Filter {
    std::optional<std::string> status;
    std::optional<std::string> procedure;
    std::optional<Id> casegroup;
    Id after_id = 0;
    int limit = 1000;
  };
  std::vector<Instance> list(const Filter& filter);
  // Instances of `procedure` still running (runnable, waiting or failed), in id order, after
  // `after_id`, at most `limit`.
  std::vector<Instance> running(const std::string& procedure, Id after_id, int limit);
  std::int64_t count_running(const std::string& procedure);
  std::vector<Id> runnable(int limit);
  // Of the instances with ids first..last (a batch created together): how many have
  // stopped with an incident, and how many have not (ran to their end or to a wait).
  struct Outcomes {
    std::int64_t failed = 0;
    std::int64_t ok = 0;
  };
  Outcomes count_outcomes(Id first, Id last);

  std::vector<lua::Command> history(Id id);
  std::int64_t last_seq(Id id);
  std::optional<std::string> command_result(Id id, std::int64_t seq);
  void append(Id id, std::span<const lua::Command> commands);

  void set_waiting(Id id, const lua::PendingWait& wait);
  void set_completed(Id id, const std::optional<std::string>& result);
  void set_failed(Id id, const std::string& message);
  void set_runnable(Id id);
  void set_cancelled(Id id);
  // Deletes an ended instance's history: it will never be replayed.
  void forget_history(Id id);
  void set_pin(Id id, const Pin& pin);
  // Ends the instance's wait with `result` (a JSON array of the values the wait returns)
  // and makes it runnable.
  void resolve_wait(const Instance& instance, const nlohmann::json& result);

  // A runnable or waiting instance of `procedure` started for SR `sr` (params.sr), if any.
  // A scan of the instances: for commands a person runs, not for every procedures.start.
  std::optional<Id> active_for_sr(const std::string& procedure, const std::string& sr);

  // The instances waiting for a signal, on this instance or casegroup, with the arguments
  // (JSON text) of the event.await each waits at.
  std::vector<std::pair<Id, std::string>> signal_waits(std::optional<Id> instance,
                                                       std::optional<Id> casegroup);

  // Ends every timer (waits and event timeouts) due at `now`; returns how many.
  int fire_due_timers(Instant now);
  std::optional<Instant> next_wake();

  Id record_incident(const Incident& incident);
  std::vector<Incident> incidents(bool include_resolved, std::optional<Id> instance);
  void resolve_incidents(Id instance, const std::string& resolution);

 private:
  std::string now() const { return format_instant(clock_.now()); }
  Database& db_;
  HistoryCodec codec_;  // histories are kept compressed, an activation a row
  const Clock& clock_;
};

nlohmann::json to_json(const Instance& i);
nlohmann::json to_json(const Incident& i);
nlohmann::json to_json(const lua::Command& c);

}  // namespace casekit
