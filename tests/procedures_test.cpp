// Durable procedures: instances run to their waits, resume on timers, work items and
// payments, replay identically, stop as incidents when replay diverges, and upgrade only
// when their history replays against the new source.
#include "tests/durable_support.hpp"

using namespace casekit;
using namespace casekit::test;
using namespace std::chrono_literals;

namespace {

// Writes an SR and notes around two timer waits.
constexpr const char* kTimers = R"lua(
return procedure {
  name = "timers",
  run = function(ctx)
    local s = sr.create{casegroup = ctx.casegroup, process = "Arrears",
                        area = "Arrears management", sub_area = "Action Missed Payment",
                        reason = ctx.params.reason}
    s:add_note("started at " .. clock.now())
    local w = wait{days = 14}
    s:add_note("woke at " .. w.fired_at)
    wait{at = "2026-12-25"}
    s:add_note("christmas " .. clock.now())
    s:set_status("Closed")
    return {sr = s.id, notes = #s:notes()}
  end,
}
)lua";

constexpr const char* kApproval = R"lua(
return procedure {
  name = "approval",
  run = function(ctx)
    local s = sr.create{casegroup = ctx.casegroup, process = "Arrears",
                        area = "Arrears management", sub_area = "Reverse write off arrears"}
    local submitted = task.await{inbox = "caseworker", title = "Prepare the reversal",
                                 outcomes = {"submitted"}, fields = {"journal"},
                                 required = {"journal"}, sr = s}
    s:set_field("journal_number", submitted.fields.journal)
    while true do
      local d = task.await{inbox = "team_leader", kind = "approval", title = "Approve",
                           outcomes = {"approved", "rejected"}, fields = {"reason"},
                           required = {rejected = {"reason"}}, sr = s}
      if d.outcome == "approved" then break end
      s:add_note("rejected by " .. d.by .. ": " .. d.fields.reason)
    end
    s:set_status("Closed")
    return "approved"
  end,
}
)lua";

constexpr const char* kPayment = R"lua(
return procedure {
  name = "payment_wait",
  run = function(ctx)
    local got = event.await{kind = "payment", account = payment.account(ctx.casegroup),
                            timeout_days = 5}
    if got.timeout then return "timeout" end
    return "paid " .. got.payment.amount
  end,
}
)lua";

}  // namespace

TEST_CASE("a procedure runs to its wait, and timers resume it at their instants") {
  DurableEngine d;
  const auto f = d.family();
  d.procedure("timers", kTimers);
  const Id id = d.runtime.start("timers", f.casegroup, {{"reason", "test"}}, "alice");
  Instance i = d.instance(id);
  CHECK(i.status == "waiting");
  CHECK(i.wait_kind == "timer");
  CHECK(i.wake_at == "2026-12-04T09:00:00Z");
  CHECK(d.count("SELECT count(*) FROM service_requests") == 1);

  d.advance(13 * 24h);  // not yet due
  CHECK(d.instance(id).status == "waiting");
  d.advance(24h);
  i = d.instance(id);
  CHECK(i.status == "waiting");
  CHECK(i.wake_at == "2026-12-25T00:00:00Z");
  d.clock.set(parse_instant("2026-12-25T00:00:00Z"));
  d.runtime.fire_timers();
  i = d.instance(id);
  REQUIRE(i.status == "completed");
  CHECK(i.result == R"({"notes":3,"sr":1})");
  const auto notes = d.engine.srs.notes(1);
  REQUIRE(notes.size() == 3);
  CHECK(notes[0].body == "started at 2026-11-20T09:00:00Z");
  CHECK(notes[1].body == "woke at 2026-12-04T09:00:00Z");
  CHECK(notes[2].body == "christmas 2026-12-25T00:00:00Z");
  CHECK(notes[0].author == "timers#1");
}

TEST_CASE("timers due together wake a chunk at a time, each once, with their timeouts") {
  // More than one chunk (1,000) of each kind, so the waking loop must go round and stop.
  DurableEngine d({.cache_size = 0});
  d.procedure("sleeper", R"lua(return procedure{name = "sleeper", run = function(ctx)
    local w = wait{days = 1}
    return w.fired_at
  end})lua");
  d.procedure("asker", R"lua(return procedure{name = "asker", run = function(ctx)
    local got = task.await{inbox = "caseworker", title = "anyone?", outcomes = {"done"},
                           timeout_days = 1}
    return got.kind or got.outcome
  end})lua");
  constexpr int kSleepers = 1'500;
  constexpr int kAskers = 1'200;
  {
    Transaction tx(d.db);
    for (int i = 0; i < kSleepers; ++i) d.runtime.create("sleeper", std::nullopt, {}, "op");
    for (int i = 0; i < kAskers; ++i) d.runtime.create("asker", std::nullopt, {}, "op");
    tx.commit();
  }
  d.runtime.drain();
  CHECK(d.count("SELECT count(*) FROM instances WHERE status = 'waiting'") == kSleepers + kAskers);
  CHECK(d.count("SELECT count(*) FROM work_items WHERE status = 'open'") == kAskers);
  d.advance(24h);
  CHECK(d.count("SELECT count(*) FROM instances WHERE status = 'completed' AND result = "
                "'\"2026-11-21T09:00:00Z\"'") == kSleepers);
  CHECK(d.count("SELECT count(*) FROM instances WHERE status = 'completed' AND result = "
                "'\"timeout\"'") == kAskers);
  CHECK(d.count("SELECT count(*) FROM work_items WHERE status = 'cancelled'") == kAskers);
  CHECK(d.count("SELECT count(*) FROM instances WHERE status <> 'completed'") == 0);
}

TEST_CASE("an instance that finishes in one activation keeps no history, only its audit") {
  const std::string one_shot = R"(return procedure{name = "one_shot", run = function(ctx)
    local s = sr.create{casegroup = ctx.casegroup, process = "Arrears",
                        area = "Arrears management", sub_area = "Action Missed Payment"}
    s:add_note("done in one go")
    return s.id
  end})";
  {
    DurableEngine d;
    const auto f = d.family();
    d.procedure("one_shot", one_shot);
    const Id id = d.runtime.start("one_shot", f.casegroup, {}, "alice");
    CHECK(d.instance(id).status == "completed");
    CHECK(d.instance(id).result == "1");
    CHECK(d.count("SELECT count(*) FROM instance_activations") == 0);
    // What it changed is in the audit, under the instance's actor.
    CHECK(d.count("SELECT count(*) FROM audit WHERE actor = 'one_shot#1' AND "
                  "entity IN ('service_requests', 'sr_notes') AND action = 'insert'") == 2);
  }
  {
    RuntimeOptions keep;
    keep.keep_history = true;
    DurableEngine d(keep);
    const auto f = d.family();
    d.procedure("one_shot", one_shot);
    d.runtime.start("one_shot", f.casegroup, {}, "alice");
    // With the option, the same run keeps its history.
    const auto history = d.runtime.store().history(1);
    REQUIRE(history.size() == 2);  // s.id is fixed: not one
    CHECK(history[1].name == "SR:add_note");
    CHECK(d.count("SELECT count(*) FROM instance_activations") == 1);
  }
}

