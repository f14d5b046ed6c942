#include "engine/whatif/whatif.hpp"

#include <algorithm>
#include <fstream>
#include <set>

#include "engine/core/json.hpp"
#include "engine/core/temp_folder.hpp"
#include "engine/core/text.hpp"
#include "engine/durable/runtime.hpp"
#include "engine/runtime/sandbox.hpp"
#include "engine/schedule/schedules.hpp"
#include "engine/store/backup.hpp"
#include "engine/store/schema.hpp"

namespace casekit {
namespace {

// What each run made is read back with one query per measure, each row a key, a casegroup
// (or NULL) and an amount. The whatif_* temporary tables hold what the snapshot already had
// (kBaseline), so that only the run's own rows count.
struct Measure {
  const char* name;
  const char* sql;
};

// A measure with no query is worked out from the others (staff_minutes).
constexpr const char* kStaffMinutes = "staff minutes";

constexpr Measure kMeasures[] = {
    {"SRs raised",
     "SELECT area || ' / ' || sub_area, casegroup_id, 1 FROM service_requests "
     "WHERE id > (SELECT srs FROM whatif_base)"},
    {"SRs closed",
     "SELECT area || ' / ' || sub_area, casegroup_id, 1 FROM service_requests "
     "WHERE closed_at IS NOT NULL AND (id > (SELECT srs FROM whatif_base) "
     "OR id IN (SELECT id FROM whatif_open_srs))"},
    {"work items",
     "SELECT inbox, casegroup_id, 1 FROM work_items "
     "WHERE id > (SELECT items FROM whatif_base)"},
    {kStaffMinutes, nullptr},
    {"letters",
     "SELECT template_code, casegroup_id, 1 FROM letters "
     "WHERE id > (SELECT letters FROM whatif_base)"},
    {"payment schedules",
     "SELECT frequency, casegroup_id, 1 FROM payment_schedules "
     "WHERE id > (SELECT schedules FROM whatif_base)"},
    {"money scheduled (pence)",
     "SELECT frequency, casegroup_id, lump_sum + amount_per_period * periods "
     "FROM payment_schedules WHERE id > (SELECT schedules FROM whatif_base)"},
    {"instances started",
     "SELECT procedure, casegroup_id, 1 FROM instances "
     "WHERE id > (SELECT instances FROM whatif_base)"},
    {"instances failed",
     "SELECT procedure, casegroup_id, 1 FROM instances "
     "WHERE status = 'failed' AND id NOT IN (SELECT id FROM whatif_failed)"},
    {"work items answered",
     "SELECT kind || ': ' || outcome, casegroup_id, 1 FROM work_items "
     "WHERE completed_by LIKE 'whatif-%'"},
    {"work items not answered",
     "SELECT kind || ': ' || reason, casegroup_id, 1 FROM whatif_unanswered"},
};

constexpr const char* kBaseline = R"sql(
CREATE TEMP TABLE whatif_base AS SELECT
  (SELECT coalesce(max(id), 0) FROM service_requests) AS srs,
  (SELECT coalesce(max(id), 0) FROM work_items) AS items,
  (SELECT coalesce(max(id), 0) FROM letters) AS letters,
  (SELECT coalesce(max(id), 0) FROM payment_schedules) AS schedules,
  (SELECT coalesce(max(id), 0) FROM instances) AS instances;
CREATE TEMP TABLE whatif_open_srs AS SELECT id FROM service_requests WHERE closed_at IS NULL;
CREATE TEMP TABLE whatif_failed AS SELECT id FROM instances WHERE status = 'failed';
CREATE TEMP TABLE whatif_unanswered (kind TEXT, casegroup_id INTEGER, reason TEXT);
)sql";

// "work item 12 was claimed by ann" as "work item N was claimed by ann": one key for the
// same reason on many items.
std::string without_numbers(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
      out += text[i];
    } else if (i == 0 || !std::isdigit(static_cast<unsigned char>(text[i - 1]))) {
      out += 'N';
    }
  }
  return out;
}

// Completes the open work items the answers name, as stand-in users made in the copy
// ("whatif-ROLE-TEAM", one for each role and team an item needs).
class Answerer {
 public:
  Answerer(Engine& engine, ProcedureRuntime& runtime, const std::vector<WhatIfAnswer>& answers)
      : engine_(engine), runtime_(runtime), answers_(answers) {}

