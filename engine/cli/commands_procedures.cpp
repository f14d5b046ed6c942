// casekit start | signal | instance list|show|history|retry|cancel|upgrade | incident list
#include <iostream>

#include "engine/cli/cli.hpp"

namespace casekit::cli {

std::string describe_wait(const Instance& i) {
  if (!i.wait_kind) return "-";
  std::string out = *i.wait_kind;
  if (*i.wait_kind == "task" && i.wait_ref)
    out += " (work item " + std::to_string(*i.wait_ref) + ")";
  if (*i.wait_kind == "payment" && i.wait_ref)
    out += " (account " + std::to_string(*i.wait_ref) + ")";
  if (*i.wait_kind == "letter" && i.wait_ref)
    out += " (letter " + std::to_string(*i.wait_ref) + ")";
  if (*i.wait_kind == "sr" && i.wait_ref) out += " (SR " + std::to_string(*i.wait_ref) + ")";
  if (i.wake_at) out += (*i.wait_kind == "timer" ? " until " : ", timeout ") + *i.wake_at;
  return out;
}

namespace {

// Long arguments and results are cut for the table; --json has them whole.
std::string clipped(const std::string& s, std::size_t width = 60) {
  if (s.size() <= width) return s;
  std::size_t cut = width - 3;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
  return s.substr(0, cut) + "...";
}

// One line on what happened to an instance, for start/retry/task complete (with --json the
// instance as `instance show --json` has it); a failed one makes the exit status 1.
void report(ProcedureRuntime& runtime, Id id, bool json = false) {
  const Instance i = runtime.store().get(id);
  if (json) {
    print_json(to_json(i));
  } else {
    std::cout << "instance " << i.id << " (" << i.procedure << "): " << i.status;
    if (i.status == "waiting") std::cout << " on " << describe_wait(i);
    if (i.status == "failed") std::cout << ": " << i.error.value_or("");
    std::cout << "\n";
  }
  if (i.status == "failed") {
    throw Error(ErrorCode::script,
                "instance " + std::to_string(id) + " failed; see `casekit incident list`");
  }
}

void add_start(CLI::App& app, Context& ctx) {
  struct Options {
    std::string procedure;
    std::optional<std::int64_t> casegroup;
    std::vector<std::string> params;
    std::string as = "operator";
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* start =
      app.add_subcommand("start", "Start a procedure instance and run it to its first wait");
  start->add_option("procedure", o->procedure, "procedure name (procedures/NAME.lua)")->required();
  start->add_option("--casegroup", o->casegroup, "the casegroup it works on (ctx.casegroup)");
  start->add_option("--param", o->params, "KEY=VALUE, repeatable (ctx.params)");
  auto* as = start->add_option("--as", o->as, "who starts it, a user (recorded as started_by)");
  start->add_flag("--json", o->json, "print the instance as JSON");
  start->callback([&ctx, o, as] {
    ProcedureRuntime& runtime = ctx.runtime();
    // A name given must be a user who may act; without one the CLI's own "operator" starts it.
    if (as->count() > 0) ctx.open().users.require(o->as);
    const auto params = key_values(o->params, "--param");
    // Two instances working one SR would each act on it; the first is left to finish.
    if (const auto sr = params.find("sr"); sr != params.end()) {
      if (const auto running = runtime.store().active_for_sr(o->procedure, sr->second)) {
        throw Error(ErrorCode::conflict, "instance " + std::to_string(*running) + " of " +
                                             o->procedure + " is already working SR " + sr->second +
                                             " (casekit instance show " + std::to_string(*running) +
                                             ")");
      }
    }
    const Id id = runtime.start(o->procedure, o->casegroup, params, o->as);
    report(runtime, id, o->json);
  });
}

void add_signal(CLI::App& app, Context& ctx) {
  struct Options {
    std::string name;
    std::optional<std::int64_t> instance;
    std::optional<std::int64_t> casegroup;
    std::string data = "{}";
    std::string as;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* signal = app.add_subcommand(
      "signal",
      "Send a named signal to the instances waiting for it (event.await{kind=\"signal\"})");
  signal->add_option("name", o->name, "the signal: cis_address, hmrc_employment, ...")->required();
  auto* instance = signal->add_option("--instance", o->instance, "the one instance it goes to");
  auto* casegroup =
      signal->add_option("--casegroup", o->casegroup, "every instance on this casegroup");
  instance->excludes(casegroup);
  signal->add_option("--data", o->data, "a JSON object the instance receives (default {})");
  signal->add_option("--as", o->as, "who sends it (casekit user add)")->required();
  signal->add_flag("--json", o->json, "print the woken instances as JSON");
  signal->callback([&ctx, o] {
    if (!o->instance && !o->casegroup) {
      throw Error(ErrorCode::bad_argument, "say where the signal goes: --instance or --casegroup");
    }
    const auto data = nlohmann::json::parse(o->data, nullptr, false);
    if (data.is_discarded() || !data.is_object()) {
      throw Error(ErrorCode::bad_argument, "--data must be a JSON object");
    }
    ProcedureRuntime& runtime = ctx.runtime();
    const auto woken = runtime.signal({o->instance, o->casegroup}, o->name, data, o->as);
    if (o->json) {
      print_json_list(woken, [&](Id id) { return to_json(runtime.store().get(id)); });
      return;
    }
    std::cout << "signal " << o->name << " sent by " << o->as << " to " << woken.size()
              << (woken.size() == 1 ? " instance\n" : " instances\n");
    for (Id id : woken) report(runtime, id);
  });
}

void add_instance(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("instance", "Procedure instances");
  group->require_subcommand(1);

  struct ListOptions {
    std::string status;
    std::string procedure;
    std::int64_t casegroup = 0;
    std::int64_t after = 0;
    int limit = 1000;
    bool json = false;
  };
  auto lo = std::make_shared<ListOptions>();
  auto* list = group->add_subcommand("list", "Instances in id order");
  list->add_option("--status", lo->status, "runnable, waiting, completed, failed or cancelled")
      ->check(CLI::IsMember({"runnable", "waiting", "completed", "failed", "cancelled"}));
  list->add_option("--procedure", lo->procedure, "only this procedure's");
  list->add_option("--casegroup", lo->casegroup, "only this casegroup's")
      ->check(CLI::PositiveNumber);
  list->add_option("--after", lo->after, "those after this id (the last of the page before)")
      ->check(CLI::NonNegativeNumber);
  list->add_option("--limit", lo->limit, "at most this many")->check(CLI::Range(1, 10000000));
  list->add_flag("--json", lo->json, "print JSON");
  list->callback([&ctx, lo] {
    auto& store = ctx.runtime().store();
    InstanceStore::Filter filter;
    if (!lo->status.empty()) filter.status = lo->status;
    if (!lo->procedure.empty()) filter.procedure = lo->procedure;
    if (lo->casegroup > 0) filter.casegroup = lo->casegroup;
    filter.after_id = lo->after;
    filter.limit = lo->limit;
    const auto all = store.list(filter);
    if (lo->json) {
      print_json_list(all);
      return;
    }
    std::vector<std::vector<std::string>> rows = {
        {"id", "procedure", "casegroup", "status", "waiting on", "updated"}};
    for (const auto& i : all) {
      rows.push_back({std::to_string(i.id), i.procedure,
                      i.casegroup ? std::to_string(*i.casegroup) : "-", i.status, describe_wait(i),
                      i.updated_at});
    }
    print_table(rows);
  });

  struct IdOptions {
    std::int64_t id = 0;
    bool json = false;
  };
  auto so = std::make_shared<IdOptions>();
  auto* show = group->add_subcommand("show", "One instance: status, wait, source, incidents");
  show->add_option("id", so->id, "instance id")->required();
  show->add_flag("--json", so->json, "print JSON");
  show->callback([&ctx, so] {
    auto& store = ctx.runtime().store();
    const Instance i = store.get(so->id);
    const auto incidents = store.incidents(true, i.id);
    if (so->json) {
      nlohmann::json out = to_json(i);
      out["history_length"] = store.last_seq(i.id);
      out["incidents"] = nlohmann::json::array();
      for (const auto& inc : incidents) out["incidents"].push_back(to_json(inc));
      print_json(out);
      return;
    }
    std::cout << "instance " << i.id << ": " << i.procedure << " (source " << i.source_hash
              << ", library " << i.library_hash.value_or("folders") << ")\n"
              << "status:     " << i.status << "\n"
              << "waiting on: " << describe_wait(i) << "\n"
              << "casegroup:  " << (i.casegroup ? std::to_string(*i.casegroup) : "-") << "\n"
              << "params:     "
              << nlohmann::json::parse(i.input).value("params", nlohmann::json::object()).dump()
              << "\n"
              << "started:    " << i.created_at << " by " << i.started_by << "\n"
              << "updated:    " << i.updated_at << "\n"
              << "commands:   " << store.last_seq(i.id) << "\n";
    if (i.result) std::cout << "result:     " << *i.result << "\n";
    if (i.error) std::cout << "error:      " << *i.error << "\n";
    for (const auto& inc : incidents) {
      std::cout << "incident " << inc.id << " (" << inc.kind << ", "
                << inc.resolution.value_or("open") << "): " << inc.message << "\n";
    }
  });

  auto ho = std::make_shared<IdOptions>();
  auto* history = group->add_subcommand("history", "Every recorded command, with its result");
  history->add_option("id", ho->id, "instance id")->required();
  history->add_flag("--json", ho->json, "print JSON");
  history->callback([&ctx, ho] {
    auto& store = ctx.runtime().store();
    const Instance instance = store.get(ho->id);
    const auto commands = store.history(ho->id);
    if (ho->json) {
      print_json_list(commands);
      return;
    }
    const bool ended = instance.status == "completed" || instance.status == "cancelled";
    if (commands.empty() && ended) {
      std::cout << "instance " << instance.id << " has " << instance.status
                << ": an ended instance keeps no history (it is never replayed; casekit "
                   "--keep-history keeps it). What it changed is in the audit under "
                << instance.procedure << "#" << instance.id << "\n";
      return;
    }
    std::vector<std::vector<std::string>> rows = {{"seq", "command", "args", "result", "line"}};
    for (const auto& c : commands) {
      rows.push_back({std::to_string(c.seq), c.name, clipped(c.args),
                      clipped(c.result.value_or("(pending)")), c.line});
    }
    print_table(rows);
  });

  auto id = std::make_shared<std::int64_t>(0);
  auto* retry =
      group->add_subcommand("retry", "Resolve a failed instance's incident and run it again");
  retry->add_option("id", *id, "instance id")->required();
  retry->callback([&ctx, id] {
    ctx.runtime().retry(*id);
    report(ctx.runtime(), *id);
  });
  auto* cancel =
      group->add_subcommand("cancel", "Stop an instance for good (its open work items too)");
  cancel->add_option("id", *id, "instance id")->required();
  cancel->callback([&ctx, id] {
    ctx.runtime().cancel(*id);
    std::cout << "instance " << *id << " cancelled\n";
  });
  struct UpgradeOptions {
    std::optional<Id> id;
    std::string procedure;
    bool to_current = false;
    bool dry_run = false;
    bool json = false;
  };
  auto uo = std::make_shared<UpgradeOptions>();
  auto* upgrade = group->add_subcommand(
      "upgrade",
      "Move an instance (or every running instance of a procedure) to its procedure's current "
      "source, if its history replays");
  upgrade->add_option("id", uo->id, "instance id");
  upgrade->add_option("--procedure", uo->procedure, "every running instance of this procedure");
  upgrade->add_flag("--to-current", uo->to_current, "to the procedure's current source");
  upgrade->add_flag("--dry-run", uo->dry_run, "only say what would move and what diverges");
  upgrade->add_flag("--json", uo->json, "print JSON");
  upgrade->callback([&ctx, uo] {
    if (uo->id.has_value() == !uo->procedure.empty() ||
        (!uo->procedure.empty() && !uo->to_current)) {
      throw CLI::ValidationError("instance upgrade",
                                 "give an instance ID, or --procedure P --to-current");
    }
    std::vector<std::pair<Id, UpgradeReport>> reports;
    if (uo->id) {
      reports.emplace_back(*uo->id, ctx.runtime().upgrade(*uo->id, uo->dry_run));
    } else {
      reports = ctx.runtime().upgrade_all(uo->procedure, uo->dry_run);
    }
    const nlohmann::json summary = to_json(uo->procedure, uo->dry_run, reports);
    const int moved = summary["upgraded"], diverged = summary["diverged"];
    if (uo->json) {
      print_json(uo->id ? summary["instances"][0] : summary);
    } else {
      for (const auto& [instance, r] : reports) std::cout << r.message << "\n";
    }
    if (!uo->json && !uo->id) {
      std::cout << reports.size() << " running instance(s) of " << uo->procedure << ": " << moved
                << (uo->dry_run ? " would be upgraded, " : " upgraded, ") << diverged << " diverge"
                << (uo->dry_run ? " (dry run: nothing moved)" : "") << "\n";
    }
    if (diverged) {
      throw Error(ErrorCode::conflict,
                  uo->id ? std::string("the current source diverges from the history")
                         : std::to_string(diverged) +
                               " instance(s) diverge from the current source and stay on theirs");
    }
  });
}

void add_incidents(CLI::App& app, Context& ctx) {
  auto* group =
      app.add_subcommand("incident", "Instances stopped by an error or a replay divergence");
  group->require_subcommand(1);
  struct Options {
    bool all = false;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* list = group->add_subcommand("list", "Open incidents (with --all, resolved ones too)");
  list->add_flag("--all", o->all, "include resolved incidents");
  list->add_flag("--json", o->json, "print JSON");
  list->callback([&ctx, o] {
    const auto all = ctx.runtime().store().incidents(o->all, std::nullopt);
    if (o->json) {
      print_json_list(all);
      return;
    }
    std::vector<std::vector<std::string>> rows = {
        {"id", "instance", "kind", "position", "line", "status", "message"}};
    for (const auto& i : all) {
      rows.push_back({std::to_string(i.id), std::to_string(i.instance), i.kind,
                      i.position ? std::to_string(*i.position) : "-", or_dash(i.line),
                      i.resolution.value_or("open"), i.message});
    }
    print_table(rows);
  });
}

}  // namespace

void add_procedure_commands(CLI::App& app, Context& ctx) {
  add_start(app, ctx);
  add_signal(app, ctx);
  add_instance(app, ctx);
  add_incidents(app, ctx);
}

}  // namespace casekit::cli
