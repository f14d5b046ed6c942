#include "engine/durable/runtime.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "bindings/journal.hpp"
#include "engine/runtime/procedure_run.hpp"
#include "engine/runtime/script_runner.hpp"

namespace casekit {

namespace {

// Who an instance's changes are audited as, and its SR notes signed by: "timers#12".
std::string actor_of(const Instance& instance) {
  return instance.procedure + "#" + std::to_string(instance.id);
}

}  // namespace

// A sandbox with an instance's coroutine in it. Member order matters: the host points at
// the journal, and the sandbox at the host.
struct ProcedureRuntime::Live {
  // `spare`, if given, is a sandbox an earlier instance of the same procedure left.
  Live(Engine& engine, const Instance& instance, std::vector<lua::Command> history,
       bool verify_only, const std::function<void(std::string_view)>& print,
       const std::function<void(int, std::string_view)>& log, const SandboxLimits& limits,
       const std::vector<LibraryDir>& libraries, lua::ProcedureStarter* starter,
       std::unique_ptr<Sandbox> spare)
      : journal(std::move(history), verify_only, static_cast<int>(instance.history_format)),
        host{engine, actor_of(instance), print, &journal, instance.id, starter, log},
        sandbox(std::move(spare)) {
    if (sandbox) {
      sandbox->renew(&host);
    } else {
      sandbox = std::make_unique<Sandbox>(limits, libraries, &host);
    }
  }

  lua::Journal journal;
  lua::Host host;
  std::unique_ptr<Sandbox> sandbox;
  lua_State* co = nullptr;
  std::string hash;
  std::optional<std::string> library_hash;
  std::shared_ptr<const LibraryFiles> library;  // what the sandbox requires from, if pinned
};

namespace {

std::string display_file(const std::string& procedure) {
  return "procedures/" + procedure + ".lua";
}

bool valid_procedure_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// "procedures/x.lua:12" from "procedures/x.lua:12: message", when the message has one.
std::optional<std::string> line_of(const std::string& message) {
  const auto lua = message.find(".lua:");
  if (lua == std::string::npos) return std::nullopt;
  const auto end = message.find(':', lua + 5);
  if (end == std::string::npos) return std::nullopt;
  return message.substr(0, end);
}

}  // namespace

ProcedureRuntime::ProcedureRuntime(Engine& engine, RuntimeOptions options,
                                   std::function<void(std::string_view)> print)
    : engine_(engine),
      store_(engine.db, engine.clock),
      options_(options),
      print_(std::move(print)),
      libraries_(library_dirs(engine.home)),
      hold_print_([this](std::string_view s) { held_output_.emplace_back(kPrinted, s); }),
      hold_log_([this](int level, std::string_view s) { held_output_.emplace_back(level, s); }) {}

ProcedureRuntime::~ProcedureRuntime() = default;

std::filesystem::path procedure_file(const Home& home, const std::string& procedure) {
  if (!valid_procedure_name(procedure)) {
    throw Error(ErrorCode::bad_argument,
                "bad procedure name '" + procedure + "' (letters, digits and _ only)");
  }
  return home.procedures() / (procedure + ".lua");
}

std::filesystem::path existing_procedure_file(const Home& home, const std::string& procedure) {
  auto file = procedure_file(home, procedure);
  if (!std::filesystem::exists(file)) {
    throw Error(ErrorCode::not_found, "no procedure '" + procedure + "' (" +
                                          display_file(procedure) + " does not exist)");
  }
  return file;
}

std::filesystem::path ProcedureRuntime::procedure_file(const std::string& procedure) const {
  return casekit::procedure_file(engine_.home, procedure);
}

ProcedureRuntime::Compiled& ProcedureRuntime::compiled_of(const std::string& hash) {
  auto it = compiled_.find(hash);
  if (it == compiled_.end()) it = compiled_.emplace(hash, Compiled{store_.source(hash), {}}).first;
  return it->second;
}

class ProcedureRuntime::BatchHold {
 public:
  explicit BatchHold(ProcedureRuntime& runtime) : runtime_(runtime), outer_(runtime.in_batch_) {
    runtime_.in_batch_ = true;
    runtime_.libraries_compiled_.hold_files(true);
  }
  ~BatchHold() {
    if (outer_) return;
    runtime_.in_batch_ = false;
    runtime_.batch_pins_.clear();
    runtime_.batch_library_.reset();
    runtime_.libraries_compiled_.hold_files(false);
  }
  BatchHold(const BatchHold&) = delete;
  BatchHold& operator=(const BatchHold&) = delete;