  void answer_open() {
    for (const auto& answer : answers_) {
      for (const auto& item : open_items(answer.kind)) {
        try {
          runtime_.complete_task(item.id, answer.outcome, answer.fields,
                                 stand_in(item.inbox, item.team));
        } catch (const Error& e) {
          engine_.db.prepare("INSERT INTO whatif_unanswered VALUES (?1, ?2, ?3)")
              .bind_all(answer.kind, item.casegroup, without_numbers(e.what()))
              .run();
        }
      }
    }
  }

 private:
  struct OpenItem {
    Id id;
    std::string inbox;
    std::optional<std::string> team;
    std::optional<Id> casegroup;
  };

  std::vector<OpenItem> open_items(const std::string& kind) {
    auto st = engine_.db.prepare(
        "SELECT id, inbox, team, casegroup_id FROM work_items WHERE status = 'open' AND "
        "kind = ?1 ORDER BY id");
    st.bind(1, kind);
    std::vector<OpenItem> out;
    while (st.step()) {
      out.push_back({st.integer(0), st.text(1), st.optional_text(2), st.optional_integer(3)});
    }
    return out;
  }

  std::string stand_in(const std::string& inbox, const std::optional<std::string>& team) {
    const std::string role = engine_.inboxes.require(inbox).roles.at(0);
    std::string name = "whatif-" + role + (team ? "-" + *team : "");
    std::replace(name.begin(), name.end(), ' ', '_');
    if (made_.insert(name).second) {
      Transaction tx(engine_.db);
      engine_.users.add(name, role, team);
      tx.commit();
    }
    return name;
  }

  Engine& engine_;
  ProcedureRuntime& runtime_;
  const std::vector<WhatIfAnswer>& answers_;
  std::set<std::string> made_;
};

// By measure and key: each casegroup's amount (casegroup 0: none).
using Tally = std::map<std::pair<std::string, std::string>, std::map<Id, std::int64_t>>;

struct SideResult {
  Tally tally;
  std::vector<WhatIfDivergence> not_replaying;
  nlohmann::json timeline;
};

// The audited changes to `casegroup` after change `after`, as CasegroupReads::trail gives
// them (newest first).
nlohmann::json timeline(Engine& engine, Id casegroup, std::int64_t after) {
  nlohmann::json trail = engine.reads.trail(casegroup, 1000, std::nullopt);
  nlohmann::json kept = nlohmann::json::array();
  for (auto& c : trail["changes"]) {
    if (c["id"].get<std::int64_t>() > after) kept.push_back(std::move(c));
  }
  return {{"changes", kept}, {"next_cursor", nullptr}};
}

void say(const WhatIfOptions& options, const std::string& line) {
  if (options.progress) options.progress(line);
}

// The home's procedures/ and scripts/ copied under `root`: the files a side runs on.
Home copy_home(const Home& home, const std::filesystem::path& root) {
  Home copy{root};
  std::filesystem::create_directories(root);
  for (const auto& [from, to] : {std::pair{home.procedures(), copy.procedures()},
                                 std::pair{home.scripts(), copy.scripts()}}) {
    if (std::filesystem::exists(from)) {
      std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
    }
  }
  return copy;
}

void write_text(const std::filesystem::path& file, const std::string& text) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw Error(ErrorCode::io, "cannot write " + file.string());
}

// A module's name as given: a .lua file under procedures/lib, named relative to it.
void check_module_name(const std::string& name) {
  const std::filesystem::path p(name);
  bool escapes = p.is_absolute() || name.empty();
  for (const auto& part : p) escapes = escapes || part == ".." || part == ".";
  if (escapes || p.extension() != ".lua") {
    throw Error(ErrorCode::bad_argument,
                "'" + name +
                    "' is not a library module: name a .lua file under procedures/lib, e.g. "
                    "arrears/common.lua");
  }
}

// The work items' staff time: each inbox's items times its minutes_per_item, for the inboxes
// the catalogue gives a figure.
void staff_minutes(const InboxCatalogue& inboxes, Tally& tally) {
  Tally minutes;
  for (const auto& [key, by_casegroup] : tally) {
    if (key.first != "work items") continue;
    const Inbox* inbox = inboxes.find(key.second);
    if (!inbox || !inbox->minutes_per_item) continue;
    auto& out = minutes[{kStaffMinutes, key.second}];
    for (const auto& [casegroup, n] : by_casegroup) out[casegroup] = n * *inbox->minutes_per_item;
  }
  tally.merge(minutes);
}