// Schema 37: a damaged history row is one clear error, and the instance an incident.
TEST_CASE("a damaged history stops its instance as an incident naming it") {
  using namespace std::chrono_literals;
  DurableEngine d;
  const auto f = d.family();
  d.procedure("sleeper", R"(return procedure{name = "sleeper", run = function(ctx)
    local s = sr.create{casegroup = ctx.casegroup, process = "Arrears",
                        area = "Arrears management", sub_area = "Action Missed Payment"}
    wait{days = 1}
    s:add_note("woke")
  end})");
  const Id id = d.runtime.start("sleeper", f.casegroup, {}, "alice");
  REQUIRE(d.runtime.store().history(id).size() == 2);
  const auto damaged_with = [&](const std::string& sql) {
    d.db.exec("SAVEPOINT damage");
    d.db.exec(sql);
    std::string message;
    try {
      d.runtime.store().history(id);
    } catch (const Error& e) {
      message = e.what();
    }
    d.db.exec("ROLLBACK TO damage");
    d.db.exec("RELEASE damage");
    return message;
  };
  CHECK_THAT(damaged_with("UPDATE instance_activations SET last_seq = 5"),
             Catch::Contains("instance 1's history is damaged: its activation from command 1 "
                             "does not hold commands 1 to 5"));
  CHECK_THAT(damaged_with("UPDATE instance_activations SET commands = x'00ff'"),
             Catch::Contains("instance 1's history is damaged"));
  // Resumed by a process that must replay it: an incident, and nothing it would do done.
  d.db.exec("UPDATE instance_activations SET commands = x'00ff'");
  ProcedureRuntime restarted(d.engine, {.cache_size = 0});
  d.clock.set(d.clock.now() + 48h);
  restarted.fire_timers();
  CHECK(d.instance(id).status == "failed");
  const auto incidents = restarted.store().incidents(false, id);
  REQUIRE(incidents.size() == 1);
  CHECK_THAT(incidents.front().message, Catch::Contains("history is damaged"));
  CHECK(d.count("SELECT count(*) FROM sr_notes") == 0);
}

TEST_CASE("a history written with its lines as text (schema 29) replays after the migration") {
  DurableEngine d;
  const auto f = d.family();
  d.procedure("sleeper", R"(return procedure{name = "sleeper", run = function(ctx)
    local s = sr.create{casegroup = ctx.casegroup, process = "Arrears",
                        area = "Arrears management", sub_area = "Action Missed Payment"}
    local w = wait{days = 1}
    s:add_note("woke at " .. w.fired_at)
    return s.id
  end})");
  const Id id = d.runtime.start("sleeper", f.casegroup, {}, "alice");
  const auto before = d.runtime.store().history(id);
  REQUIRE(before.size() == 2);
  // Back to schema 29's shape: a row a command (as schema 30 to 36 kept them), each row's
  // line as text, and when it was recorded.
  d.db.audit({});
  d.db.exec(R"sql(
CREATE TABLE instance_history (
  instance_id INTEGER NOT NULL REFERENCES instances(id),
  seq         INTEGER NOT NULL,
  command     TEXT NOT NULL,
  args        TEXT NOT NULL,
  result      TEXT,
  resolved_at TEXT, line_id INTEGER REFERENCES script_lines(id),
  PRIMARY KEY (instance_id, seq)
) WITHOUT ROWID;
DROP TABLE metrics_tokens;
DROP TRIGGER service_requests_end_items;
ALTER TABLE work_items DROP COLUMN ends_with_sr;
DROP TABLE instance_activations;
DROP TRIGGER payments_wake_waiters;
DROP TRIGGER letters_wake_waiters;
DROP TRIGGER service_requests_wake_waiters;
)sql");
  for (const auto& c : before) {
    d.db.prepare(
            "INSERT INTO instance_history(instance_id, seq, command, args, result, line_id) "
            "VALUES (?1, ?2, ?3, ?4, ?5, (SELECT id FROM script_lines WHERE line = ?6))")
        .bind_all(id, c.seq, c.name, c.args, c.result, c.line)
        .run();
  }
  d.db.exec(R"sql(
ALTER TABLE instance_history ADD COLUMN line TEXT;
ALTER TABLE instance_history ADD COLUMN recorded_at TEXT;
UPDATE instance_history SET recorded_at = '2026-11-20T09:00:00Z',
  line = (SELECT line FROM script_lines s WHERE s.id = instance_history.line_id);
ALTER TABLE instance_history DROP COLUMN line_id;
DROP TABLE script_lines;
ALTER TABLE audit_sets DROP COLUMN hash;
ALTER TABLE instances DROP COLUMN library_hash;
ALTER TABLE instances DROP COLUMN history_format;
DROP TRIGGER casegroups_fixed;
DROP TRIGGER cases_fixed;
DROP TRIGGER service_requests_fixed;
DROP TRIGGER letters_fixed;
DROP TRIGGER ledger_accounts_fixed;
DROP TRIGGER letters_kept;
DROP TRIGGER letters_signed_off_kept;
DROP INDEX letters_signed_off;
ALTER TABLE letters DROP COLUMN signed_off;
ALTER TABLE letters DROP COLUMN template_version;
ALTER TABLE letters DROP COLUMN context;
DROP TABLE letter_templates;
DROP TABLE sr_step_marks;
DROP TRIGGER step_plans_kept;
ALTER TABLE service_requests DROP COLUMN plan_id;
DROP TABLE step_plans;
DROP TABLE library_modules;
DROP TABLE libraries;
DROP VIEW audit;
DROP TABLE audit_changes;
DROP TABLE audit_shapes;
DELETE FROM audit_sets;
CREATE TABLE audit_changes (
  id        INTEGER PRIMARY KEY,
  set_id    INTEGER NOT NULL REFERENCES audit_sets(id),
  entity    TEXT NOT NULL,
  entity_id INTEGER,
  action    TEXT NOT NULL CHECK (action = 'insert' OR action = 'update' OR action = 'delete'),
  before    TEXT,
  after     TEXT,
  why_id    INTEGER REFERENCES audit_whys(id)
);
CREATE INDEX audit_changes_entity ON audit_changes(entity, entity_id);
CREATE VIEW audit(id, at, actor, entity, entity_id, action, before, after, why) AS
  SELECT c.id, s.at, s.actor, c.entity, c.entity_id, c.action, c.before, c.after, w.why
  FROM audit_changes c JOIN audit_sets s ON s.id = c.set_id
  LEFT JOIN audit_whys w ON w.id = c.why_id;
PRAGMA user_version = 29;
)sql");
  // A new process: the database migrates, and the instance is rebuilt from its history.
  Database again(d.dir.path() / "casekit.db", OpenMode::existing);
  Engine engine(migrated(again, d.clock), d.clock, d.engine.home);
  ProcedureRuntime runtime(engine, RuntimeOptions{.cache_size = 0});
  const auto after = runtime.store().history(id);
  REQUIRE(after.size() == 2);
  for (std::size_t i = 0; i < after.size(); ++i) {
    CHECK(after[i].name == before[i].name);
    CHECK(after[i].line == before[i].line);
    CHECK(after[i].args == before[i].args);
  }
  d.clock.set(d.clock.now() + std::chrono::hours(24));
  runtime.fire_timers();
  CHECK(runtime.store().get(id).status == "completed");
  CHECK(d.count("SELECT count(*) FROM sr_notes WHERE body = 'woke at 2026-11-21T09:00:00Z'") == 1);
}

