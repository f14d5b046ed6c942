// The command journal of a procedure instance: the one dispatcher every binding call goes
// through when a procedure runs.
//
// Live, a call runs and its result is appended to the history. On replay (after a restart,
// or when the instance's Lua state was evicted from the warm cache) the call is checked
// against its recorded twin and the recorded result is returned without running anything.
// A call that does not match is a divergence: the journal halts, and every later call
// raises, so the instance stops as an incident instead of silently doing something else.
#pragma once

#include <lua.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/core/time.hpp"

namespace casekit::lua {

// One recorded command. `result` is a JSON array of the values returned, or
// {"$error": {code, message}} for a call that raised; it is empty while a wait is pending.
struct Command {
  std::int64_t seq = 0;
  std::string name;  // "sr.create", "SR:set_status", "wait", ...
  std::string args;  // JSON array of the arguments
  std::optional<std::string> result;
  std::string line;  // "procedures/x.lua:12"
};

struct Divergence {
  std::int64_t position = 0;  // seq of the command that differs
  std::string expected;       // recorded: "name args" or "(end of history)"
  std::string found;          // this run: "name args" or "(script ended)"
  std::string line;           // where the script was when it differed
  std::string message;
};

// What a live wait asks the engine to watch for; the journal holds it until the
// activation ends and the runtime stores it on the instance.
struct PendingWait {
  std::string kind;  // timer | task | payment | letter
  std::int64_t seq = 0;
  std::optional<Instant> wake_at;   // the timer, or an event's timeout
  std::optional<std::int64_t> ref;  // work item id, ledger account id, or letter id
  // The event has already happened: its result (JSON text, as recorded), and no wait.
  std::optional<std::string> ready;
};

class Journal {
 public:
  // verify_only: replay the history and stop at its end instead of running live
  // (instance upgrade checks a new source this way).
  explicit Journal(std::vector<Command> history, bool verify_only = false);

  bool replaying() const { return cursor_ < history_.size(); }
  bool verify_only() const { return verify_only_; }
  const std::optional<Divergence>& divergence() const { return divergence_; }
  bool halted() const { return divergence_ || reached_end_; }
  // The message every call raises once the journal has halted.
  std::string halt_message() const;

  // Replaying: returns the recorded twin of this call and moves past it, or records the
  // divergence and returns nullptr.
  const Command* match(const std::string& name, const std::string& args, const std::string& line);
  // Live: appends a command (result empty for a pending wait).
  void record(std::string name, std::string args, std::optional<std::string> result,
              std::string line);
  void stop_at_end() { reached_end_ = true; }
  // The script finished (or failed) while the history still had commands for it.
  void check_consumed(const std::string& how_it_ended);

  // A wait's result arrived: fill in the pending command (the last one).
  void resolve_last(std::string result);

  std::optional<PendingWait> pending;  // set by a live wait, taken by the runtime

  const std::vector<Command>& history() const { return history_; }
  // Commands appended since the last mark_saved() (to be written with the activation's
  // commit), and marking them written.
  std::span<const Command> unsaved() const;
  void mark_saved() { unsaved_from_ = history_.size(); }

 private:
  std::vector<Command> history_;
  std::size_t cursor_ = 0;
  std::size_t unsaved_from_ = 0;
  bool verify_only_ = false;
  bool reached_end_ = false;
  std::optional<Divergence> divergence_;
};

// ---- Lua values <-> JSON ------------------------------------------------------------------
//
// Tables become arrays (keys 1..n) or objects (all keys strings, written sorted), other
// tables {"$pairs": [[k, v], ...]}; engine objects {"$object": "SR", "id": 7}; error tables
// {"$error": {...}}. Functions and threads cannot be recorded and raise.

nlohmann::json to_json(lua_State* L, int index);
// Values index..top as a JSON array.
nlohmann::json values_to_json(lua_State* L, int first);
// The same as dump(values_to_json(L, first)), written without building the tree: every
// binding call a procedure makes is recorded this way.
std::string values_to_text(lua_State* L, int first);
void push_json(lua_State* L, const nlohmann::json& value);
// The same from JSON text (a recorded result, an instance's input), without the tree.
void push_json_text(lua_State* L, std::string_view text);
// The same from a tree parsed with its keys in the text's order: the values are those
// push_json_text builds from that text, and each table is filled in the same order (so
// pairs() walks it the same way). An instance's first activation uses it for an input that
// its creator had already parsed (an extract row). Pushes nothing and returns false for a
// tree nested more than 256 deep: parse its text instead.
bool push_json_tree(lua_State* L, const nlohmann::ordered_json& value);
// Pushes each element of a JSON array text (a recorded list of results); returns how many.
int push_json_values(lua_State* L, std::string_view text);
// The compact text form used for args and results.
std::string dump(const nlohmann::json& value);

}  // namespace casekit::lua
