// Runs procedure instances durably (docs/architecture.md, "Durable execution").
//
// An activation takes a runnable instance to its next wait or its end: its domain writes,
// its new history and its new status commit together. Activations run in batches, one
// transaction per batch, so a large wake-up does not cost one fsync per instance; a batch
// in which an activation fails runs again with a savepoint per activation, so the failing
// instance rolls back alone (run_batch).
//
// An instance's Lua state is rebuilt by replaying its pinned source against its history,
// unless the warm cache still holds it (suspended at its wait); both give the same result.
#pragma once

#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "engine/core/histogram.hpp"
#include "engine/domain/engine.hpp"
#include "engine/durable/instance_store.hpp"
#include "engine/runtime/sandbox.hpp"

namespace casekit {

struct RuntimeOptions {
  SandboxLimits limits{};
  std::size_t cache_size = 1000;  // warm Lua states kept; 0 disables the cache
  int batch_size = 1000;          // activations per transaction (one fsync each)
  // The history exists to rebuild an instance at its wait, so an instance that has ended
  // (completed or cancelled) is never replayed and its history goes with its end, and one
  // that runs from its start to its end in one activation writes none (an import's million
  // transitions would otherwise write twenty million history rows nobody reads). Set, every
  // history is kept whole: for debugging a procedure (`casekit --keep-history`).
  bool keep_history = false;
  // A sandbox whose instance has finished or left the warm cache takes the next instance of
  // the same procedure, with a fresh environment (Sandbox::renew), instead of a new one
  // being built. Off only to compare against.
  bool reuse_sandboxes = true;
};

struct RuntimeStats {
  std::uint64_t activations = 0;
  Histogram activation_seconds;  // how long each took, on the steady clock
  std::uint64_t warm_resumes = 0;
  std::uint64_t replays = 0;
  std::uint64_t sandboxes_reused = 0;
};

struct UpgradeReport {
  bool up_to_date = false;  // it runs the current source and library already
  bool replays = false;     // the history replays exactly on the current source
  bool switched = false;    // and the instance was moved to it (not with dry_run)
  std::string message;
  std::optional<lua::Divergence> divergence;
};

// {"instance", "switched", "replays", "message", "divergence": {"position", "expected",
// "found", "line"} or null}: one instance's upgrade, as the CLI and the HTTP API give it.
nlohmann::json to_json(Id instance, const UpgradeReport& report);
// {"procedure", "dry_run", "instances": [as above], "upgraded" (moved, or would be with
// dry_run), "diverged"}: a procedure's instances upgraded, as the CLI and the HTTP API give it.
nlohmann::json to_json(const std::string& procedure, bool dry_run,
                       const std::vector<std::pair<Id, UpgradeReport>>& reports);

// procedures/NAME.lua under `home`; a NAME that is not letters, digits and _ is bad_argument.
std::filesystem::path procedure_file(const Home& home, const std::string& procedure);
// The same, and a file that is not there is not_found ("no procedure 'x' (...)").
std::filesystem::path existing_procedure_file(const Home& home, const std::string& procedure);

// Something whose timers a simulated clock must fire on its way (Schedules::advance).
class TimerSource {
 public:
  virtual ~TimerSource() = default;
  virtual std::optional<Instant> next_timer() = 0;
  // Fires every timer due at the clock's time and runs what that woke.
  virtual void fire_timers() = 0;
};

class ProcedureRuntime : public TimerSource, public lua::ProcedureStarter {
 public:
  ProcedureRuntime(Engine& engine, RuntimeOptions options = {},
                   std::function<void(std::string_view)> print = {});
  ~ProcedureRuntime() override;
  ProcedureRuntime(const ProcedureRuntime&) = delete;
  ProcedureRuntime& operator=(const ProcedureRuntime&) = delete;

  InstanceStore& store() { return store_; }

  // Checks procedures/NAME.lua declares procedure NAME, pins its source and creates a
  // runnable instance (in the caller's transaction, if any). Nothing runs yet.
  Id create(const std::string& procedure, std::optional<Id> casegroup,
            const std::map<std::string, std::string>& params, const std::string& started_by);
  // The two halves of create(), for callers creating many instances of one procedure (an
  // import): pin() checks the file once and keeps its source; create_pinned() stores an
  // instance on it whose ctx.input is `input` (ctx.params empty). `input_text` is that
  // value's JSON text as its creator read it (an extract row), stored as it is; the
  // instance's first activation builds ctx.input from the tree rather than parse the text
  // again, which gives the same by construction (lua::push_json_tree). The tree is held
  // only until the next drain() ends.
  Pin pin(const std::string& procedure);
  Id create_pinned(const std::string& procedure, const Pin& pin, std::optional<Id> casegroup,
                   std::string_view input_text, nlohmann::ordered_json input,
                   const std::string& started_by);