TEST_CASE("fixed properties are read again on replay, and histories that recorded them replay") {
  // Reads what the SR, its casegroup and the paying parent are, before and after a wait.
  const std::string reader = R"(return procedure{name = "reader", run = function(ctx)
    local s = sr.create{casegroup = ctx.casegroup, process = "Arrears",
                        area = "Arrears management", sub_area = "Action Missed Payment"}
    local cg = s.casegroup
    local pp = cg.paying_parent
    local before = s.sub_area .. " " .. cg.csa_ref .. " " .. pp.id .. " " .. s.status
    wait{days = 1}
    s:add_note(before .. " / " .. s.sub_area .. " " .. cg.csa_ref .. " " .. pp.name)
    return s.id
  end})";
  using Names = std::vector<std::string>;
  // Format 1, as instances started before schema 33 wrote it, recorded every read.
  const std::map<int, Names> recorded = {
      {1,
       {"sr.create", "SR.casegroup", "Casegroup.paying_parent", "SR.sub_area", "Casegroup.csa_ref",
        "Client.id", "SR.status", "wait"}},
      {2, {"sr.create", "SR.status", "wait"}}};
  for (const auto& [format, names] : recorded) {
    INFO("history format " << format);
    DurableEngine d(RuntimeOptions{.cache_size = 0});  // the wait's end replays the history
    d.procedure("reader", reader);
    const auto f = d.family();
    Id id = 0;
    {
      Transaction tx(d.db);
      id = d.runtime.create_instance("reader", f.casegroup, {}, "alice");
      d.db.prepare("UPDATE instances SET history_format = ?1 WHERE id = ?2")
          .bind_all(format, id)
          .run();
      tx.commit();
    }
    d.runtime.drain();
    CHECK(d.instance(id).history_format == format);
    Names written;
    for (const auto& c : d.runtime.store().history(id)) written.push_back(c.name);
    CHECK(written == names);
    d.advance(std::chrono::hours(24));
    CHECK(d.instance(id).status == "completed");
    const std::string note = "Action Missed Payment CSA-0000001 " +
                             std::to_string(f.paying_parent) +
                             " Open / Action Missed Payment CSA-0000001 Sam Payer";
    CHECK(d.count("SELECT count(*) FROM sr_notes WHERE body = '" + note + "'") == 1);
  }
}

TEST_CASE("the store refuses to change what a fixed property reads") {
  DurableEngine d;
  const auto f = d.family();
  const auto other = d.family("CSA-0000002");
  NewServiceRequest review;
  review.process = "Arrears";
  review.area = "Arrears Management";
  review.sub_area = "Arrears Review";
  review.casegroup_id = f.casegroup;
  const Id sr = d.engine.srs.create(review);
  for (const std::string& change :
       {"UPDATE casegroups SET paying_parent_id = " + std::to_string(other.paying_parent),
        std::string("UPDATE casegroups SET csa_ref = 'CSA-0000009' WHERE id = 1"),
        "UPDATE cases SET receiving_parent_id = " + std::to_string(other.receiving_parent),
        "UPDATE service_requests SET sub_area = 'Arrears Trigger' WHERE id = " + std::to_string(sr),
        "UPDATE service_requests SET casegroup_id = " + std::to_string(other.casegroup),
        "UPDATE ledger_accounts SET client_id = " + std::to_string(other.receiving_parent) +
            " WHERE client_id = " + std::to_string(f.paying_parent)}) {
    INFO(change);
    CHECK_THROWS_WITH(d.db.exec(change), Catch::Contains("never change"));
  }
  // What may change still does.
  d.engine.srs.set_status(sr, "In Progress", std::nullopt);
  d.engine.casegroups.set_segment(f.casegroup, "Enforcement");
}

TEST_CASE("an instance keeps its history while it waits and none once it has ended") {
  const std::string sleeper = R"(return procedure{name = "sleeper", run = function(ctx)
    local s = sr.create{casegroup = ctx.casegroup, process = "Arrears",
                        area = "Arrears management", sub_area = "Action Missed Payment"}
    wait{days = 1}
    s:add_note("woke")
    wait{days = 1}
    return s.id
  end})";
  for (const bool keep : {false, true}) {
    RuntimeOptions options;
    options.keep_history = keep;
    DurableEngine d(options);
    const auto f = d.family();
    d.procedure("sleeper", sleeper);
    const Id done = d.runtime.start("sleeper", f.casegroup, {}, "alice");
    const Id cancelled = d.runtime.start("sleeper", f.casegroup, {}, "alice");
    const auto rows = [&](Id id) {
      return d.count(
          "SELECT coalesce(sum(last_seq - first_seq + 1), 0) FROM instance_activations "
          "WHERE instance_id = " +
          std::to_string(id));
    };
    CHECK(rows(done) == 2);  // sr.create, wait
    d.advance(std::chrono::hours(24));
    CHECK(rows(done) == 4);  // and SR:add_note, wait: a replay needs them all
    d.runtime.cancel(cancelled);
    d.advance(std::chrono::hours(24));
    CHECK(d.instance(done).status == "completed");
    CHECK(rows(done) == (keep ? 4 : 0));  // s.id is fixed: read again on replay, not recorded
    CHECK(rows(cancelled) == (keep ? 4 : 0));
    CHECK(d.count("SELECT count(*) FROM audit WHERE actor = 'sleeper#1' AND entity = 'sr_notes'") ==
          1);
  }
}

TEST_CASE(
    "replay equals live: warm, always-replayed, restarted and unshared runtimes leave the same "
    "data") {
  auto scenario = [](RuntimeOptions options, bool restart_each_step) {
    auto d = std::make_unique<DurableEngine>(options);
    const auto f = d->family();
    d->procedure("approval", kApproval);
    d->engine.users.add("carol", "caseworker", std::string("Arrears"));
    d->engine.users.add("tina", "team_leader", std::string("Arrears"));
    d->engine.users.add("tom", "team_leader", std::string("Arrears"));
    std::unique_ptr<ProcedureRuntime> fresh;
    auto runtime = [&]() -> ProcedureRuntime& {
      if (!restart_each_step) return d->runtime;
      fresh = std::make_unique<ProcedureRuntime>(d->engine, options);
      return *fresh;
    };
    const Id id = runtime().start("approval", f.casegroup, {}, "carol");
    runtime().complete_task(1, "submitted", {{"journal", "J-77"}}, "carol");
    runtime().complete_task(2, "rejected", {{"reason", "wrong amount"}}, "tina");
    runtime().complete_task(3, "approved", {}, "tom");
    REQUIRE(d->instance(id).status == "completed");
    std::string all;
    for (const char* t : {"service_requests", "sr_notes", "sr_fields", "work_items",
                          "(SELECT instance_id, first_seq, last_seq, commands, wait_result, "
                          "resolved_at FROM instance_activations)",
                          "instances", "audit"}) {
      all += d->dump(t);
    }
    return std::pair{all, d->runtime.stats()};
  };
  const auto [warm, warm_stats] = scenario({}, false);
  const auto [cold, cold_stats] = scenario({.cache_size = 0}, false);
  const auto [restarted, restarted_stats] = scenario({}, true);
  // Every replay in a sandbox of its own, none reused.
  const auto [unshared, unshared_stats] =
      scenario({.cache_size = 0, .reuse_sandboxes = false}, false);
  CHECK(warm_stats.warm_resumes == 3);
  CHECK(warm_stats.replays == 0);
  CHECK(cold_stats.warm_resumes == 0);
  CHECK(cold_stats.replays == 3);
  CHECK(cold_stats.sandboxes_reused == 3);
  CHECK(unshared_stats.replays == 3);
  CHECK(unshared_stats.sandboxes_reused == 0);
  CHECK(warm == cold);
  CHECK(warm == restarted);
  CHECK(warm == unshared);
}

