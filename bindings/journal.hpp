// The command journal of a procedure instance: the one dispatcher every binding call goes
// through when a procedure runs.
//
// Live, a call runs and its result is appended to the history. On replay (after a restart,
// or when the instance's Lua state was evicted from the warm cache) the call is checked
// against its recorded twin and the recorded result is returned without running anything.
// A call that does not match is a divergence: the journal halts, and every later call
// raises, so the instance stops as an incident instead of silently doing something else.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bindings/history.hpp"

namespace casekit::lua {

class Journal {
 public:
  // verify_only: replay the history and stop at its end instead of running live
  // (instance upgrade checks a new source this way).
  // format: the history's (kHistoryFormat for a new instance).
  explicit Journal(std::vector<Command> history, bool verify_only = false,
                   int format = kHistoryFormat);

  bool replaying() const { return cursor_ < history_.size(); }
  // Whether fixed properties are recorded: in histories written before format 2 they are.
  bool records_fixed() const { return format_ < 2; }
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
  int format_ = kHistoryFormat;
  std::optional<Divergence> divergence_;
};

}  // namespace casekit::lua