  // lua::ProcedureStarter, for the `procedures` module.
  bool procedure_exists(const std::string& procedure) override;
  Id create_instance(const std::string& procedure, std::optional<Id> casegroup,
                     const std::map<std::string, std::string>& params,
                     const std::string& started_by) override;

  // create() then drain(): the instance runs to its first wait.
  Id start(const std::string& procedure, std::optional<Id> casegroup,
           const std::map<std::string, std::string>& params, const std::string& started_by);

  // Runs every runnable instance (and any that running them makes runnable); returns the
  // number of activations.
  std::size_t drain();

  // Completes a work item (checks in WorkItems::complete) and resumes its instance.
  WorkItem complete_task(Id item, const std::string& outcome,
                         const std::map<std::string, std::string>& fields, const std::string& user);
  // Where a signal goes: one instance, or every instance on a casegroup.
  struct SignalTarget {
    std::optional<Id> instance;
    std::optional<Id> casegroup;
  };
  // Sends signal `name` with `data` (a JSON object) from `user`: every instance of the target
  // waiting for that name (event.await{kind="signal"}) resumes with it, and runs. Returns the
  // instances woken; none waiting is an error and changes nothing.
  std::vector<Id> signal(const SignalTarget& target, const std::string& name,
                         const nlohmann::json& data, const std::string& user);
  // Records a payment (waking whoever waits on its account) and runs the woken instances.
  Id record_payment(Id account, Pence amount, const std::string& date);
  // Letters::fulfil (waking whoever waits on the letters sent) and runs the woken instances.
  FulfilResult fulfil_letters(const std::filesystem::path& outbox, int limit = 0);

  void retry(Id id);
  void cancel(Id id);
  // Moves an instance to its procedure's current source if its history replays on it
  // exactly; with `dry_run`, only says whether it would.
  UpgradeReport upgrade(Id id, bool dry_run = false);
  // upgrade() for every instance of `procedure` still running (runnable, waiting or failed),
  // in id order: those that replay cleanly move, those that diverge stay, each reported.
  // With `only`, just the instances it accepts (whatif's --casegroups).
  using InstanceFilter = std::function<bool(const Instance&)>;
  std::vector<std::pair<Id, UpgradeReport>> upgrade_all(const std::string& procedure,
                                                        bool dry_run = false,
                                                        const InstanceFilter& only = nullptr);
  // upgrade_all() a page at a time, for a caller that must not hold the store for long (the
  // HTTP loop): up to `limit` running instances of `procedure` after id `after`, and the
  // last id seen if there may be more.
  struct UpgradePage {
    std::vector<std::pair<Id, UpgradeReport>> reports;
    std::optional<Id> next;
  };
  UpgradePage upgrade_page(const std::string& procedure, Id after, int limit, bool dry_run,
                           const InstanceFilter& only = nullptr);

  std::optional<Instant> next_timer() override;
  void fire_timers() override;

  const RuntimeStats& stats() const { return stats_; }
  // Shrinks (or grows) the warm cache. An import sets it low: the instances it leaves
  // waiting wait on people for days, and keeping their states warm only costs memory.
  void set_cache_size(std::size_t size);
  std::size_t cached() const { return cache_index_.size(); }

  struct Live;  // a sandbox with an instance suspended in it