TEST_CASE("work items check the user's role, the outcome, required fields and the submitter") {
  DurableEngine d;
  const auto f = d.family();
  d.procedure("approval", kApproval);
  d.engine.users.add("carol", "caseworker", std::string("Arrears"));
  d.engine.users.add("tina", "team_leader", std::string("Arrears"));
  const Id id = d.runtime.start("approval", f.casegroup, {}, "carol");
  const auto before = d.dump("instance_activations") + d.dump("instances") + d.dump("work_items");

  CHECK_THROWS_WITH(d.runtime.complete_task(1, "submitted", {}, "carol"),
                    "outcome 'submitted' needs field 'journal'");
  CHECK_THROWS_WITH(d.runtime.complete_task(1, "done", {{"journal", "J"}}, "carol"),
                    Catch::Contains("unknown outcome 'done'") && Catch::Contains("submitted"));
  CHECK_THROWS_WITH(
      d.runtime.complete_task(1, "submitted", {{"journal", "J"}, {"x", "1"}}, "carol"),
      Catch::Contains("unknown field 'x'"));
  CHECK_THROWS_WITH(d.runtime.complete_task(1, "submitted", {{"journal", "J"}}, "nobody"),
                    Catch::Contains("no user 'nobody'"));
  CHECK(before == d.dump("instance_activations") + d.dump("instances") + d.dump("work_items"));

  d.runtime.complete_task(1, "submitted", {{"journal", "J-1"}}, "tina");  // a team leader may
  CHECK_THROWS_WITH(d.runtime.complete_task(2, "approved", {}, "carol"),
                    "carol is a caseworker; inbox 'team_leader' needs: team_leader");
  // tina completed the submission, so she is the approval's submitter.
  CHECK(d.engine.work_items.get(2).spec.submitted_by == "tina");
  CHECK_THROWS_WITH(d.runtime.complete_task(2, "approved", {}, "tina"),
                    Catch::Contains("segregation of duties"));
  CHECK(d.instance(id).status == "waiting");
  d.engine.users.add("tom", "team_leader", std::string("Arrears"));
  d.runtime.complete_task(2, "approved", {}, "tom");
  CHECK(d.instance(id).status == "completed");
  CHECK_THROWS_WITH(d.runtime.complete_task(2, "approved", {}, "tom"),
                    "work item 2 is already completed");
}

TEST_CASE("a payment wakes the instance waiting on its account, and the timeout fires otherwise") {
  DurableEngine d;
  const auto paid = d.family("CSA-0000001");
  const auto unpaid = d.family("CSA-0000002");
  d.procedure("payment_wait", kPayment);
  const Id a = d.runtime.start("payment_wait", paid.casegroup, {}, "op");
  const Id b = d.runtime.start("payment_wait", unpaid.casegroup, {}, "op");
  const Id account = d.engine.ledger.account_of_client(paid.paying_parent)->id;
  d.runtime.record_payment(account, 1234, "2026-11-21");
  CHECK(d.instance(a).status == "completed");
  CHECK(d.instance(a).result == R"("paid 1234")");
  CHECK(d.instance(b).status == "waiting");
  d.advance(5 * 24h);
  CHECK(d.instance(b).result == R"("timeout")");
  // A payment made after the wait ended wakes nobody.
  d.runtime.record_payment(account, 100, "2026-11-26");
  CHECK(d.instance(a).result == R"("paid 1234")");
}

TEST_CASE(
    "a letter leaving the queue wakes the instance waiting on it, and a sent one answers at once") {
  // Replayed on every resume (no warm cache), so the immediate answer must replay too.
  DurableEngine d({.cache_size = 0});
  const auto f = d.family();
  d.procedure("letter_wait", R"lua(
return procedure{name = "letter_wait", run = function(ctx)
  local l = letter.send{template = "CMSB046", to = ctx.casegroup.paying_parent,
                        casegroup = ctx.casegroup, fields = {lo_reference = "LO-1"}}
  local first = event.await{kind = "letter", letter = l, timeout_days = 10}
  local again = event.await{kind = "letter", letter = l.id}
  wait{days = 1}
  return first.kind .. " " .. first.letter.status .. ", " .. again.letter.status
end}
)lua");
  d.procedure("letter_timeout", R"lua(
return procedure{name = "letter_timeout", run = function(ctx)
  local l = letter.send{template = "CMSB046", to = ctx.casegroup.paying_parent,
                        casegroup = ctx.casegroup, fields = {lo_reference = "LO-1"}}
  local got = event.await{kind = "letter", letter = l, timeout_days = 3}
  return got.kind .. " " .. l.status
end}
)lua");
  const Id waits = d.runtime.start("letter_wait", f.casegroup, {}, "op");
  CHECK(d.instance(waits).status == "waiting");
  CHECK(d.instance(waits).wait_kind == "letter");
  d.advance(2 * 24h);
  CHECK(d.instance(waits).status == "waiting");
  d.runtime.fulfil_letters(d.dir.path() / "outbox");
  // Woken by the fulfilment; the second await answered at once; now on the timer.
  CHECK(d.instance(waits).wait_kind == "timer");
  d.advance(24h);
  CHECK(d.instance(waits).result == R"("letter fulfilled, fulfilled")");
  const Id times_out = d.runtime.start("letter_timeout", f.casegroup, {}, "op");
  d.advance(3 * 24h);
  CHECK(d.instance(times_out).result == R"("timeout queued")");
  d.procedure("letter_bad", R"lua(
return procedure{name = "letter_bad", run = function(ctx)
  event.await{kind = "email", letter = 1}
end}
)lua");
  const Id bad = d.runtime.start("letter_bad", f.casegroup, {}, "op");
  CHECK(d.instance(bad).status == "failed");
  CHECK_THAT(*d.instance(bad).error,
             Catch::Contains("\"payment\", \"letter\", \"sr\" or \"signal\" expected"));
}