// The engine's adapters, refusing the operations stated (WhatIfOptions::refusals) and
// answering the rest from the copy's records. Put in place for as long as it lives.
class StatedAdapters {
 public:
  StatedAdapters(Engine& engine, const std::map<std::string, std::string>& refusals)
      : engine_(engine),
        bancs_(engine.db, engine.clock),
        cis_(engine.db, engine.clock, engine.casegroups),
        cra_(engine.casegroups),
        failing_bancs_(bancs_, refused("bancs", refusals)),
        failing_cis_(cis_, refused("cis", refusals)),
        failing_cra_(cra_, refused("cra", refusals)) {
    engine.bancs.use(&failing_bancs_);
    engine.cis.use(&failing_cis_);
    engine.cra.use(&failing_cra_);
  }
  ~StatedAdapters() {
    engine_.bancs.use(nullptr);
    engine_.cis.use(nullptr);
    engine_.cra.use(nullptr);
  }
  StatedAdapters(const StatedAdapters&) = delete;
  StatedAdapters& operator=(const StatedAdapters&) = delete;

 private:
  // "bancs.unsuspend" -> "unsuspend", for one system's adapter.
  static std::map<std::string, std::string> refused(
      const std::string& system, const std::map<std::string, std::string>& refusals) {
    std::map<std::string, std::string> out;
    for (const auto& [name, message] : refusals) {
      if (name.starts_with(system + ".")) out.emplace(name.substr(system.size() + 1), message);
    }
    return out;
  }

  Engine& engine_;
  LocalBancs bancs_;
  LocalCis cis_;
  LocalCra cra_;
  FailingBancs failing_bancs_;
  FailingCis failing_cis_;
  FailingCra failing_cra_;
};

// Whether an instance or a counted row is one of the casegroups asked for (all, without
// --casegroups).
struct Selection {
  const std::set<Id>* casegroups = nullptr;
  bool contains(std::optional<Id> casegroup) const {
    return !casegroups || (casegroup && casegroups->contains(*casegroup));
  }
};

SideResult run_side(const std::filesystem::path& db_file, const Home& home, Instant from,
                    Instant until, const std::string& label, const WhatIfOptions& options,
                    Selection selection) {
  SimulatedClock clock(from);
  Database db(db_file, OpenMode::existing);
  db.set_clock(&clock);
  // A copy is thrown away after the run: no commit of it needs to survive a crash.
  db.exec("PRAGMA synchronous = OFF");
  migrate(db);
  db.exec(kBaseline);
  std::int64_t last_change = 0;
  {
    auto st = db.prepare("SELECT coalesce(max(id), 0) FROM audit_changes");
    st.step();
    last_change = st.integer(0);
  }
  Engine engine(db, clock, home);
  StatedAdapters adapters(engine, options.refusals);
  ProcedureRuntime runtime(engine, RuntimeOptions{});
  SideResult out;
  say(options, label + ": verifying the running instances of " + options.procedure);
  {
    ActorScope actor(db, "whatif");
    const auto selected = [&](const Instance& i) { return selection.contains(i.casegroup); };
    for (const auto& [id, report] : runtime.upgrade_all(options.procedure, false, selected)) {
      if (report.replays || report.up_to_date) continue;
      out.not_replaying.push_back({id, runtime.store().get(id).casegroup, report.message});
    }
  }
  say(options,
      label + ": running " + std::to_string(options.days) + " days to " + format_instant(until));
  runtime.drain();
  Schedules schedules(engine, load_schedules(home.scripts() / "schedules.toml", home.scripts()), {},
                      &runtime);
  // With stated answers, a day at a time: each day's new items are answered before the next.
  Answerer answerer(engine, runtime, options.answers);
  answerer.answer_open();
  for (Instant step = from; step < until;) {
    step = options.answers.empty() ? until : std::min(until, step + std::chrono::days(1));
    schedules.advance(
        clock, step, [](std::string_view) {}, &runtime);
    answerer.answer_open();
  }
  for (const auto& m : kMeasures) {
    if (!m.sql) continue;
    auto st = db.prepare(m.sql);
    while (st.step()) {
      const std::optional<Id> casegroup = st.optional_integer(1);
      if (!selection.contains(casegroup)) continue;
      const std::string key = st.is_null(0) ? "-" : st.text(0);
      out.tally[{m.name, key}][casegroup.value_or(0)] += st.integer(2);
    }
  }
  staff_minutes(engine.inboxes, out.tally);
  if (options.casegroup) out.timeline = timeline(engine, *options.casegroup, last_change);
  return out;
}