 private:
  // upgrade() of a running instance to `source`, the procedure's current text, and
  // `library`, the library folders' current version (read by current_library).
  UpgradeReport upgrade_to(const Instance& instance, const std::string& source,
                           const std::string& library, bool dry_run);
  // Runs one batch of runnable instances in one transaction; returns how many.
  std::size_t run_batch();
  // Activations run alone (isolated: in a savepoint, so a failure is recorded and rolls
  // back only that activation) or not (a failure throws BatchAttemptFailed, and the
  // caller rolls the whole batch back).
  void activate(Id id, bool isolated);
  struct BatchAttemptFailed {};
  // What instances print and log, held until their batch commits: an attempt that is
  // rolled back and run again must not say anything twice.
  void release_output();
  void run_activation(const Instance& instance, Live& live, int nargs);
  std::unique_ptr<Live> take_warm(const Instance& instance);
  std::unique_ptr<Live> build(const Instance& instance, std::vector<lua::Command> history,
                              bool verify_only);
  void keep_warm(Id id, std::unique_ptr<Live> live);
  void shrink_cache();
  void forget(Id id);
  std::unique_ptr<Sandbox> take_spare(const std::string& hash);
  // Keeps the sandbox of an instance that finished or left the cache, if it may be reused.
  void recycle(std::unique_ptr<Live> live);
  // A pinned source and, once compiled here, its bytecode (so replays skip the compiler).
  struct Compiled {
    std::string source;
    std::string bytecode;
  };
  Compiled& compiled_of(const std::string& hash);
  // pin() without the batch's memory: reads the file, checks it if its text (or the
  // library's) is new.
  Pin pin_file(const std::string& procedure);
  // The library folders' version now: its hash, its files kept in library_versions_.
  std::string current_library();
  // current_library(), kept in the store (once a batch, while a BatchHold is held).
  std::string pin_library();
  // The files of a library version, from library_versions_ or the store; null for none
  // (an instance from before pinned libraries reads the folders).
  std::shared_ptr<const LibraryFiles> library_files(const std::optional<std::string>& hash);
  std::filesystem::path procedure_file(const std::string& procedure) const;
  // Holds script files for one batch of activations (drain): within it, each procedure
  // and library file is read once, and every instance the batch starts or runs sees the
  // same text; between batches an edit takes effect.
  class BatchHold;

  Engine& engine_;
  InstanceStore store_;
  RuntimeOptions options_;
  std::function<void(std::string_view)> print_;
  RuntimeStats stats_;
  std::vector<LibraryDir> libraries_;
  ChunkCache libraries_compiled_;
  std::unordered_map<std::string, Compiled> compiled_;  // by source hash
  // Each procedure's source (and library) as last pinned and checked, by procedure name.
  std::unordered_map<std::string, Pin> pinned_;
  // Library versions read or loaded, by hash: what pinned instances require from. A hash
  // names one content, so an entry never goes stale.
  std::unordered_map<std::string, std::shared_ptr<const LibraryFiles>> library_versions_;
  // What this batch has pinned, by procedure name, and the library it pinned (only while a
  // BatchHold is held). An activation that fails rolls back what it stored, so it empties
  // these.
  bool in_batch_ = false;
  std::unordered_map<std::string, Pin> batch_pins_;
  std::optional<std::string> batch_library_;
  // The library pinned in a transaction outside a batch (a script starting an instance per
  // row reads the folders once), with that transaction's Database::transaction_serial.
  std::pair<std::uint64_t, std::string> transaction_library_;
  // The last batch had a failing activation: the next runs isolated from the start.
  bool isolate_next_batch_ = false;
  static constexpr int kPrinted = -1;  // a held line printed, not logged
  std::vector<std::pair<int, std::string>> held_output_;
  std::function<void(std::string_view)> hold_print_;
  std::function<void(int, std::string_view)> hold_log_;
  // Stores an instance with its input as stored: {"input": ..., "params": {...}} (built
  // only here).
  Id create_stored(const std::string& procedure, const Pin& pin, std::optional<Id> casegroup,
                   const std::string& stored_input, const std::string& started_by);
  // An instance's stored input, parsed by its creator, by instance until drain() ends. A
  // tree is used only while the instance's stored input is still `text`: a batch rolled
  // back gives its ids to the instances created next.
  struct ParsedInput {
    std::string text;
    nlohmann::ordered_json tree;
  };
  std::unordered_map<Id, ParsedInput> parsed_inputs_;
  // The warm cache: least recently used first.
  std::list<std::pair<Id, std::unique_ptr<Live>>> cache_;
  std::unordered_map<Id, decltype(cache_)::iterator> cache_index_;
  // Sandboxes free for the next instance of their procedure (by source hash), oldest first.
  static constexpr std::size_t kSpareSandboxes = 8;
  std::vector<std::pair<std::string, std::unique_ptr<Sandbox>>> spare_;
};

}  // namespace casekit