TEST_CASE("an instance waiting on an SR wakes when the SR closes, whoever closes it") {
  DurableEngine d;
  const auto f = d.family();
  d.procedure("sr_wait", R"lua(
return procedure{name = "sr_wait", run = function(ctx)
  local s = sr.create{process = "Arrears", area = "Arrears Management",
                      sub_area = "Action Missed Payment", casegroup = ctx.casegroup}
  local first = event.await{kind = "sr", sr = s, timeout_days = 10}
  local again = event.await{kind = "sr", sr = s.id}
  wait{days = 1}
  return first.kind .. " " .. first.sr.status .. " " .. first.sr.sub_status .. " "
    .. tostring(first.sr.resolution_code) .. ", " .. again.sr.sub_status
end}
)lua");
  d.procedure("sr_timeout", R"lua(
return procedure{name = "sr_timeout", run = function(ctx)
  local s = sr.create{process = "Arrears", area = "Arrears Management",
                      sub_area = "Action Missed Payment", casegroup = ctx.casegroup}
  local got = event.await{kind = "sr", sr = s, timeout_days = 3}
  return got.kind .. " " .. s.status
end}
)lua");
  const Id waits = d.runtime.start("sr_wait", f.casegroup, {}, "op");
  CHECK(d.instance(waits).wait_kind == "sr");
  const Id awaited = *d.instance(waits).wait_ref;
  d.advance(2 * 24h);
  CHECK(d.instance(waits).status == "waiting");
  {
    // Another SR changing, or this one changing without closing, wakes nobody.
    Transaction tx(d.db);
    d.engine.srs.set_status(awaited, "In Progress", std::nullopt);
    tx.commit();
  }
  d.runtime.drain();
  CHECK(d.instance(waits).wait_kind == "sr");
  {
    Transaction tx(d.db);
    d.engine.srs.close(awaited, "Complete", "Neg Unsuccessful NFA");
    tx.commit();
  }
  d.runtime.drain();
  // Woken by the closure; the second await answered at once; now on the timer.
  CHECK(d.instance(waits).wait_kind == "timer");
  d.advance(24h);
  CHECK(d.instance(waits).result == R"("sr Closed Complete Neg Unsuccessful NFA, Complete")");
  const Id times_out = d.runtime.start("sr_timeout", f.casegroup, {}, "op");
  d.advance(3 * 24h);
  CHECK(d.instance(times_out).result == R"("timeout Open")");
  d.procedure("sr_bad", R"lua(
return procedure{name = "sr_bad", run = function(ctx)
  event.await{kind = "sr", sr = 999999}
end}
)lua");
  const Id bad = d.runtime.start("sr_bad", f.casegroup, {}, "op");
  CHECK(d.instance(bad).status == "failed");
}

TEST_CASE(
    "a replay that diverges stops the instance as an incident naming position, commands and line") {
  DurableEngine d({.cache_size = 0});
  const auto f = d.family();
  d.procedure("timers", kTimers);
  const Id id = d.runtime.start("timers", f.casegroup, {{"reason", "first"}}, "op");
  // Rewrite the pinned source behind the engine's back: the replay makes a different call.
  d.db.exec(
      "UPDATE procedure_sources SET source = replace(source, 'reason = ctx.params.reason', "
      "'reason = \"other\"')");
  ProcedureRuntime restarted(d.engine, {.cache_size = 0});  // its source cache is empty
  d.clock.set(d.clock.now() + 14 * 24h);
  restarted.fire_timers();
  const Instance i = d.instance(id);
  CHECK(i.status == "failed");
  const auto incidents = restarted.store().incidents(false, id);
  REQUIRE(incidents.size() == 1);
  const Incident& inc = incidents.front();
  CHECK(inc.kind == "divergence");
  CHECK(inc.position == 1);
  CHECK_THAT(*inc.expected, Catch::StartsWith("sr.create ") && Catch::Contains("\"first\""));
  CHECK_THAT(*inc.found, Catch::StartsWith("sr.create ") && Catch::Contains("\"other\""));
  CHECK(inc.line == std::optional<std::string>("procedures/timers.lua:5"));
  // Nothing ran: still one SR with one note, and the history is as it was.
  CHECK(d.count("SELECT count(*) FROM sr_notes") == 1);
  CHECK(d.count("SELECT coalesce(sum(last_seq - first_seq + 1), 0) FROM instance_activations") ==
        4);  // sr.create, clock.now, SR:add_note, wait

  // Retrying replays the same pinned source, so it diverges again; cancelling ends it.
  restarted.retry(id);
  CHECK(d.instance(id).status == "failed");
  CHECK(restarted.store().incidents(false, id).size() == 1);
  CHECK(restarted.store().incidents(true, id).size() == 2);
  restarted.cancel(id);
  CHECK(d.instance(id).status == "cancelled");
  CHECK(restarted.store().incidents(false, id).empty());
  CHECK_THROWS_WITH(restarted.cancel(id), "instance 1 is already cancelled");
}

TEST_CASE("a script error rolls back the activation, records an incident, and retry resumes") {
  DurableEngine d;
  const auto f = d.family();
  d.procedure("fails", R"lua(
return procedure {
  name = "fails",
  run = function(ctx)
    local s = sr.create{casegroup = ctx.casegroup, process = "Arrears",
                        area = "Arrears management", sub_area = "Action Missed Payment"}
    wait{days = 1}
    s:add_note("after the wait")
    if s:field("ready") == nil then error("not ready yet") end
    s:set_status("Closed")
  end,
}
)lua");
  const Id id = d.runtime.start("fails", f.casegroup, {}, "op");
  d.advance(24h);
  CHECK(d.instance(id).status == "failed");
  CHECK(d.count("SELECT count(*) FROM sr_notes") == 0);  // the note was rolled back
  const auto incidents = d.runtime.store().incidents(false, id);
  REQUIRE(incidents.size() == 1);
  CHECK(incidents[0].kind == "error");
  CHECK(incidents[0].line == "procedures/fails.lua:9");
  CHECK_THAT(incidents[0].message, Catch::Contains("not ready yet"));

  // Fix the data, retry: it replays to the wait and carries on, once.
  d.engine.srs.set_field(1, "ready", std::string("yes"));
  d.runtime.retry(id);
  CHECK(d.instance(id).status == "completed");
  CHECK(d.count("SELECT count(*) FROM sr_notes") == 1);
  CHECK(d.runtime.store().incidents(false, id).empty());
  CHECK_THROWS_WITH(d.runtime.retry(id), Catch::Contains("only a failed instance can be retried"));
}

TEST_CASE("upgrade switches an instance to the current source only when its history replays") {
  DurableEngine d;
  const auto f = d.family();
  d.procedure("timers", kTimers);
  const Id id = d.runtime.start("timers", f.casegroup, {{"reason", "r"}}, "op");
  const std::string pinned = d.instance(id).source_hash;

  // A compatible edit: the recorded steps are the same, what follows the wait differs.
  std::string compatible = kTimers;
  compatible.replace(compatible.find("\"woke at \""), 10, "\"resumed \"");
  d.procedure("timers", compatible);
  // New instances take the current file; the running one keeps its pin.
  const Id second = d.runtime.start("timers", f.casegroup, {{"reason", "r"}}, "op");
  CHECK(d.instance(second).source_hash != pinned);
  CHECK(d.instance(id).source_hash == pinned);

  // An incompatible edit: a different first command.
  std::string incompatible = kTimers;
  incompatible.replace(incompatible.find("ctx.params.reason"), 17, "\"changed\"");
  d.procedure("timers", incompatible);
  const UpgradeReport refused = d.runtime.upgrade(id);
  CHECK_FALSE(refused.switched);
  REQUIRE(refused.divergence);
  CHECK(refused.divergence->position == 1);
  CHECK(refused.divergence->line == "procedures/timers.lua:5");
  CHECK(d.instance(id).source_hash == pinned);

  d.procedure("timers", compatible);
  const UpgradeReport ok = d.runtime.upgrade(id);
  CHECK(ok.switched);
  CHECK(d.instance(id).source_hash == d.instance(second).source_hash);
  d.advance(14 * 24h);
  CHECK(d.engine.srs.notes(1).back().body == "resumed 2026-12-04T09:00:00Z");
}