std::int64_t total(const std::map<Id, std::int64_t>& by_casegroup) {
  std::int64_t sum = 0;
  for (const auto& [casegroup, n] : by_casegroup) sum += n;
  return sum;
}

// Casegroups whose amounts differ between the runs, lowest id first, at most `limit`.
std::vector<Id> differing(const std::map<Id, std::int64_t>& a, const std::map<Id, std::int64_t>& b,
                          std::size_t limit) {
  std::set<Id> ids;
  for (const auto* side : {&a, &b}) {
    for (const auto& [casegroup, n] : *side) {
      if (casegroup == 0) continue;
      const auto& other = side == &a ? b : a;
      const auto it = other.find(casegroup);
      if (it == other.end() || it->second != n) ids.insert(casegroup);
    }
  }
  std::vector<Id> out(ids.begin(), ids.end());
  if (out.size() > limit) out.resize(limit);
  return out;
}

// The casegroups the filter finds, a page at a time.
std::set<Id> select_casegroups(Engine& live, CasegroupFilter filter) {
  std::set<Id> out;
  filter.limit = 1000;
  for (;;) {
    const auto page = live.casegroups.list(filter);
    for (const auto& g : page) out.insert(g.id);
    if (page.size() < static_cast<std::size_t>(filter.limit)) return out;
    filter.after_id = page.back().id;
  }
}

std::int64_t count_running(Engine& live, const std::string& procedure, Selection selection) {
  InstanceStore store(live.db, live.clock);
  if (!selection.casegroups) return store.count_running(procedure);
  std::int64_t n = 0;
  for (Id after = 0;;) {
    const auto page = store.running(procedure, after, 1000);
    for (const auto& i : page) n += selection.contains(i.casegroup) ? 1 : 0;
    if (page.size() < 1000) return n;
    after = page.back().id;
  }
}

void check_refusals(const std::map<std::string, std::string>& refusals) {
  for (const auto& [name, message] : refusals) {
    if (std::find(std::begin(kAdapterOperations), std::end(kAdapterOperations), name) ==
        std::end(kAdapterOperations)) {
      std::string known;
      for (const char* op : kAdapterOperations)
        known += (known.empty() ? "" : ", ") + std::string(op);
      throw Error(ErrorCode::bad_argument,
                  "'" + name + "' is not an operation of an external system: one of " + known);
    }
  }
}

}  // namespace

CasegroupFilter parse_casegroup_query(const std::string& query) {
  CasegroupFilter filter;
  const std::map<std::string, std::optional<std::string>*> keys = {
      {"segment", &filter.segment}, {"flag", &filter.flag},
      {"csa_ref", &filter.csa_ref}, {"nino", &filter.nino},
      {"name", &filter.name},       {"review_due_by", &filter.review_due_by}};
  const auto bad = [&](const std::string& why) {
    return Error(ErrorCode::bad_argument, "casegroups query '" + query + "': " + why);
  };
  for (const std::string& part : split(query, ',')) {
    const auto eq = part.find('=');
    if (eq == std::string::npos || eq + 1 == part.size()) {
      throw bad("'" + part + "' is not KEY=VALUE");
    }
    const auto key = keys.find(part.substr(0, eq));
    if (key == keys.end()) {
      throw bad("unknown key '" + part.substr(0, eq) +
                "' (segment, flag, csa_ref, nino, name, review_due_by)");
    }
    if (*key->second) throw bad("'" + key->first + "' given twice");
    *key->second = part.substr(eq + 1);
  }
  return filter;
}