 private:
  ProcedureRuntime& runtime_;
  bool outer_;  // held already by an enclosing batch, which ends it
};

Pin ProcedureRuntime::pin(const std::string& procedure) {
  if (const auto it = batch_pins_.find(procedure); it != batch_pins_.end()) return it->second;
  Pin pin = pin_file(procedure);
  if (in_batch_) batch_pins_.emplace(procedure, pin);
  return pin;
}

std::string ProcedureRuntime::current_library() {
  auto files = read_library_files(libraries_);
  std::string hash = library_hash(files);
  if (!library_versions_.contains(hash)) {
    library_versions_.emplace(hash, std::make_shared<const LibraryFiles>(std::move(files)));
  }
  return hash;
}

std::string ProcedureRuntime::pin_library() {
  if (batch_library_) return *batch_library_;
  // Every instance one transaction starts is pinned to the same version, read once.
  const std::uint64_t transaction = engine_.db.transaction_serial();
  if (transaction != 0 && transaction_library_.first == transaction) {
    return transaction_library_.second;
  }
  const std::string hash = current_library();
  store_.keep_library(*library_versions_.at(hash));
  if (in_batch_) {
    batch_library_ = hash;
  } else if (transaction != 0) {
    transaction_library_ = {transaction, hash};
  }
  return hash;
}

std::shared_ptr<const LibraryFiles> ProcedureRuntime::library_files(
    const std::optional<std::string>& hash) {
  if (!hash) return nullptr;
  auto it = library_versions_.find(*hash);
  if (it == library_versions_.end()) {
    it = library_versions_
             .emplace(*hash, std::make_shared<const LibraryFiles>(store_.library(*hash)))
             .first;
  }
  return it->second;
}

Pin ProcedureRuntime::pin_file(const std::string& procedure) {
  std::string source = read_script(existing_procedure_file(engine_.home, procedure));
  const std::string library = pin_library();
  // A script that starts a procedure per row (the import starts arrears_negotiation for
  // most casegroups) pins the same file again and again: while its text and the library
  // are unchanged, the check below has been done and only this database's copy of the
  // source needs making sure.
  if (auto last = pinned_.find(procedure);
      last != pinned_.end() && last->second.library == library) {
    if (compiled_of(last->second.source).source == source) {
      if (!store_.has_source(last->second.source)) {
        store_.keep_source(procedure, display_file(procedure), source);
      }
      return last->second;
    }
  }
  std::string bytecode;
  {
    // Check the declaration, its requires included, before anything is stored. A journal
    // that has nothing to replay and may not run live makes any engine call at the top
    // level an error.
    lua::Journal journal({}, true);
    lua::Host host{engine_, "check", {}, &journal, 0};
    Sandbox sandbox(options_.limits, libraries_, &host);
    sandbox.cache_libraries_in(&libraries_compiled_);
    const auto files = library_files(library);
    sandbox.pin_libraries(files.get());
    sandbox.load(source, display_file(procedure));
    bytecode = sandbox.dump_function();
    run_declaration(sandbox, procedure, display_file(procedure));
  }
  Pin pin{store_.keep_source(procedure, display_file(procedure), source), library};
  // The first activation loads what the check just compiled.
  compiled_.try_emplace(pin.source, Compiled{std::move(source), std::move(bytecode)});
  pinned_.insert_or_assign(procedure, pin);
  return pin;
}

Id ProcedureRuntime::create_stored(const std::string& procedure, const Pin& pin,
                                   std::optional<Id> casegroup, const std::string& stored_input,
                                   const std::string& started_by) {
  if (casegroup) engine_.casegroups.require(*casegroup);
  return store_.create(procedure, pin, casegroup, stored_input, started_by);
}

Id ProcedureRuntime::create_pinned(const std::string& procedure, const Pin& pin,
                                   std::optional<Id> casegroup, std::string_view input_text,
                                   nlohmann::ordered_json input, const std::string& started_by) {
  std::string stored = R"({"input":)";
  stored.append(input_text).append(R"(,"params":{}})");
  const Id id = create_stored(procedure, pin, casegroup, stored, started_by);
  parsed_inputs_.insert_or_assign(
      id, ParsedInput{std::move(stored),
                      {{"input", std::move(input)}, {"params", nlohmann::ordered_json::object()}}});
  return id;
}

Id ProcedureRuntime::create(const std::string& procedure, std::optional<Id> casegroup,
                            const std::map<std::string, std::string>& params,
                            const std::string& started_by) {
  return create_stored(procedure, pin(procedure), casegroup,
                       nlohmann::json{{"params", params}}.dump(), started_by);
}

bool ProcedureRuntime::procedure_exists(const std::string& procedure) {
  return batch_pins_.contains(procedure) || std::filesystem::exists(procedure_file(procedure));
}

Id ProcedureRuntime::create_instance(const std::string& procedure, std::optional<Id> casegroup,
                                     const std::map<std::string, std::string>& params,
                                     const std::string& started_by) {
  return create(procedure, casegroup, params, started_by);
}

Id ProcedureRuntime::start(const std::string& procedure, std::optional<Id> casegroup,
                           const std::map<std::string, std::string>& params,
                           const std::string& started_by) {
  Id id = 0;
  {
    ActorScope actor(engine_.db, started_by);
    Transaction tx(engine_.db);
    id = create(procedure, casegroup, params, started_by);
    tx.commit();
  }
  drain();
  return id;
}

std::unique_ptr<ProcedureRuntime::Live> ProcedureRuntime::build(const Instance& instance,
                                                                std::vector<lua::Command> history,
                                                                bool verify_only) {
  // An upgrade check takes a sandbox that an earlier check of the same source left (a bulk
  // upgrade checks many instances against one source), as an activation takes one.
  auto spare = take_spare(instance.source_hash);
  auto live =
      std::make_unique<Live>(engine_, instance, std::move(history), verify_only, hold_print_,
                             hold_log_, options_.limits, libraries_, this, std::move(spare));
  live->hash = instance.source_hash;
  live->library_hash = instance.library_hash;
  live->library = library_files(instance.library_hash);
  Sandbox& sandbox = *live->sandbox;
  sandbox.cache_libraries_in(&libraries_compiled_);
  sandbox.pin_libraries(live->library.get());
  if (sandbox.push_main()) {
    ++stats_.sandboxes_reused;
  } else {
    Compiled& compiled = compiled_of(instance.source_hash);
    if (compiled.bytecode.empty()) {
      sandbox.load(compiled.source, display_file(instance.procedure));
      compiled.bytecode = sandbox.dump_function();
    } else {
      sandbox.load_own_bytecode(compiled.bytecode, display_file(instance.procedure));
    }
    sandbox.keep_main();
  }
  // Run afresh in each instance: the chunk's top-level locals are the instance's own.
  run_declaration(sandbox, instance.procedure, display_file(instance.procedure));
  const auto held = parsed_inputs_.find(instance.id);
  const bool use_held = held != parsed_inputs_.end() && held->second.text == instance.input;
  live->co =
      start_run(sandbox, {instance.id, instance.procedure, instance.started_by, instance.casegroup,
                          instance.input, use_held ? &held->second.tree : nullptr});
  if (held != parsed_inputs_.end()) parsed_inputs_.erase(held);
  return live;
}

std::unique_ptr<ProcedureRuntime::Live> ProcedureRuntime::take_warm(const Instance& instance) {
  auto it = cache_index_.find(instance.id);
  if (it == cache_index_.end()) return nullptr;
  std::unique_ptr<Live> live = std::move(it->second->second);
  cache_.erase(it->second);
  cache_index_.erase(it);
  // Usable only if it stopped exactly where the stored history ends (another process may
  // have moved the instance on) and on the same source.
  const auto& history = live->journal.history();
  if (live->hash != instance.source_hash || live->library_hash != instance.library_hash ||
      history.empty() || history.back().result ||
      history.back().seq != store_.last_seq(instance.id)) {
    return nullptr;
  }
  return live;
}

void ProcedureRuntime::keep_warm(Id id, std::unique_ptr<Live> live) {
  if (options_.cache_size == 0) {
    recycle(std::move(live));
    return;
  }
  forget(id);
  cache_.emplace_back(id, std::move(live));
  cache_index_[id] = std::prev(cache_.end());
  shrink_cache();
}

void ProcedureRuntime::set_cache_size(std::size_t size) {
  options_.cache_size = size;
  shrink_cache();
}

void ProcedureRuntime::shrink_cache() {
  while (cache_.size() > options_.cache_size) {
    cache_index_.erase(cache_.front().first);
    recycle(std::move(cache_.front().second));
    cache_.pop_front();
  }
}

std::unique_ptr<Sandbox> ProcedureRuntime::take_spare(const std::string& hash) {
  for (auto it = spare_.rbegin(); it != spare_.rend(); ++it) {
    if (it->first != hash) continue;
    auto sandbox = std::move(it->second);
    spare_.erase(std::next(it).base());
    return sandbox;
  }
  return nullptr;
}

void ProcedureRuntime::recycle(std::unique_ptr<Live> live) {
  if (!options_.reuse_sandboxes || !live || !live->sandbox->reusable()) return;
  // The instance's coroutine, and everything only it reached, become garbage; the host it
  // ran with goes with `live`, and renew() gives the next instance its own.
  live->sandbox->put_aside(live->co);
  spare_.emplace_back(live->hash, std::move(live->sandbox));
  if (spare_.size() > kSpareSandboxes) spare_.erase(spare_.begin());
}

void ProcedureRuntime::forget(Id id) {
  auto it = cache_index_.find(id);
  if (it == cache_index_.end()) return;
  cache_.erase(it->second);
  cache_index_.erase(it);
}

void ProcedureRuntime::activate(Id id, bool isolated) {
  const Instance instance = store_.get(id);
  if (instance.status != "runnable") return;
  ++stats_.activations;
  // Timed on the steady clock: this measures the machine, not the procedure's time.
  struct Timed {
    Histogram& into;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    ~Timed() {
      into.add(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  } timed{stats_.activation_seconds};
  ActorScope actor(engine_.db, actor_of(instance));
  std::unique_ptr<Live> live;
  std::optional<Incident> failure;
  {
    std::optional<Savepoint> savepoint;
    if (isolated) savepoint.emplace(engine_.db);
    try {
      int nargs = 1;
      bool from_the_start = false;  // no history before this activation
      live = take_warm(instance);
      if (live) {
        ++stats_.warm_resumes;
        const auto result = store_.command_result(id, live->journal.history().back().seq);
        if (!result) throw Error(ErrorCode::internal, "runnable instance's wait has no result");
        live->journal.resolve_last(*result);
        nargs = push_wait_result(live->co, *result);
      } else {
        auto history = store_.history(id);
        if (!history.empty()) ++stats_.replays;
        from_the_start = history.empty();
        live = build(instance, std::move(history), false);
      }
      live->sandbox->start_activation();
      int nresults = 0;
      const auto how = live->sandbox->resume(live->co, nargs, &nresults);
      if (how == Sandbox::Resume::finished) live->journal.check_consumed("the script ended");
      if (live->journal.divergence()) throw Error(ErrorCode::script, live->journal.halt_message());
      // An instance that has ended will never be replayed, so its history is not kept
      // (RuntimeOptions::keep_history): what it changed is in the audit under its actor.
      const bool finished = how == Sandbox::Resume::finished;
      if (!finished || options_.keep_history) store_.append(id, live->journal.unsaved());
      if (finished && !from_the_start && !options_.keep_history) store_.forget_history(id);
      live->journal.mark_saved();
      if (how == Sandbox::Resume::yielded) {
        if (!live->journal.pending) {
          throw Error(ErrorCode::internal, "replay stopped at a wait that has not ended");
        }
        store_.set_waiting(id, *live->journal.pending);
        live->journal.pending.reset();
      } else {
        store_.set_completed(id, run_result(live->co, nresults));
      }
      if (savepoint) {
        savepoint->release();
      } else {
        engine_.db.flush_audit();  // as the savepoint would: the batch's audit stays small
      }
      if (how == Sandbox::Resume::yielded) {
        keep_warm(id, std::move(live));
      } else {
        recycle(std::move(live));
      }
    } catch (const Error& e) {
      if (!isolated) throw BatchAttemptFailed{};
      Incident incident;
      incident.instance = id;
      if (live && live->journal.divergence()) {
        const auto& d = *live->journal.divergence();
        incident.kind = "divergence";
        incident.position = d.position;
        incident.expected = d.expected;
        incident.found = d.found;
        incident.line = d.line;
        incident.message = d.message;
      } else {
        incident.kind = "error";
        incident.message = e.what();
        incident.line = line_of(incident.message);
      }
      failure = std::move(incident);
    }
  }
  if (failure) {
    // The savepoint has rolled the activation back, sources it pinned included; what is
    // left to record is the failure.
    forget(id);
    batch_pins_.clear();
    batch_library_.reset();
    store_.set_failed(id, failure->message);
    store_.record_incident(*failure);
    spdlog::warn("instance {} ({}) failed: {}", id, instance.procedure, failure->message);
    isolate_next_batch_ = true;
  }
}

void ProcedureRuntime::release_output() {
  for (auto& [level, line] : held_output_) {
    if (level == kPrinted) {
      if (print_) print_(line);
    } else {
      spdlog::log(static_cast<spdlog::level::level_enum>(level), "{}", line);
    }
  }
  held_output_.clear();
}

// A savepoint per activation copies every page the activation changes, in case it has to
// be rolled back alone: most of what a batch writes, copied once more. So a batch first
// runs without them. Should an activation fail, that attempt is rolled back whole and the
// batch runs again with a savepoint per activation, which records the failure and commits
// the others; the next batch starts isolated too, in case the failures go on.
std::size_t ProcedureRuntime::run_batch() {
  BatchHold hold(*this);
  for (;;) {
    const bool isolated = isolate_next_batch_;
    isolate_next_batch_ = false;
    std::vector<Id> ids;
    try {
      Transaction tx(engine_.db);
      ids = store_.runnable(options_.batch_size);
      for (Id id : ids) activate(id, isolated);
      tx.commit();
      release_output();
      return ids.size();
    } catch (const BatchAttemptFailed&) {
      // Rolled back: this attempt's instances must be rebuilt from the store, and the
      // sources it pinned are gone with it. The batch runs again, isolated.
      for (Id id : ids) forget(id);
      batch_pins_.clear();
      batch_library_.reset();
      held_output_.clear();
      isolate_next_batch_ = true;
    } catch (...) {
      // The batch rolled back, so cached states may be ahead of the store.
      cache_.clear();
      cache_index_.clear();
      held_output_.clear();
      throw;
    }
  }
}

std::size_t ProcedureRuntime::drain() {
  // Whatever happens, no held input outlives the drain its instances were created for.
  struct ForgetParsedInputs {
    std::unordered_map<Id, ParsedInput>& held;
    ~ForgetParsedInputs() { held.clear(); }
  } forget_parsed{parsed_inputs_};
  std::size_t total = 0;
  while (const std::size_t ran = run_batch()) total += ran;
  return total;
}

WorkItem ProcedureRuntime::complete_task(Id item_id, const std::string& outcome,
                                         const std::map<std::string, std::string>& fields,
                                         const std::string& user) {
  WorkItem item;
  {
    ActorScope actor(engine_.db, "user:" + user);
    Transaction tx(engine_.db);
    item = engine_.work_items.complete(item_id, outcome, fields, user);
    if (item.spec.instance_id) {
      const Instance instance = store_.get(*item.spec.instance_id);
      if (instance.status == "waiting" && instance.wait_kind == "task" &&
          instance.wait_ref == item.id) {
        nlohmann::json result = {{"outcome", outcome},
                                 {"fields", item.field_values},
                                 {"by", user},
                                 {"at", item.completed_at.value_or("")},
                                 {"work_item", item.id}};
        store_.resolve_wait(instance, nlohmann::json::array({result}));
      }
    }
    tx.commit();
  }
  drain();
  return item;
}

namespace {

// Whether the event.await a waiting instance recorded (its arguments, as JSON text) takes
// signal `name`: its `name`, or one of its `names`.
bool waits_for(const std::string& args_json, const std::string& name) {
  const auto args = nlohmann::json::parse(args_json, nullptr, false);
  if (!args.is_array() || args.empty() || !args[0].is_object()) return false;
  const auto& spec = args[0];
  if (spec.contains("name") && spec["name"] == name) return true;
  if (spec.contains("names") && spec["names"].is_array()) {
    for (const auto& n : spec["names"]) {
      if (n == name) return true;
    }
  }
  return false;
}

}  // namespace

std::vector<Id> ProcedureRuntime::signal(const SignalTarget& target, const std::string& name,
                                         const nlohmann::json& data, const std::string& user) {
  if (!lua::is_signal_name(name)) {
    throw Error(ErrorCode::bad_argument,
                "'" + name + "' is not a signal name (lower-case letters, digits and _)");
  }
  if (!data.is_object()) throw Error(ErrorCode::bad_argument, "signal data must be a JSON object");
  if (!target.instance && !target.casegroup) {
    throw Error(ErrorCode::bad_argument, "a signal goes to an instance or a casegroup");
  }
  std::vector<Id> woken;
  {
    ActorScope actor(engine_.db, "user:" + user);
    Transaction tx(engine_.db);
    const User sender = engine_.users.require(user);
    if (!works_casegroups(sender.role)) {
      throw Error(ErrorCode::forbidden, "user '" + user + "' (" + sender.role +
                                            ") may not send signals: caseworkers, team leaders, "
                                            "senior managers and operators may");
    }
    if (target.instance) store_.get(*target.instance);  // a wrong id is an error
    if (target.casegroup) engine_.casegroups.get(*target.casegroup);
    for (const auto& [id, args] : store_.signal_waits(target.instance, target.casegroup)) {
      if (!waits_for(args, name)) continue;
      const nlohmann::json result = {{"kind", "signal"},
                                     {"signal",
                                      {{"name", name},
                                       {"data", data},
                                       {"by", user},
                                       {"at", format_instant(engine_.clock.now())}}}};
      store_.resolve_wait(store_.get(id), nlohmann::json::array({result}));
      woken.push_back(id);
    }
    if (woken.empty()) {
      throw Error(ErrorCode::not_found,
                  "no instance " +
                      (target.instance ? std::to_string(*target.instance)
                                       : "on casegroup " + std::to_string(*target.casegroup)) +
                      " is waiting for signal '" + name + "'; nothing was sent");
    }
    tx.commit();
  }
  drain();
  return woken;
}

Id ProcedureRuntime::record_payment(Id account, Pence amount, const std::string& date) {
  Id id = 0;
  {
    Transaction tx(engine_.db);
    id = engine_.ledger.record_payment(account, amount, date, std::nullopt, std::nullopt);
    tx.commit();
  }
  drain();
  return id;
}

FulfilResult ProcedureRuntime::fulfil_letters(const std::filesystem::path& outbox, int limit) {
  FulfilResult result = engine_.letters.fulfil(outbox, limit);
  drain();
  return result;
}

void ProcedureRuntime::retry(Id id) {
  {
    Transaction tx(engine_.db);
    const Instance instance = store_.get(id);
    if (instance.status != "failed") {
      throw Error(ErrorCode::invalid, "instance " + std::to_string(id) + " is " + instance.status +
                                          "; only a failed instance can be retried");
    }
    store_.resolve_incidents(id, "retried");
    store_.set_runnable(id);
    tx.commit();
  }
  drain();
}

void ProcedureRuntime::cancel(Id id) {
  Transaction tx(engine_.db);
  const Instance instance = store_.get(id);
  if (instance.status == "completed" || instance.status == "cancelled") {
    throw Error(ErrorCode::invalid,
                "instance " + std::to_string(id) + " is already " + instance.status);
  }
  engine_.work_items.cancel_for_instance(id);
  store_.set_cancelled(id);
  if (!options_.keep_history) store_.forget_history(id);
  store_.resolve_incidents(id, "cancelled");
  tx.commit();
  forget(id);
}

UpgradeReport ProcedureRuntime::upgrade(Id id, bool dry_run) {
  const Instance instance = store_.get(id);
  if (instance.status == "completed" || instance.status == "cancelled") {
    throw Error(ErrorCode::invalid, "instance " + std::to_string(id) + " is " + instance.status +
                                        "; nothing to upgrade");
  }
  return upgrade_to(instance, read_script(procedure_file(instance.procedure)), current_library(),
                    dry_run);
}

namespace {

// "source 1a2b..., library 3c4d..." (or "library folders" for an instance from before
// libraries were pinned).
std::string describe(const std::string& source, const std::optional<std::string>& library) {
  return "source " + source + ", library " + library.value_or("folders");
}

}  // namespace

UpgradeReport ProcedureRuntime::upgrade_to(const Instance& instance, const std::string& source,
                                           const std::string& library, bool dry_run) {
  const Id id = instance.id;
  const std::string hash = source_hash(source);
  const std::string from = describe(instance.source_hash, instance.library_hash);
  const std::string to = describe(hash, library);
  UpgradeReport report;
  if (hash == instance.source_hash && instance.library_hash == library) {
    report.up_to_date = true;
    report.message =
        "instance " + std::to_string(id) + " already runs the current source (" + to + ")";
    return report;
  }
  auto history = store_.history(id);
  const std::size_t commands = history.size();
  if (!compiled_.contains(hash)) compiled_.emplace(hash, Compiled{source, {}});
  Instance candidate = instance;
  candidate.source_hash = hash;
  candidate.library_hash = library;
  std::unique_ptr<Live> live;
  std::string failure;
  try {
    live = build(candidate, std::move(history), true);
    int nresults = 0;
    const auto how = live->sandbox->resume(live->co, 1, &nresults);
    if (how == Sandbox::Resume::finished) live->journal.check_consumed("the new source ended");
  } catch (const Error& e) {
    if (!live || (!live->journal.halted())) failure = e.what();
  }
  // Nothing a verification printed or logged happened: it only replayed.
  held_output_.clear();
  std::optional<lua::Divergence> divergence;
  if (live) divergence = live->journal.divergence();
  // A replay that ran to its end or stopped at a divergence leaves a sandbox the next check
  // of this source can use.
  if (live && failure.empty()) recycle(std::move(live));
  if (divergence) {
    report.divergence = std::move(divergence);
    report.message = "not upgraded: " + report.divergence->message;
    return report;
  }
  if (!failure.empty()) {
    report.message = "not upgraded: the current source fails while replaying: " + failure;
    return report;
  }
  report.replays = true;
  if (dry_run) {
    report.message = "instance " + std::to_string(id) + " would be upgraded from " + from + " to " +
                     to + " (" + std::to_string(commands) + " commands replayed)";
    return report;
  }
  {
    Transaction tx(engine_.db);
    store_.keep_source(instance.procedure, display_file(instance.procedure), source);
    store_.keep_library(*library_files(library));
    store_.set_pin(id, {hash, library});
    tx.commit();
  }
  forget(id);
  report.switched = true;
  report.message = "instance " + std::to_string(id) + " upgraded from " + from + " to " + to +
                   " (" + std::to_string(commands) + " commands replayed)";
  return report;
}

std::vector<std::pair<Id, UpgradeReport>> ProcedureRuntime::upgrade_all(
    const std::string& procedure, bool dry_run, const InstanceFilter& only) {
  std::vector<std::pair<Id, UpgradeReport>> out;
  Id after = 0;
  for (;;) {
    auto page = upgrade_page(procedure, after, 1000, dry_run, only);
    std::move(page.reports.begin(), page.reports.end(), std::back_inserter(out));
    if (!page.next) return out;
    after = *page.next;
  }
}

ProcedureRuntime::UpgradePage ProcedureRuntime::upgrade_page(const std::string& procedure, Id after,
                                                             int limit, bool dry_run,
                                                             const InstanceFilter& only) {
  // Read once: every instance of the page is verified against the same text (and an unknown
  // procedure is an error, not "none running").
  const std::string source = read_script(procedure_file(procedure));
  const std::string library = current_library();
  UpgradePage page;
  const auto running = store_.running(procedure, after, limit);
  for (const Instance& i : running) {
    if (only && !only(i)) continue;
    page.reports.emplace_back(i.id, upgrade_to(i, source, library, dry_run));
  }
  if (static_cast<int>(running.size()) == limit) page.next = running.back().id;
  return page;
}

nlohmann::json to_json(const std::string& procedure, bool dry_run,
                       const std::vector<std::pair<Id, UpgradeReport>>& reports) {
  int moved = 0, diverged = 0;
  nlohmann::json items = nlohmann::json::array();
  for (const auto& [id, r] : reports) {
    diverged += r.divergence ? 1 : 0;
    moved += (dry_run ? r.replays : r.switched) ? 1 : 0;
    items.push_back(to_json(id, r));
  }
  return {{"procedure", procedure},
          {"dry_run", dry_run},
          {"instances", items},
          {"upgraded", moved},
          {"diverged", diverged}};
}

nlohmann::json to_json(Id instance, const UpgradeReport& r) {
  nlohmann::json divergence = nullptr;
  if (r.divergence) {
    divergence = {{"position", r.divergence->position},
                  {"expected", r.divergence->expected},
                  {"found", r.divergence->found},
                  {"line", r.divergence->line}};
  }
  return {{"instance", instance},
          {"switched", r.switched},
          {"replays", r.replays},
          {"message", r.message},
          {"divergence", divergence}};
}

std::optional<Instant> ProcedureRuntime::next_timer() {
  return store_.next_wake();
}

void ProcedureRuntime::fire_timers() {
  {
    Transaction tx(engine_.db);
    store_.fire_due_timers(engine_.clock.now());
    tx.commit();
  }
  drain();
}

}  // namespace casekit