TEST_CASE("starting refuses a bad procedure and stores nothing") {
  DurableEngine d;
  const auto f = d.family();
  CHECK_THROWS_WITH(d.runtime.start("missing", f.casegroup, {}, "op"),
                    "no procedure 'missing' (procedures/missing.lua does not exist)");
  CHECK_THROWS_WITH(d.runtime.start("../x", f.casegroup, {}, "op"),
                    Catch::Contains("bad procedure name"));
  d.procedure("misnamed", "return procedure{name = 'other', run = function() end}");
  CHECK_THROWS_WITH(d.runtime.start("misnamed", f.casegroup, {}, "op"),
                    Catch::Contains("declares procedure 'other'"));
  d.procedure("noreturn", "local x = 1");
  CHECK_THROWS_WITH(d.runtime.start("noreturn", f.casegroup, {}, "op"),
                    Catch::Contains("must end with `return procedure{...}`"));
  d.procedure("toplevel",
              "local s = sr.get(1)\nreturn procedure{name = 'toplevel', run = function() end}");
  CHECK_THROWS_WITH(d.runtime.start("toplevel", f.casegroup, {}, "op"),
                    Catch::Contains("the top level of a procedure may only declare it"));
  d.procedure("typo", "return procedure{name = 'typo', rn = function() end}");
  CHECK_THROWS_WITH(d.runtime.start("typo", f.casegroup, {}, "op"),
                    Catch::Contains("unknown field 'rn'"));
  d.procedure("ok", "return procedure{name = 'ok', run = function() end}");
  CHECK_THROWS_WITH(d.runtime.start("ok", 999, {}, "op"), Catch::Contains("999"));
  CHECK(d.count("SELECT count(*) FROM instances") == 0);
  CHECK(d.count("SELECT count(*) FROM procedure_sources") == 0);
}

TEST_CASE("an edited procedure or library takes effect at the next start") {
  // The runtime keeps compiled procedures and libraries for speed; it must never start an
  // instance on text that is no longer in the file.
  DurableEngine d;
  const auto f = d.family();
  write_file(d.engine.home.procedures() / "lib" / "rate.lua", "return { value = 1 }\n");
  const std::string body = R"lua(
local rate = require "rate"
return procedure{name = "edited", run = function() return VERSION + rate.value end}
)lua";
  d.procedure("edited", "local VERSION = 10\n" + body);
  const Id first = d.runtime.start("edited", f.casegroup, {}, "op");
  d.procedure("edited", "local VERSION = 20\n" + body);
  const Id second = d.runtime.start("edited", f.casegroup, {}, "op");
  write_file(d.engine.home.procedures() / "lib" / "rate.lua", "return { value = 2 }\n");
  const Id third = d.runtime.start("edited", f.casegroup, {}, "op");
  CHECK(d.instance(first).result == "11");
  CHECK(d.instance(second).result == "21");
  CHECK(d.instance(third).result == "22");
  CHECK(d.instance(first).source_hash != d.instance(second).source_hash);
  // Starting on unchanged text pins the same source again.
  const Id fourth = d.runtime.start("edited", f.casegroup, {}, "op");
  CHECK(d.instance(fourth).source_hash == d.instance(third).source_hash);
  CHECK(d.count("SELECT count(*) FROM procedure_sources WHERE name = 'edited'") == 2);
}

namespace {

// A procedure whose recorded commands come from a library module: an edit of the module
// changes what a replay of it would do.
constexpr const char* kUsesSteps = R"lua(
local steps = require "steps"
return procedure{name = "stepped", run = function(ctx)
  local s = sr.create{casegroup = ctx.casegroup, process = "Arrears",
                      area = "Arrears management", sub_area = "Action Missed Payment"}
  steps.before(s)
  wait{days = 1}
  steps.after(s)
  return s.id
end}
)lua";

// kUsesSteps with its module, every resume a replay (no warm states): an instance that
// read an edited module would find a different note in its history and stop.
struct Stepped {
  Stepped() {
    write_steps("before v1", "after v1");
    d.procedure("stepped", kUsesSteps);
  }
  // procedures/lib/steps.lua, its functions adding these notes.
  void write_steps(const std::string& before, const std::string& after) {
    write_file(d.engine.home.procedures() / "lib" / "steps.lua",
               "return {\n  before = function(s) s:add_note('" + before +
                   "') end,\n  after = function(s) s:add_note('" + after + "') end,\n}\n");
  }
  Id start() { return d.runtime.start("stepped", f.casegroup, {}, "op"); }
  // The notes on the SR the instance returned.
  std::vector<std::string> notes(Id instance) {
    std::vector<std::string> out;
    const Id sr = std::stoll(d.instance(instance).result.value_or("0"));
    for (const auto& n : d.engine.srs.notes(sr)) out.push_back(n.body);
    return out;
  }

  DurableEngine d{RuntimeOptions{.cache_size = 0}};
  Family f = d.family();
};

}  // namespace

TEST_CASE("a running instance requires the library as it was when it started") {
  Stepped t;
  auto& d = t.d;
  const Id first = t.start();
  const Id second = t.start();
  CHECK(d.instance(first).library_hash == d.instance(second).library_hash);
  CHECK(d.count("SELECT count(*) FROM libraries") == 1);

  t.write_steps("before v2", "after v2");
  const Id third = t.start();
  REQUIRE(d.instance(first).library_hash);
  CHECK(d.instance(third).library_hash != d.instance(first).library_hash);
  CHECK(d.instance(third).source_hash == d.instance(first).source_hash);
  // An instance from before libraries were pinned has none and reads the folders, as every
  // instance did: the edit makes its replay diverge.
  d.db.exec("UPDATE instances SET library_hash = NULL WHERE id = " + std::to_string(second));

  d.advance(24h);
  CHECK(d.instance(first).status == "completed");
  CHECK(d.instance(third).status == "completed");
  CHECK(d.instance(second).status == "failed");
  const auto incidents = d.runtime.store().incidents(false, std::nullopt);
  REQUIRE(incidents.size() == 1);
  CHECK(incidents[0].instance == second);
  CHECK(incidents[0].kind == "divergence");
  CHECK(t.notes(first) == std::vector<std::string>{"before v1", "after v1"});
  CHECK(t.notes(third) == std::vector<std::string>{"before v2", "after v2"});
  // Each version's texts are kept once, with the procedures' sources.
  CHECK(d.count("SELECT count(*) FROM libraries") == 2);
  CHECK(d.count("SELECT count(*) FROM procedure_sources WHERE file = 'procedures/lib/steps.lua'") ==
        2);
}

TEST_CASE("upgrade moves an instance to the current library only when its history replays") {
  Stepped t;
  auto& d = t.d;
  const Id id = t.start();
  const auto pinned = d.instance(id).library_hash;
  CHECK_THAT(d.runtime.upgrade(id).message, Catch::Contains("already runs the current source"));

  // The module's first note changes: the history does not replay on it.
  t.write_steps("before v2", "after v2");
  const UpgradeReport refused = d.runtime.upgrade(id);
  CHECK_FALSE(refused.replays);
  REQUIRE(refused.divergence);
  CHECK(refused.divergence->position == 2);
  CHECK(refused.divergence->line == "procedures/lib/steps.lua:2");
  CHECK(d.instance(id).library_hash == pinned);

  // Only what follows the wait changes: it replays, and a dry run moves nothing.
  t.write_steps("before v1", "after v3");
  CHECK(d.runtime.upgrade(id, true).replays);
  CHECK(d.instance(id).library_hash == pinned);
  const UpgradeReport moved = d.runtime.upgrade(id);
  CHECK(moved.switched);
  CHECK(d.instance(id).library_hash != pinned);
  CHECK_THAT(moved.message, Catch::Contains("library " + *pinned + " to source "));
  d.advance(24h);
  CHECK(d.instance(id).status == "completed");
  CHECK(t.notes(id) == std::vector<std::string>{"before v1", "after v3"});
}