WhatIfReport run_whatif(Engine& live, const WhatIfOptions& options) {
  if (options.days < 1 || options.days > 366) {
    throw Error(ErrorCode::bad_argument, "--days must be 1 to 366");
  }
  existing_procedure_file(live.home, options.procedure);
  if (!options.source && options.modules.empty()) {
    throw Error(ErrorCode::bad_argument,
                "nothing to try: give the changed procedure (--source FILE) or a changed "
                "library module (--module lib/FILE=NEWFILE)");
  }
  if (options.casegroup) live.casegroups.require(*options.casegroup);
  check_refusals(options.refusals);
  std::optional<std::set<Id>> subset;
  if (options.casegroups) subset = select_casegroups(live, *options.casegroups);
  const Selection selection{subset ? &*subset : nullptr};
  // Every changed text is read before anything is copied: a bad file changes nothing.
  // And compiled: a syntax error is one error now, not a failure on every instance.
  Sandbox compiler({}, {}, nullptr);
  std::optional<std::string> source;
  if (options.source) {
    source = read_script(*options.source);
    compiler.load(*source, options.source->string());
  }
  std::map<std::string, std::string> modules;
  for (const auto& [name, file] : options.modules) {
    check_module_name(name);
    modules.emplace(name, read_script(file));
    compiler.load(modules[name], file.string());
  }

  WhatIfReport report;
  report.procedure = options.procedure;
  const Instant from = live.clock.now();
  const Instant until = from + std::chrono::days(options.days);
  report.from = format_instant(from);
  report.until = format_instant(until);
  report.running = count_running(live, options.procedure, selection);
  if (subset) report.selected = static_cast<std::int64_t>(subset->size());

  std::optional<TempFolder> temp;
  if (options.work_dir.empty()) temp.emplace();
  const auto dir = options.work_dir.empty() ? temp->path() : options.work_dir;
  say(options, "copying the database");
  backup_database(live.db, dir / "current.db");
  std::filesystem::copy_file(dir / "current.db", dir / "changed.db");
  const Home current_home = copy_home(live.home, dir / "current");
  const Home changed_home = copy_home(live.home, dir / "changed");
  if (source) write_text(changed_home.procedures() / (options.procedure + ".lua"), *source);
  for (const auto& [name, text] : modules)
    write_text(changed_home.procedures() / "lib" / name, text);

  const SideResult current =
      run_side(dir / "current.db", current_home, from, until, "current files", options, selection);
  const SideResult changed =
      run_side(dir / "changed.db", changed_home, from, until, "changed files", options, selection);

  report.casegroup = options.casegroup;
  report.current_timeline = current.timeline;
  report.changed_timeline = changed.timeline;
  std::set<Id> already;
  for (const auto& d : current.not_replaying) already.insert(d.instance);
  report.diverging_already = current.not_replaying;
  for (const auto& d : changed.not_replaying) {
    if (!already.contains(d.instance)) report.diverging.push_back(d);
  }
  const std::map<Id, std::int64_t> none;
  std::set<std::pair<std::string, std::string>> keys;
  for (const auto* side : {&current.tally, &changed.tally}) {
    for (const auto& [key, by_casegroup] : *side) keys.insert(key);
  }
  // In the order the measures are declared, then by key.
  for (const auto& m : kMeasures) {
    for (const auto& key : keys) {
      if (key.first != m.name) continue;
      const auto a = current.tally.find(key);
      const auto b = changed.tally.find(key);
      const auto& by_a = a == current.tally.end() ? none : a->second;
      const auto& by_b = b == changed.tally.end() ? none : b->second;
      report.counts.push_back({key.first, key.second, total(by_a), total(by_b),
                               differing(by_a, by_b, options.examples)});
    }
  }
  return report;
}

nlohmann::json to_json(const WhatIfReport& report) {
  const auto divergences = [](const std::vector<WhatIfDivergence>& list) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& d : list) {
      out.push_back(
          {{"instance", d.instance}, {"casegroup", or_null(d.casegroup)}, {"message", d.message}});
    }
    return out;
  };
  nlohmann::json counts = nlohmann::json::array();
  for (const auto& c : report.counts) {
    counts.push_back({{"measure", c.measure},
                      {"key", c.key},
                      {"current", c.current},
                      {"changed", c.changed},
                      {"difference", c.changed - c.current},
                      {"examples", c.examples}});
  }
  return {{"procedure", report.procedure},
          {"from", report.from},
          {"until", report.until},
          {"running", report.running},
          {"selected", or_null(report.selected)},
          {"diverging", divergences(report.diverging)},
          {"diverging_already", divergences(report.diverging_already)},
          {"counts", counts},
          {"casegroup", or_null(report.casegroup)},
          {"current_timeline", report.current_timeline},
          {"changed_timeline", report.changed_timeline}};
}

}  // namespace casekit
