// What a procedure instance's history is made of: the commands it recorded, a replay that
// differed from them, and the wait it is suspended at. Plain data, no Lua: the journal
// (journal.hpp) writes these as a procedure runs, and the instance store
// (engine/durable/instance_store.hpp) keeps them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/core/time.hpp"

namespace casekit::lua {

// What a history records, by the format its instance was started with (instances.
// history_format). Format 1 recorded every call, fixed properties included; format 2 leaves
// fixed properties out (Replay::fixed: what an object is never changes, so a replay reads
// it again). An instance keeps its format for life, so a history replays as it was written.
inline constexpr int kHistoryFormat = 2;

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

// A signal's name (event.await{kind="signal"}, `casekit signal`): lower-case letters,
// digits and _, 1 to 64 of them, so that it reads the same in a script and on a command line.
inline bool is_signal_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// What a live wait asks the engine to watch for; the journal holds it until the
// activation ends and the runtime stores it on the instance.
struct PendingWait {
  std::string kind;  // timer | task | payment | letter | sr | signal
  std::int64_t seq = 0;
  std::optional<Instant> wake_at;   // the timer, or an event's timeout
  std::optional<std::int64_t> ref;  // work item, ledger account, letter or SR id
  // The event has already happened: its result (JSON text, as recorded), and no wait.
  std::optional<std::string> ready;
};

}  // namespace casekit::lua