TEST_CASE("a batch pins each procedure once, and forgets what a failed activation pinned") {
  // Within one batch the runtime remembers which procedures it has pinned. An activation
  // that fails rolls back the source it stored; the next one in the batch must store it
  // again rather than start an instance on a source that is no longer there.
  DurableEngine d;
  d.procedure("child", "return procedure{name = \"child\", run = function() return 1 end}\n");
  d.procedure("parent", R"lua(
return procedure{name = "parent", run = function(ctx)
  local started = procedures.exists("child") and procedures.start{name = "child"}
  if ctx.params.fail == "yes" then error("parent failed after starting a child") end
  return started
end}
)lua");
  {
    Transaction tx(d.db);
    d.runtime.create("parent", std::nullopt, {{"fail", "yes"}}, "op");
    d.runtime.create("parent", std::nullopt, {{"fail", "no"}}, "op");
    d.runtime.create("parent", std::nullopt, {{"fail", "no"}}, "op");
    tx.commit();
  }
  d.runtime.drain();
  CHECK(d.count("SELECT count(*) FROM instances WHERE procedure = 'parent' AND status = "
                "'failed'") == 1);
  CHECK(d.count("SELECT count(*) FROM instances WHERE procedure = 'parent' AND status = "
                "'completed'") == 2);
  CHECK(d.count("SELECT count(*) FROM instances WHERE procedure = 'child' AND status = "
                "'completed'") == 2);
  CHECK(d.count("SELECT count(*) FROM procedure_sources WHERE name = 'child'") == 1);
}

TEST_CASE("a failing activation rolls back alone, and the others commit and print once") {
  // A batch runs without a savepoint per activation until one fails; then it is rolled back
  // whole and runs again isolated. Nothing may be done, or said, twice.
  DurableEngine d;
  const auto f = d.family();
  d.procedure("batchy", R"lua(
return procedure{name = "batchy", run = function(ctx)
  local s = sr.create{casegroup = ctx.casegroup, process = "Arrears",
                      area = "Arrears management", sub_area = "Action Missed Payment"}
  print("ran " .. ctx.params.n)
  if ctx.params.n == "3" then error("instance 3 fails") end
  wait{days = 1}
  s:add_note("woke " .. ctx.params.n)
  print("woke " .. ctx.params.n)
end}
)lua");
  {
    Transaction tx(d.db);
    for (int n = 1; n <= 5; ++n) {
      d.runtime.create("batchy", f.casegroup, {{"n", std::to_string(n)}}, "op");
    }
    tx.commit();
  }
  d.runtime.drain();
  CHECK(d.printed == "ran 1\nran 2\nran 3\nran 4\nran 5\n");
  CHECK(d.count("SELECT count(*) FROM service_requests") == 4);
  CHECK(d.count("SELECT count(*) FROM instances WHERE status = 'waiting'") == 4);
  CHECK(d.count("SELECT count(*) FROM instances WHERE status = 'failed'") == 1);
  CHECK(d.count("SELECT count(*) FROM incidents") == 1);
  d.printed.clear();
  d.advance(24h);
  CHECK(d.printed == "woke 1\nwoke 2\nwoke 4\nwoke 5\n");
  CHECK(d.count("SELECT count(*) FROM sr_notes WHERE body LIKE 'woke %'") == 4);
  CHECK(d.count("SELECT count(*) FROM instances WHERE status = 'completed'") == 4);
}

TEST_CASE("an input held parsed is used only with the text it came from, and only once") {
  // The trees here differ from their texts on purpose, to show which one an activation
  // used: the runtime trusts a held tree only while the instance's stored input is the
  // text it was parsed from, and forgets it when the drain ends. A batch rolled back gives
  // its ids to the instances created next, which is how a held tree could meet another
  // instance's input.
  DurableEngine d;
  d.procedure("echo",
              "return procedure{name = \"echo\", run = function(ctx) "
              "return (ctx.input and ctx.input.v or 'none') .. '/' .. #ctx.params end}\n");
  const Pin pin = d.runtime.pin("echo");
  const std::string text = R"({"v":"text"})";
  const auto tree = [](const char* v) { return nlohmann::ordered_json{{"v", v}}; };
  const auto result = [&](Id id) { return d.instance(id).result.value_or("none"); };
  const auto create_rolled_back = [&](const std::string& input_text, const char* v) {
    Transaction tx(d.db);
    return d.runtime.create_pinned("echo", pin, std::nullopt, input_text, tree(v), "op");
  };
  Id held = 0, stale = 0, after = 0;
  {
    Transaction tx(d.db);
    held = d.runtime.create_pinned("echo", pin, std::nullopt, text, tree("tree"), "op");
    tx.commit();
  }
  const Id rolled_back = create_rolled_back(R"({"v":"other"})", "tree");
  {
    Transaction tx(d.db);
    stale = d.runtime.create("echo", std::nullopt, {}, "op");
    tx.commit();
  }
  REQUIRE(stale == rolled_back);
  const Id forgotten = create_rolled_back(text, "forgotten");
  d.runtime.drain();
  CHECK(result(held) == R"("tree/0")");
  CHECK(result(stale) == R"("none/0")");
  {
    // Stored as create_pinned would store it, but straight through the store: no tree held.
    Transaction tx(d.db);
    after = d.runtime.store().create("echo", pin, std::nullopt,
                                     R"({"input":)" + text + R"(,"params":{}})", "op");
    tx.commit();
  }
  REQUIRE(after == forgotten);
  d.runtime.drain();
  CHECK(result(after) == R"("text/0")");
}

TEST_CASE("instances sharing a sandbox each get a fresh environment, locals and modules") {
  // One-shot instances of one procedure run one after another in the same sandbox. Whatever
  // one of them changes (a module's table, the chunk's top-level locals, an allowed global
  // reassigned) must not be seen by the next.
  DurableEngine d;
  write_file(d.engine.home.procedures() / "lib" / "tally.lua", "return { n = 0 }\n");
  d.procedure("leaky", R"lua(
local seen = {}
return procedure{name = "leaky", run = function(ctx)
  local tally = require "tally"
  tally.n = tally.n + 1
  seen[#seen + 1] = ctx.instance
  local before = type(tostring)
  tostring = nil
  return tally.n .. "/" .. #seen .. "/" .. before
end}
)lua");
  {
    Transaction tx(d.db);
    for (int i = 0; i < 5; ++i) d.runtime.create("leaky", std::nullopt, {}, "op");
    tx.commit();
  }
  d.runtime.drain();
  CHECK(d.runtime.stats().sandboxes_reused == 4);
  CHECK(d.count("SELECT count(*) FROM instances WHERE result = '\"1/1/function\"'") == 5);
}

TEST_CASE("a sandbox stopped by a limit is not reused, and the next instance runs clean") {
  RuntimeOptions options;
  options.limits.instructions = 1'000'000;
  DurableEngine d(options);
  d.procedure("spins", R"lua(
return procedure{name = "spins", run = function(ctx)
  if ctx.params.spin == "yes" then
    while true do pcall(function() while true do end end) end
  end
  return "ran"
end}
)lua");
  const Id stuck = d.runtime.start("spins", std::nullopt, {{"spin", "yes"}}, "op");
  CHECK(d.instance(stuck).status == "failed");
  CHECK_THAT(*d.instance(stuck).error, Catch::Contains("instruction budget"));
  const Id after = d.runtime.start("spins", std::nullopt, {{"spin", "no"}}, "op");
  CHECK(d.instance(after).result == R"("ran")");
  CHECK(d.runtime.stats().sandboxes_reused == 0);  // built afresh after the kill
  const Id again = d.runtime.start("spins", std::nullopt, {{"spin", "no"}}, "op");
  CHECK(d.instance(again).result == R"("ran")");
  CHECK(d.runtime.stats().sandboxes_reused == 1);
}

TEST_CASE("waits outside a procedure instance, and bad wait arguments, are refused") {
  TestEngine t;
  CHECK_THAT(t.error_of("wait{days = 1}"), Catch::Contains("only a procedure instance can wait"));
  DurableEngine d;
  const auto f = d.family();
  auto failure_of = [&](const std::string& name, const std::string& body) {
    d.procedure(name,
                "return procedure{name = '" + name + "', run = function(ctx) " + body + " end}");
    const Id id = d.runtime.start(name, f.casegroup, {}, "op");
    return d.instance(id).error.value_or("");
  };
  CHECK_THAT(failure_of("w1", "wait{days = 1, at = '2027-01-01'}"),
             Catch::Contains("give exactly one of days, at"));
  CHECK_THAT(failure_of("w2", "wait{days = -1}"), Catch::Contains("must be 0 to 3660 days"));
  CHECK_THAT(failure_of("w3", "wait{['until'] = 'soon'}"),
             Catch::Contains("field 'until' (date YYYY-MM-DD or instant"));
  CHECK_THAT(failure_of("w4", "task.await{inbox = 'nowhere', title = 't', outcomes = {'ok'}}"),
             Catch::Contains("unknown inbox 'nowhere'"));
  CHECK_THAT(failure_of("w5", "task.await{inbox = 'caseworker', title = 't', outcomes = {}}"),
             Catch::Contains("at least one outcome"));
  CHECK_THAT(failure_of("w6", "event.await{kind = 'letter', account = 1}"),
             Catch::Contains("field 'letter' (Letter expected, got nil)"));
  CHECK_THAT(failure_of("w6b", "event.await{kind = 'letter', letter = 999}"),
             Catch::Contains("no letter with id 999"));
  CHECK_THAT(failure_of("w7", "event.await{kind = 'payment', account = 999}"),
             Catch::Contains("999"));
  CHECK(d.count("SELECT count(*) FROM work_items") == 0);
}

TEST_CASE("a procedure may wait inside pcall and xpcall") {
  DurableEngine d({.cache_size = 0});
  const auto f = d.family();
  d.procedure("guarded", R"lua(
return procedure {
  name = "guarded",
  run = function(ctx)
    local ok, w = pcall(wait, {days = 1})
    local ok2, w2 = xpcall(function() return wait{days = 2} end, function(e) return e end)
    return {ok, w.fired_at, ok2, w2.fired_at}
  end,
}
)lua");
  const Id id = d.runtime.start("guarded", f.casegroup, {}, "op");
  d.advance(24h);
  d.advance(48h);
  CHECK(d.instance(id).result == R"([true,"2026-11-21T09:00:00Z",true,"2026-11-23T09:00:00Z"])");
}

TEST_CASE("a team's items are for its members, and items with no team for anyone of the role") {
  DurableEngine d;
  const auto f = d.family();
  d.procedure("approval", kApproval);
  d.procedure("no_team", R"lua(
return procedure {
  name = "no_team",
  run = function(ctx)
    return task.await{inbox = "caseworker", title = "Anyone's", outcomes = {"done"}}.outcome
  end,
}
)lua");
  d.engine.users.add("ann", "caseworker", std::string("Arrears"));
  d.engine.users.add("eva", "caseworker", std::string("Enforcement"));
  d.engine.users.add("nina", "caseworker");
  d.runtime.start("approval", f.casegroup, {}, "ann");  // item 1, on an Arrears SR
  d.runtime.start("no_team", f.casegroup, {}, "ann");   // item 2, on no SR
  const auto visible = [&](const std::string& name) {
    std::vector<Id> out;
    for (const WorkItem& i : d.engine.work_items.query({}, d.engine.users.require(name)).items) {
      out.push_back(i.id);
    }
    return out;
  };
  CHECK(visible("ann") == std::vector<Id>{1, 2});
  CHECK(visible("eva") == std::vector<Id>{2});
  CHECK(visible("nina") == std::vector<Id>{2});
  CHECK(d.engine.work_items.query({}, d.engine.users.require("nina")).total == 1);
  CHECK_THROWS_WITH(d.runtime.complete_task(1, "submitted", {{"journal", "J"}}, "nina"),
                    "work item 1 belongs to team Arrears, and nina is in no team");
  CHECK_THROWS_WITH(d.runtime.complete_task(1, "submitted", {{"journal", "J"}}, "eva"),
                    Catch::Contains("not to eva's team Enforcement"));
  d.runtime.complete_task(2, "done", {}, "nina");
  CHECK(d.engine.work_items.get(2).status == "completed");
}

TEST_CASE(
    "the audit says which script line of a procedure made each change, and a replay adds none") {
  DurableEngine t;
  t.procedure("timers", kTimers);
  const Family f = t.family();
  const Id id = t.runtime.start("timers", f.casegroup, {{"reason", "why"}}, "alice");
  const auto whys = [&] {
    std::string out;
    auto st = t.db.prepare(
        "SELECT DISTINCT why FROM audit WHERE entity IN ('service_requests', 'sr_notes') "
        "ORDER BY id");
    while (st.step()) out += (st.is_null(0) ? "NULL" : st.text(0)) + "\n";
    return out;
  };
  // sr.create at line 5 of the script, and the first note at line 8.
  CHECK(whys() == "procedures/timers.lua:5 sr.create\nprocedures/timers.lua:8 SR:add_note\n");
  const auto before = t.count("SELECT count(*) FROM audit");
  // A replay (the instance woken from its history after 14 days) adds only what is new:
  // the note after the wait, at its own line.
  t.advance(std::chrono::hours(24 * 14));
  CHECK(t.count("SELECT count(*) FROM audit") > before);
  CHECK_THAT(whys(), Catch::Contains("procedures/timers.lua:10 SR:add_note"));
  CHECK(t.instance(id).status == "waiting");
  // Outside a procedure, nobody said why unless a command or route did.
  t.engine.casegroups.set_segment(f.casegroup, "Enforcement");
  {
    const WhyScope why(t.db, "casekit casegroup set");
    t.engine.casegroups.set_segment(f.casegroup, "Arrears");
  }
  auto st = t.db.prepare(
      "SELECT IFNULL(why, 'NULL') FROM audit WHERE entity = 'casegroups' AND action = "
      "'update' ORDER BY id");
  std::string got;
  while (st.step()) got += st.text(0) + "\n";
  CHECK(got == "NULL\ncasekit casegroup set\n");
}
