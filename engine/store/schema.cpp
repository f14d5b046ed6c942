#include "engine/store/schema.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/core/json.hpp"
#include "engine/core/text.hpp"
#include "engine/store/audit_chain.hpp"
#include "engine/store/history_blob.hpp"

namespace casekit {
namespace {

struct Migration {
  int version;
  const char* name;
  const char* sql;
  void (*apply)(Database&) = nullptr;  // a step SQL alone cannot express, run after `sql`
};

// Money columns carry CHECK(typeof(x) = 'integer'): SQLite would otherwise store 12.5 happily.
constexpr const char* kV1 = R"sql(
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE clients (
  id                 INTEGER PRIMARY KEY,
  nino               TEXT UNIQUE,
  name               TEXT NOT NULL,
  dob                TEXT,
  employment_status  TEXT,
  benefit_status     TEXT,
  contact_suppressed INTEGER NOT NULL DEFAULT 0 CHECK (contact_suppressed IN (0, 1)),
  deceased           INTEGER NOT NULL DEFAULT 0 CHECK (deceased IN (0, 1)),
  created_at         TEXT NOT NULL
);

CREATE TABLE addresses (
  id                INTEGER PRIMARY KEY,
  client_id         INTEGER NOT NULL REFERENCES clients(id),
  line1             TEXT NOT NULL,
  line2             TEXT,
  town              TEXT,
  postcode          TEXT,
  status            TEXT NOT NULL CHECK (status IN ('confirmed', 'DLO', 'NFA', 'JPAC')),
  is_correspondence INTEGER NOT NULL DEFAULT 1 CHECK (is_correspondence IN (0, 1)),
  created_at        TEXT NOT NULL
);
CREATE INDEX addresses_client ON addresses(client_id);

CREATE TABLE casegroups (
  id                 INTEGER PRIMARY KEY,
  csa_ref            TEXT UNIQUE,
  paying_parent_id   INTEGER NOT NULL REFERENCES clients(id),
  segment            TEXT NOT NULL CHECK (segment IN ('Maintenance', 'Arrears', 'Enforcement',
                       'Central Team', 'Arrears Only Categorised')),
  service_type       TEXT NOT NULL DEFAULT 'Collect & Pay'
                       CHECK (service_type IN ('Collect & Pay', 'Direct Pay')),
  arrears_only       INTEGER NOT NULL DEFAULT 0 CHECK (arrears_only IN (0, 1)),
  region             TEXT NOT NULL CHECK (region IN ('E&W', 'Scotland', 'NI')),
  review_date        TEXT,
  annual_review_date TEXT,
  created_at         TEXT NOT NULL
);
CREATE INDEX casegroups_paying_parent ON casegroups(paying_parent_id);

CREATE TABLE casegroup_flags (
  casegroup_id INTEGER NOT NULL REFERENCES casegroups(id),
  flag         TEXT NOT NULL CHECK (flag IN ('manual_allocation', 'lock_assignment',
                 'disable_missed_payment_monitor', 'court_enforced_schedule',
                 'ever_in_enforcement', 'deo_desire', 'transition_complete')),
  PRIMARY KEY (casegroup_id, flag)
) WITHOUT ROWID;

CREATE TABLE cases (
  id                  INTEGER PRIMARY KEY,
  casegroup_id        INTEGER NOT NULL REFERENCES casegroups(id),
  receiving_parent_id INTEGER NOT NULL REFERENCES clients(id),
  status              TEXT NOT NULL DEFAULT 'Open' CHECK (status IN ('Open', 'Closed')),
  csa_scheme          TEXT,
  csa_case_ref        TEXT,
  created_at          TEXT NOT NULL,
  UNIQUE (casegroup_id, receiving_parent_id)
);
CREATE INDEX cases_receiving_parent ON cases(receiving_parent_id);

CREATE TABLE ledger_accounts (
  id           INTEGER PRIMARY KEY,
  client_id    INTEGER NOT NULL UNIQUE REFERENCES clients(id),
  bancs_number TEXT NOT NULL UNIQUE,
  mop          TEXT CHECK (mop IN ('DD', 'SO', 'DEO', 'DFB')),
  mop_status   TEXT CHECK (mop_status IN ('active', 'suspended')),
  created_at   TEXT NOT NULL
);

CREATE TABLE dues (
  id           INTEGER PRIMARY KEY,
  account_id   INTEGER NOT NULL REFERENCES ledger_accounts(id),
  casegroup_id INTEGER NOT NULL REFERENCES casegroups(id),
  case_id      INTEGER REFERENCES cases(id),
  owed_to      TEXT NOT NULL CHECK (owed_to IN ('RP', 'SOS_GB', 'SOS_NI')),
  state        TEXT NOT NULL CHECK (state IN ('active', 'suspended', 'deferred', 'written_off')),
  amount       INTEGER NOT NULL CHECK (typeof(amount) = 'integer' AND amount >= 0),
  origin       TEXT,
  created_at   TEXT NOT NULL,
  CHECK (owed_to <> 'RP' OR case_id IS NOT NULL)
);
CREATE INDEX dues_casegroup ON dues(casegroup_id);

CREATE TABLE charges (
  id           INTEGER PRIMARY KEY,
  account_id   INTEGER NOT NULL REFERENCES ledger_accounts(id),
  casegroup_id INTEGER NOT NULL REFERENCES casegroups(id),
  kind         TEXT NOT NULL CHECK (kind IN ('collection', 'enforcement')),
  state        TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'written_off')),
  amount       INTEGER NOT NULL CHECK (typeof(amount) = 'integer' AND amount >= 0),
  created_at   TEXT NOT NULL
);
CREATE INDEX charges_casegroup ON charges(casegroup_id);

CREATE TABLE payments (
  id          INTEGER PRIMARY KEY,
  account_id  INTEGER NOT NULL REFERENCES ledger_accounts(id),
  amount      INTEGER NOT NULL CHECK (typeof(amount) = 'integer' AND amount > 0),
  received_on TEXT NOT NULL,
  method      TEXT,
  reference   TEXT,
  created_at  TEXT NOT NULL
);
CREATE INDEX payments_account ON payments(account_id, received_on);

CREATE TABLE write_offs (
  id             INTEGER PRIMARY KEY,
  account_id     INTEGER NOT NULL REFERENCES ledger_accounts(id),
  casegroup_id   INTEGER NOT NULL REFERENCES casegroups(id),
  journal_number TEXT NOT NULL UNIQUE,
  written_off_on TEXT NOT NULL,
  arrears_amount INTEGER NOT NULL CHECK (typeof(arrears_amount) = 'integer' AND arrears_amount >= 0),
  charges_amount INTEGER NOT NULL DEFAULT 0
                   CHECK (typeof(charges_amount) = 'integer' AND charges_amount >= 0),
  created_at     TEXT NOT NULL
);

CREATE TABLE payment_schedules (
  id                    INTEGER PRIMARY KEY,
  casegroup_id          INTEGER NOT NULL REFERENCES casegroups(id),
  version               INTEGER NOT NULL CHECK (version >= 1),
  lump_sum              INTEGER NOT NULL DEFAULT 0
                          CHECK (typeof(lump_sum) = 'integer' AND lump_sum >= 0),
  amount_per_period     INTEGER NOT NULL
                          CHECK (typeof(amount_per_period) = 'integer' AND amount_per_period >= 0),
  frequency             TEXT NOT NULL
                          CHECK (frequency IN ('weekly', 'fortnightly', 'four_weekly', 'monthly')),
  periods               INTEGER NOT NULL CHECK (periods >= 0),
  first_collection_date TEXT NOT NULL,
  in_place              INTEGER NOT NULL DEFAULT 1 CHECK (in_place IN (0, 1)),
  acceptable            INTEGER CHECK (acceptable IN (0, 1)),
  created_at            TEXT NOT NULL,
  UNIQUE (casegroup_id, version)
);

CREATE TABLE service_requests (
  id              INTEGER PRIMARY KEY,
  process         TEXT NOT NULL,
  area            TEXT NOT NULL,
  sub_area        TEXT NOT NULL,
  status          TEXT NOT NULL,
  sub_status      TEXT,
  resolution_code TEXT,
  reason          TEXT,
  casegroup_id    INTEGER REFERENCES casegroups(id),
  case_id         INTEGER REFERENCES cases(id),
  parent_id       INTEGER REFERENCES service_requests(id),
  owner_team      TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  closed_at       TEXT
);
CREATE INDEX service_requests_casegroup ON service_requests(casegroup_id, sub_area);
CREATE INDEX service_requests_parent ON service_requests(parent_id);

CREATE TABLE sr_fields (
  sr_id INTEGER NOT NULL REFERENCES service_requests(id),
  name  TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (sr_id, name)
) WITHOUT ROWID;

CREATE TABLE sr_notes (
  id         INTEGER PRIMARY KEY,
  sr_id      INTEGER NOT NULL REFERENCES service_requests(id),
  author     TEXT NOT NULL,
  body       TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX sr_notes_sr ON sr_notes(sr_id);

CREATE TABLE sr_steps (
  id           INTEGER PRIMARY KEY,
  sr_id        INTEGER NOT NULL REFERENCES service_requests(id),
  seq          INTEGER NOT NULL,
  name         TEXT NOT NULL,
  status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'skipped')),
  completed_at TEXT,
  UNIQUE (sr_id, name)
);

CREATE TABLE sr_relations (
  sr_id         INTEGER NOT NULL REFERENCES service_requests(id),
  related_sr_id INTEGER NOT NULL REFERENCES service_requests(id),
  PRIMARY KEY (sr_id, related_sr_id),
  CHECK (sr_id <> related_sr_id)
) WITHOUT ROWID;

CREATE TABLE payment_requests (
  id              INTEGER PRIMARY KEY,
  sr_id           INTEGER NOT NULL REFERENCES service_requests(id),
  kind            TEXT NOT NULL,
  amount          INTEGER CHECK (amount IS NULL OR typeof(amount) = 'integer'),
  rp_written_off  INTEGER CHECK (rp_written_off IS NULL OR typeof(rp_written_off) = 'integer'),
  cmg_written_off INTEGER CHECK (cmg_written_off IS NULL OR typeof(cmg_written_off) = 'integer'),
  bancs_status    TEXT,
  message         TEXT,
  updated_at      TEXT NOT NULL,
  UNIQUE (sr_id, kind)
);

CREATE TABLE work_items (
  id           INTEGER PRIMARY KEY,
  inbox        TEXT NOT NULL,
  kind         TEXT NOT NULL,
  sr_id        INTEGER REFERENCES service_requests(id),
  title        TEXT NOT NULL,
  outcomes     TEXT NOT NULL CHECK (json_valid(outcomes)),
  fields       TEXT CHECK (fields IS NULL OR json_valid(fields)),
  assignee     TEXT,
  submitted_by TEXT,
  due_date     TEXT,
  status       TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'completed', 'cancelled')),
  outcome      TEXT,
  completed_by TEXT,
  completed_at TEXT,
  created_at   TEXT NOT NULL
);
CREATE INDEX work_items_inbox ON work_items(inbox, status);

CREATE TABLE letters (
  id            INTEGER PRIMARY KEY,
  template_code TEXT NOT NULL,
  recipient_id  INTEGER NOT NULL REFERENCES clients(id),
  casegroup_id  INTEGER REFERENCES casegroups(id),
  sr_id         INTEGER REFERENCES service_requests(id),
  body          TEXT NOT NULL,
  status        TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'fulfilled', 'failed')),
  outbox_file   TEXT,
  created_at    TEXT NOT NULL,
  fulfilled_at  TEXT
);
CREATE INDEX letters_status ON letters(status);

CREATE TABLE exceptions (
  id          INTEGER PRIMARY KEY,
  report_date TEXT NOT NULL,
  csa_ref     TEXT,
  reason      TEXT NOT NULL,
  created_at  TEXT NOT NULL
);
CREATE INDEX exceptions_date ON exceptions(report_date);

CREATE TABLE audit (
  id        INTEGER PRIMARY KEY,
  at        TEXT NOT NULL,
  actor     TEXT NOT NULL,
  entity    TEXT NOT NULL,
  entity_id INTEGER,
  action    TEXT NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
  before    TEXT,
  after     TEXT
);
CREATE INDEX audit_entity ON audit(entity, entity_id);
)sql";

// Operator schedules: their pause state and the last fire handled, and the history of
// every run (scheduled or by hand), kept even when the script fails.
constexpr const char* kV2 = R"sql(
CREATE TABLE schedule_state (
  name      TEXT PRIMARY KEY,
  paused    INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
  last_fire TEXT
) WITHOUT ROWID;

CREATE TABLE runs (
  id            INTEGER PRIMARY KEY,
  schedule      TEXT,
  script        TEXT NOT NULL,
  trigger       TEXT NOT NULL CHECK (trigger IN ('schedule', 'manual', 'catch_up')),
  scheduled_for TEXT,
  started_at    TEXT NOT NULL,
  finished_at   TEXT,
  status        TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  message       TEXT
);
CREATE INDEX runs_schedule ON runs(schedule, id);
)sql";

// Durable procedures: users and their roles, procedure sources kept by hash (each instance
// stays on the source it started with), instances and their command history, incidents.
// A waiting instance's wait lives on its row (wait_kind, wake_at, wait_ref, wait_seq) so
// that the timer, work item or payment that ends it is one indexed lookup away.
constexpr const char* kV3 = R"sql(
CREATE TABLE users (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  role       TEXT NOT NULL CHECK (role IN ('caseworker', 'team_leader', 'operator', 'policy_author')),
  created_at TEXT NOT NULL
);

CREATE TABLE procedure_sources (
  hash       TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  file       TEXT NOT NULL,
  source     TEXT NOT NULL,
  created_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE instances (
  id           INTEGER PRIMARY KEY,
  procedure    TEXT NOT NULL,
  source_hash  TEXT NOT NULL REFERENCES procedure_sources(hash),
  casegroup_id INTEGER REFERENCES casegroups(id),
  input        TEXT NOT NULL CHECK (json_valid(input)),
  status       TEXT NOT NULL CHECK (status IN ('runnable', 'waiting', 'completed', 'failed',
                                               'cancelled')),
  wait_kind    TEXT CHECK (wait_kind IS NULL OR wait_kind IN ('timer', 'task', 'payment')),
  wait_seq     INTEGER,
  wake_at      TEXT,
  wait_ref     INTEGER,
  result       TEXT,
  error        TEXT,
  started_by   TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL
);
CREATE INDEX instances_runnable ON instances(id) WHERE status = 'runnable';
CREATE INDEX instances_wake ON instances(wake_at) WHERE status = 'waiting' AND wake_at IS NOT NULL;
CREATE INDEX instances_wait_ref ON instances(wait_kind, wait_ref) WHERE status = 'waiting';
CREATE INDEX instances_casegroup ON instances(casegroup_id);

CREATE TABLE instance_history (
  instance_id INTEGER NOT NULL REFERENCES instances(id),
  seq         INTEGER NOT NULL,
  command     TEXT NOT NULL,
  args        TEXT NOT NULL,
  result      TEXT,
  line        TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  resolved_at TEXT,
  PRIMARY KEY (instance_id, seq)
) WITHOUT ROWID;

CREATE TABLE incidents (
  id          INTEGER PRIMARY KEY,
  instance_id INTEGER NOT NULL REFERENCES instances(id),
  kind        TEXT NOT NULL CHECK (kind IN ('divergence', 'error')),
  position    INTEGER,
  expected    TEXT,
  found       TEXT,
  line        TEXT,
  message     TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  resolved_at TEXT,
  resolution  TEXT
);
CREATE INDEX incidents_open ON incidents(instance_id) WHERE resolved_at IS NULL;

ALTER TABLE work_items ADD COLUMN instance_id INTEGER REFERENCES instances(id);
ALTER TABLE work_items ADD COLUMN required_fields TEXT;
ALTER TABLE work_items ADD COLUMN field_values TEXT;
CREATE INDEX work_items_instance ON work_items(instance_id);

-- A payment ends every wait on its account, whichever path recorded it (the CLI, a script,
-- an import): the waiting instance gets the payment as its wait's result and becomes runnable.
CREATE TRIGGER payments_wake_waiters AFTER INSERT ON payments
BEGIN
  UPDATE instance_history
     SET result = json_array(json_object('kind', 'payment', 'payment',
                                         json_object('id', NEW.id, 'amount', NEW.amount,
                                                     'date', NEW.received_on))),
         resolved_at = casekit_now()
   WHERE (instance_id, seq) IN (SELECT id, wait_seq FROM instances
                                 WHERE status = 'waiting' AND wait_kind = 'payment'
                                   AND wait_ref = NEW.account_id);
  UPDATE instances
     SET status = 'runnable', wait_kind = NULL, wait_seq = NULL, wake_at = NULL,
         wait_ref = NULL, updated_at = casekit_now()
   WHERE status = 'waiting' AND wait_kind = 'payment' AND wait_ref = NEW.account_id;
END;
)sql";

// Phase-2 transition: every Data Warehouse extract row the engine has taken in, so that a
// re-import counts it as a duplicate instead of transitioning it twice; and work items that
// a scheduled job may create once per key (the day's exceptions allocation).
constexpr const char* kV4 = R"sql(
CREATE TABLE dw_rows (
  row_key      TEXT PRIMARY KEY,
  csa_ref      TEXT,
  extract_date TEXT,
  outcome      TEXT NOT NULL CHECK (outcome IN ('transitioned', 'exception')),
  instance_id  INTEGER REFERENCES instances(id),
  exception_id INTEGER REFERENCES exceptions(id),
  imported_at  TEXT NOT NULL
) WITHOUT ROWID;

ALTER TABLE work_items ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX work_items_dedupe_key ON work_items(dedupe_key) WHERE dedupe_key IS NOT NULL;
)sql";

// Write-off reversal (source 004): which dues and charges each write-off took, and what a
// reversal brought back, so that BaNCS (engine/domain/bancs.hpp) can reverse exactly them.
constexpr const char* kV5 = R"sql(
ALTER TABLE dues ADD COLUMN write_off_id INTEGER REFERENCES write_offs(id);
ALTER TABLE charges ADD COLUMN write_off_id INTEGER REFERENCES write_offs(id);
ALTER TABLE write_offs ADD COLUMN reversed_amount INTEGER NOT NULL DEFAULT 0
  CHECK (typeof(reversed_amount) = 'integer' AND reversed_amount >= 0);
ALTER TABLE write_offs ADD COLUMN reverse_journal TEXT;
ALTER TABLE write_offs ADD COLUMN reversed_on TEXT;
CREATE INDEX dues_write_off ON dues(write_off_id) WHERE write_off_id IS NOT NULL;
)sql";

// `x IN ('a', 'b', 'c')` as `(x = 'a' OR x = 'b' OR x = 'c')`. SQLite evaluates an IN list
// of more than two constants in a CHECK constraint by building a temporary index, a 4 KiB
// page cleared and filled, for every row written: a fifth of an import's work went there.
// Comparisons cost nothing to set up and mean the same, NULL included.
std::string in_lists_as_comparisons(const std::string& sql) {
  static const std::regex in_list(
      R"((\w+) IN \(((?:'[^']*'|-?\d+)(?:\s*,\s*(?:'[^']*'|-?\d+))+)\))");
  static const std::regex item(R"('[^']*'|-?\d+)");
  std::string out;
  auto last = sql.cbegin();
  for (std::sregex_iterator m(sql.begin(), sql.end(), in_list), end; m != end; ++m) {
    out.append(last, (*m)[0].first);
    const std::string column = (*m)[1].str();
    const std::string items = (*m)[2].str();
    std::string alternatives;
    for (std::sregex_iterator i(items.begin(), items.end(), item); i != end; ++i) {
      alternatives += (alternatives.empty() ? "" : " OR ") + column + " = " + i->str();
    }
    out += "(" + alternatives + ")";
    last = (*m)[0].second;
  }
  out.append(last, sql.cend());
  return out;
}

// Rewrites the CREATE TABLE text of tables in place, for changes to constraints only, not to
// what is stored: the case SQLite documents as safe to make through writable_schema
// ("Making Other Kinds Of Table Schema Changes", lang_altertable.html). In the migration's
// transaction: edit sqlite_schema, bump the schema version so every connection re-reads it,
// and check that each rewritten table still parses (a failure rolls the migration back).
void rewrite_tables(Database& db, const std::function<std::string(const std::string&)>& rewrite) {
  std::vector<std::pair<std::string, std::string>> changed;
  {
    auto st = db.prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'table'");
    while (st.step()) {
      const std::string sql = st.text(1);
      std::string rewritten = rewrite(sql);
      if (rewritten != sql) changed.emplace_back(st.text(0), std::move(rewritten));
    }
  }
  if (changed.empty()) return;
  std::int64_t schema = 0;
  {
    auto version = db.prepare("PRAGMA schema_version");
    version.step();
    schema = version.integer(0);
  }
  db.exec("PRAGMA writable_schema = ON");
  for (const auto& [name, sql] : changed) {
    db.prepare("UPDATE sqlite_schema SET sql = ?1 WHERE type = 'table' AND name = ?2")
        .bind_all(sql, name)
        .run();
  }
  db.exec("PRAGMA schema_version = " + std::to_string(schema + 1));
  db.exec("PRAGMA writable_schema = OFF");
  for (const auto& entry : changed) {
    db.prepare("SELECT * FROM \"" + entry.first + "\" LIMIT 0").run();
  }
}

void checks_as_comparisons(Database& db) {
  rewrite_tables(db, in_lists_as_comparisons);
}

// Lets a CHECK that lists a column's values as comparisons (`c = 'a' OR c = 'b'`, as
// checks_as_comparisons leaves them) accept one more: `last` is the value the list ends with
// now, and `added` joins it at the end.
void allow_value(Database& db, const std::string& table, const std::string& column,
                 const std::string& last, const std::string& added) {
  rewrite_tables(db, [&](const std::string& sql) {
    const std::string values = column + " = '" + last + "')";
    const auto at = sql.find(values);
    if (sql.rfind("CREATE TABLE " + table + " ", 0) != 0 || at == std::string::npos) return sql;
    return std::string(sql).replace(
        at, values.size(), column + " = '" + last + "' OR " + column + " = '" + added + "')");
  });
}

void allow_wait_kind(Database& db, const std::string& last, const std::string& added) {
  allow_value(db, "instances", "wait_kind", last, added);
}

// Instances may wait for a letter to leave the queue (event.await{kind="letter"}).
void letter_waits(Database& db) {
  allow_wait_kind(db, "payment", "letter");
}

// Instances may wait for an SR to close (event.await{kind="sr"}).
void sr_waits(Database& db) {
  allow_wait_kind(db, "letter", "sr");
}

// A letter leaving the queue (fulfilled, or failed) ends every wait on it, as a payment
// ends the waits on its account.
constexpr const char* kV7 = R"sql(
CREATE TRIGGER letters_wake_waiters AFTER UPDATE OF status ON letters
WHEN OLD.status = 'queued' AND NEW.status <> 'queued'
BEGIN
  UPDATE instance_history
     SET result = json_array(json_object('kind', 'letter', 'letter',
                                         json_object('id', NEW.id, 'status', NEW.status))),
         resolved_at = casekit_now()
   WHERE (instance_id, seq) IN (SELECT id, wait_seq FROM instances
                                 WHERE status = 'waiting' AND wait_kind = 'letter'
                                   AND wait_ref = NEW.id);
  UPDATE instances
     SET status = 'runnable', wait_kind = NULL, wait_seq = NULL, wake_at = NULL,
         wait_ref = NULL, updated_at = casekit_now()
   WHERE status = 'waiting' AND wait_kind = 'letter' AND wait_ref = NEW.id;
END;
)sql";

// Payment allocation (engine/domain/allocation.hpp): which payment paid which due or charge,
// the date each fell due (kept when a write-off or a reversal splits the row, so that the
// oldest is still paid first), and payments returned to the payer. The domain allocates the
// payments recorded before this version when it next opens the database.
constexpr const char* kV8 = R"sql(
ALTER TABLE dues ADD COLUMN due_on TEXT;
UPDATE dues SET due_on = substr(created_at, 1, 10);
ALTER TABLE charges ADD COLUMN due_on TEXT;
UPDATE charges SET due_on = substr(created_at, 1, 10);
ALTER TABLE payments ADD COLUMN returned_on TEXT;
ALTER TABLE payments ADD COLUMN return_reason TEXT;

CREATE TABLE allocations (
  id             INTEGER PRIMARY KEY,
  payment_id     INTEGER NOT NULL REFERENCES payments(id),
  due_id         INTEGER REFERENCES dues(id),
  charge_id      INTEGER REFERENCES charges(id),
  amount         INTEGER NOT NULL CHECK (typeof(amount) = 'integer' AND amount > 0),
  allocated_on   TEXT NOT NULL,
  deallocated_on TEXT,
  CHECK ((due_id IS NULL) <> (charge_id IS NULL))
);
CREATE INDEX allocations_payment ON allocations(payment_id);
CREATE INDEX allocations_due ON allocations(due_id) WHERE due_id IS NOT NULL;
CREATE INDEX allocations_charge ON allocations(charge_id) WHERE charge_id IS NOT NULL;
CREATE INDEX dues_account ON dues(account_id);
CREATE INDEX charges_account ON charges(account_id);

INSERT INTO settings(key, value)
  SELECT 'allocate_recorded_payments', 'pending' WHERE EXISTS (SELECT 1 FROM payments);
)sql";

// Segregation of duties on approvals: besides the submitter, everyone who entered or amended
// what is being approved (a JSON array of user names) may not complete the approval.
constexpr const char* kV9 = R"sql(
ALTER TABLE work_items ADD COLUMN not_by TEXT CHECK (not_by IS NULL OR json_valid(not_by));
)sql";

// An SR closing ends every wait on it, as a letter leaving the queue does: a procedure that
// hands an SR to another (case routing's negotiation, source 001 step 69) follows its outcome.
constexpr const char* kV10 = R"sql(
CREATE TRIGGER service_requests_wake_waiters AFTER UPDATE OF status ON service_requests
WHEN OLD.status <> 'Closed' AND NEW.status = 'Closed'
BEGIN
  UPDATE instance_history
     SET result = json_array(json_object('kind', 'sr', 'sr',
                                         json_object('id', NEW.id, 'status', NEW.status,
                                                     'sub_status', NEW.sub_status,
                                                     'resolution_code', NEW.resolution_code))),
         resolved_at = casekit_now()
   WHERE (instance_id, seq) IN (SELECT id, wait_seq FROM instances
                                 WHERE status = 'waiting' AND wait_kind = 'sr'
                                   AND wait_ref = NEW.id);
  UPDATE instances
     SET status = 'runnable', wait_kind = NULL, wait_seq = NULL, wake_at = NULL,
         wait_ref = NULL, updated_at = casekit_now()
   WHERE status = 'waiting' AND wait_kind = 'sr' AND wait_ref = NEW.id;
END;
)sql";

// CMS's interest flags on CIS records (engine/domain/cis.hpp): which client the phase-2
// transition verified on CIS, for which casegroup, as applicant or other party.
constexpr const char* kV11 = R"sql(
CREATE TABLE cis_interests (
  id           INTEGER PRIMARY KEY,
  client_id    INTEGER NOT NULL REFERENCES clients(id),
  casegroup_id INTEGER NOT NULL REFERENCES casegroups(id),
  role         TEXT NOT NULL CHECK (role = 'applicant' OR role = 'other_party'),
  created_at   TEXT NOT NULL,
  UNIQUE (client_id, casegroup_id, role)
);
)sql";

// Instances may wait for a named signal from outside (event.await{kind="signal"}, delivered
// by `casekit signal`): the wait's own history row says which names it takes.
void signal_waits(Database& db) {
  allow_wait_kind(db, "sr", "signal");
}

// The Employer Interface issued by hand for an arrears-only casegroup (source 003), so that
// arrears negotiation asks for it only before the first schedule.
void employer_interface_flag(Database& db) {
  allow_value(db, "casegroup_flags", "flag", "transition_complete", "employer_interface_issued");
}

// An enforcement case that case routing monitors until its transfer to maintenance (001
// step 70): a missed payment is case routing's task then, not a missed payment SR.
void enforcement_monitoring_flag(Database& db) {
  allow_value(db, "casegroup_flags", "flag", "employer_interface_issued", "enforcement_monitoring");
}

// CMEL9271 is signed off by a senior manager (source 001), not a team leader (issue 34): the
// role, and on a work item what it asks about (for a sign-off: the letter, its text and its
// recipients), so that the letter is sent only with a sign-off of that very text.
void senior_manager_role(Database& db) {
  allow_value(db, "users", "role", "policy_author", "senior_manager");
}
constexpr const char* kV20 = R"sql(
ALTER TABLE work_items ADD COLUMN details TEXT CHECK (details IS NULL OR json_valid(details));
)sql";

// The ongoing maintenance liability of an open case (issue 34): the regular amount that
// falls due each period, raised as a due of kind 'maintenance' when its date comes, so that
// a collection pays maintenance first and arrears after (docs/money.md) and a payment of the
// maintenance alone cannot hide a missed arrears collection.
constexpr const char* kV21 = R"sql(
ALTER TABLE dues ADD COLUMN kind TEXT NOT NULL DEFAULT 'arrears'
  CHECK (kind = 'arrears' OR kind = 'maintenance');
CREATE TABLE maintenance_liabilities (
  case_id        INTEGER PRIMARY KEY REFERENCES cases(id),
  amount         INTEGER NOT NULL CHECK (typeof(amount) = 'integer' AND amount > 0),
  frequency      TEXT NOT NULL
    CHECK (frequency = 'weekly' OR frequency = 'fortnightly' OR frequency = 'four_weekly'
           OR frequency = 'monthly'),
  first_due_on   TEXT NOT NULL,
  ends_on        TEXT,
  raised_through TEXT,
  created_at     TEXT NOT NULL
);
)sql";

// Source 000 (issue 34): a BaNCS account can be inactive (a paying parent with no active
// cases), and CFAT reactivates it before a schedule is issued; a DEO can sit beside a direct
// debit or standing order (two methods of payment, steps 15 and 20-23); a case can be
// undergoing a Segment 5 compliance opportunity (steps 12 and 20, and the AAC check).
constexpr const char* kV22 = R"sql(
ALTER TABLE ledger_accounts ADD COLUMN status TEXT NOT NULL DEFAULT 'active'
  CHECK (status = 'active' OR status = 'inactive');
ALTER TABLE ledger_accounts ADD COLUMN second_mop TEXT
  CHECK (second_mop IS NULL OR second_mop = 'DD' OR second_mop = 'SO');
ALTER TABLE cases ADD COLUMN compliance_opportunity INTEGER NOT NULL DEFAULT 0
  CHECK (compliance_opportunity = 0 OR compliance_opportunity = 1);
)sql";

// Casegroup search and its access log (issue 35): each client's name keys (folded for case and
// accents, one from each word on, engine/core/text.hpp) for a name search by prefix, and a
// record of every read of a casegroup and every search: who, when, what.
constexpr const char* kV23 = R"sql(
CREATE TABLE client_name_keys (
  key       TEXT NOT NULL,
  client_id INTEGER NOT NULL REFERENCES clients(id),
  PRIMARY KEY (key, client_id)
) WITHOUT ROWID;
CREATE INDEX letters_casegroup ON letters(casegroup_id) WHERE casegroup_id IS NOT NULL;
CREATE TABLE access_log (
  id           INTEGER PRIMARY KEY,
  at           TEXT NOT NULL,
  user_name    TEXT NOT NULL,
  action       TEXT NOT NULL CHECK (action = 'search' OR action = 'view' OR action = 'audit'
                                    OR action = 'access_log'),
  casegroup_id INTEGER REFERENCES casegroups(id),
  query        TEXT CHECK (query IS NULL OR json_valid(query))
);
CREATE INDEX access_log_casegroup ON access_log(casegroup_id, id) WHERE casegroup_id IS NOT NULL;
CREATE INDEX access_log_user ON access_log(user_name, at);
)sql";

// Team leaders' workload per caseworker (open, overdue and completed today, read through
// these two indexes rather than a scan), and each user's saved inbox views (issue 35).
constexpr const char* kV24 = R"sql(
CREATE INDEX work_items_assignee ON work_items(assignee, status, due_date)
  WHERE assignee IS NOT NULL;
CREATE INDEX work_items_completed_by ON work_items(completed_by, completed_at)
  WHERE completed_by IS NOT NULL;
CREATE TABLE saved_views (
  id         INTEGER PRIMARY KEY,
  user_id    INTEGER NOT NULL REFERENCES users(id),
  name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
  filter     TEXT NOT NULL CHECK (json_valid(filter)),
  updated_at TEXT NOT NULL,
  UNIQUE (user_id, name)
);
)sql";

// A transition exception allocated to a caseworker (issue 35): the work item that gives it
// to them. Who has it, and whether it is done, are that item's.
constexpr const char* kV25 = R"sql(
ALTER TABLE exceptions ADD COLUMN work_item_id INTEGER REFERENCES work_items(id);
)sql";

// A Data Warehouse import recorded as a run (script 'import dw'), with its progress: rows
// taken in so far, of how many, as of when (the rate is rows over the time since it began).
constexpr const char* kV26 = R"sql(
ALTER TABLE runs ADD COLUMN rows_read INTEGER;
ALTER TABLE runs ADD COLUMN rows_total INTEGER;
ALTER TABLE runs ADD COLUMN progress_at TEXT;
)sql";

// A casegroup's work items (the casegroup view lists them) and an SR's, each read from its own
// index range: with only the (status, inbox, team, ...) indexes these walked every open item
// of the inbox. The equality columns after the first let SQLite prefer these indexes when it
// has no statistics.
//
// And the name keys of each casegroup's parents, so that a name search reads one index: by
// client it had to look up each client's casegroups, thousands of scattered reads for a full
// name at a million casegroups (docs/performance.md, the search benchmark). Names and parents
// never change and nothing is deleted, so triggers on insert keep it whole, whichever comes
// first of a client's keys and the casegroup or case that names the client.
constexpr const char* kV27 = R"sql(
CREATE INDEX work_items_casegroup ON work_items(casegroup_id, status, inbox, team);
CREATE INDEX work_items_sr ON work_items(sr_id, status, inbox, team);
CREATE INDEX client_name_keys_client ON client_name_keys(client_id, key);  -- for the triggers
CREATE TABLE casegroup_name_keys (
  key          TEXT NOT NULL,
  casegroup_id INTEGER NOT NULL REFERENCES casegroups(id),
  PRIMARY KEY (key, casegroup_id)
) WITHOUT ROWID;
CREATE INDEX casegroup_name_keys_casegroup ON casegroup_name_keys(casegroup_id, key);
INSERT OR IGNORE INTO casegroup_name_keys(key, casegroup_id)
  SELECT k.key, g.id FROM casegroups g JOIN client_name_keys k ON k.client_id = g.paying_parent_id;
INSERT OR IGNORE INTO casegroup_name_keys(key, casegroup_id)
  SELECT k.key, c.casegroup_id FROM cases c
  JOIN client_name_keys k ON k.client_id = c.receiving_parent_id;
CREATE TRIGGER casegroup_name_keys_payer AFTER INSERT ON casegroups BEGIN
  INSERT OR IGNORE INTO casegroup_name_keys(key, casegroup_id)
    SELECT key, NEW.id FROM client_name_keys WHERE client_id = NEW.paying_parent_id;
END;
CREATE TRIGGER casegroup_name_keys_receiver AFTER INSERT ON cases BEGIN
  INSERT OR IGNORE INTO casegroup_name_keys(key, casegroup_id)
    SELECT key, NEW.casegroup_id FROM client_name_keys WHERE client_id = NEW.receiving_parent_id;
END;
CREATE TRIGGER casegroup_name_keys_client AFTER INSERT ON client_name_keys BEGIN
  INSERT OR IGNORE INTO casegroup_name_keys(key, casegroup_id)
    SELECT NEW.key, id FROM casegroups WHERE paying_parent_id = NEW.client_id
    UNION SELECT NEW.key, casegroup_id FROM cases WHERE receiving_parent_id = NEW.client_id;
END;
)sql";

// Why each change was made: the command, the route, or the procedure's script line
// (Database::set_why). Older rows have none.
constexpr const char* kV28 = R"sql(
ALTER TABLE audit ADD COLUMN why TEXT;
)sql";

// The audit as change sets (Database::flush_audit): who and when once for each run of
// changes one actor made at one instant, each change with only what it changed, and each
// why (a command, a route, a script line) named once. The view `audit` reads them as the
// table of that name read before: one row a change.
constexpr const char* kV29 = R"sql(
ALTER TABLE audit RENAME TO audit_v28;
DROP INDEX audit_entity;
CREATE TABLE audit_sets (
  id    INTEGER PRIMARY KEY,
  at    TEXT NOT NULL,
  actor TEXT NOT NULL
);
CREATE TABLE audit_whys (
  id  INTEGER PRIMARY KEY,
  why TEXT NOT NULL UNIQUE
);
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
)sql";

// Rewrites the whole-row audit of schema 28 as change sets, keeping each change's id (the
// casegroup trail's cursors stay good): an insert keeps its non-NULL columns, an update the
// columns it changed, a delete its non-NULL columns as they were. An update that changed
// nothing is dropped.
void audit_change_sets(Database& db) {
  using Json = nlohmann::ordered_json;
  const auto without_nulls = [](Json row) {
    for (auto it = row.begin(); it != row.end();) it = it->is_null() ? row.erase(it) : ++it;
    return row;
  };
  // A table keyed by more than one column names an updated row by its key (AuditedTable).
  std::map<std::string, std::set<std::string>, std::less<>> keys;
  for (const auto& t : audited_tables(db)) {
    if (t.key_columns.size() < 2) continue;
    for (const int c : t.key_columns) keys[t.name].insert(t.columns[static_cast<std::size_t>(c)]);
  }
  std::string set_at, set_actor;
  std::int64_t set_id = 0;
  auto rows = db.prepare(
      "SELECT id, at, actor, entity, entity_id, action, before, after, why, typeof(entity_id) "
      "FROM audit_v28 ORDER BY id");
  while (rows.step()) {
    const std::string at = rows.text(1), actor = rows.text(2), action = rows.text(5);
    if (set_id == 0 || at != set_at || actor != set_actor) {
      db.prepare("INSERT INTO audit_sets(at, actor) VALUES (?1, ?2)").bind_all(at, actor).run();
      set_id = db.last_insert_id();
      set_at = at;
      set_actor = actor;
    }
    std::optional<std::string> before, after;
    if (action == "update") {
      Json b = Json::parse(rows.text(6)), a = Json::parse(rows.text(7));
      Json changed_before = Json::object(), changed_after = Json::object();
      const auto key = keys.find(rows.text(3));
      bool changed = false;
      for (const auto& [column, value] : a.items()) {
        const bool same = b.contains(column) && b[column] == value;
        if (same && !(key != keys.end() && key->second.contains(column))) continue;
        changed = changed || !same;
        changed_before[column] = b.contains(column) ? b[column] : Json(nullptr);
        changed_after[column] = value;
      }
      if (!changed) continue;
      before = changed_before.dump();
      after = changed_after.dump();
    } else if (action == "insert") {
      after = without_nulls(Json::parse(rows.text(7))).dump();
    } else {
      before = without_nulls(Json::parse(rows.text(6))).dump();
    }
    std::optional<std::int64_t> why;
    if (const auto text = rows.optional_text(8)) {
      why = db.intern(Database::Interned::audit_whys, *text);
    }
    auto change = db.prepare(
        "INSERT INTO audit_changes(id, set_id, entity, entity_id, action, before, after, why_id) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    change.bind_all(rows.integer(0), set_id, rows.text(3));
    if (rows.is_null(4)) {
      change.bind_null(4);
    } else if (rows.text(9) == "integer") {
      change.bind(4, rows.integer(4));
    } else {
      change.bind(4, rows.text(4));  // a table named by text, as schedule_state is
    }
    change.bind(5, action).bind(6, before).bind(7, after).bind(8, why).run();
  }
  db.exec("DROP TABLE audit_v28");
}

// A history row names its script line by id (Database::intern): a waiting negotiation's
// forty commands come from a dozen lines, and the text was a third of its history. The
// time each command was recorded goes: nothing read it, and the instance and the audit say
// when things happened.
constexpr const char* kV30 = R"sql(
CREATE TABLE script_lines (
  id   INTEGER PRIMARY KEY,
  line TEXT NOT NULL UNIQUE
);
INSERT INTO script_lines(line) SELECT DISTINCT line FROM instance_history ORDER BY line;
ALTER TABLE instance_history ADD COLUMN line_id INTEGER REFERENCES script_lines(id);
UPDATE instance_history SET line_id = (SELECT id FROM script_lines s WHERE s.line = instance_history.line);
ALTER TABLE instance_history DROP COLUMN line;
ALTER TABLE instance_history DROP COLUMN recorded_at;
)sql";

// Each change set carries a hash chained to the set before (engine/store/audit_chain.hpp);
// the sets written before the chain get theirs, in order, as the migration runs.
constexpr const char* kV31 = R"sql(
ALTER TABLE audit_sets ADD COLUMN hash TEXT;
)sql";

// An instance pins the library modules it can require as they were when it started, as it
// pins its procedure's source: an edited module then changes no running instance's replay,
// only the instances started or upgraded after the edit. A library version is named by a
// hash of its files and their texts; each text is kept once, with the procedures' sources.
// Instances from before this version have none and read the library folders, as they did.
constexpr const char* kV32 = R"sql(
CREATE TABLE libraries (
  hash       TEXT PRIMARY KEY,
  created_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE library_modules (
  library_hash TEXT NOT NULL REFERENCES libraries(hash),
  file         TEXT NOT NULL,
  source_hash  TEXT NOT NULL REFERENCES procedure_sources(hash),
  PRIMARY KEY (library_hash, file)
) WITHOUT ROWID;
ALTER TABLE instances ADD COLUMN library_hash TEXT REFERENCES libraries(hash);
)sql";

// What an object is never changes once it exists: a casegroup's paying parent and CSA
// reference, a case's casegroup and receiving parent, an SR's type, casegroup, case, parent
// and creation time, a letter's template and recipient, an account's client and BaNCS
// number. Scripts read these as fixed properties, which histories of format 2 do not record
// (a replay reads them again: bindings/support.hpp, Replay::fixed), so the store refuses to
// change them. Histories written before (format 1, the column's default) recorded them.
constexpr const char* kV33 = R"sql(
ALTER TABLE instances ADD COLUMN history_format INTEGER NOT NULL DEFAULT 1;
CREATE TRIGGER casegroups_fixed BEFORE UPDATE OF csa_ref, paying_parent_id ON casegroups
WHEN NEW.csa_ref IS NOT OLD.csa_ref OR NEW.paying_parent_id IS NOT OLD.paying_parent_id
BEGIN SELECT RAISE(ABORT, 'a casegroup''s CSA reference and paying parent never change'); END;
CREATE TRIGGER cases_fixed BEFORE UPDATE OF casegroup_id, receiving_parent_id ON cases
WHEN NEW.casegroup_id IS NOT OLD.casegroup_id
  OR NEW.receiving_parent_id IS NOT OLD.receiving_parent_id
BEGIN SELECT RAISE(ABORT, 'a case''s casegroup and receiving parent never change'); END;
CREATE TRIGGER service_requests_fixed BEFORE UPDATE OF process, area, sub_area, casegroup_id,
  case_id, parent_id, created_at ON service_requests
WHEN NEW.process IS NOT OLD.process OR NEW.area IS NOT OLD.area
  OR NEW.sub_area IS NOT OLD.sub_area OR NEW.casegroup_id IS NOT OLD.casegroup_id
  OR NEW.case_id IS NOT OLD.case_id OR NEW.parent_id IS NOT OLD.parent_id
  OR NEW.created_at IS NOT OLD.created_at
BEGIN SELECT RAISE(ABORT, 'an SR''s type, casegroup, case, parent and creation time never change'); END;
CREATE TRIGGER letters_fixed BEFORE UPDATE OF template_code, recipient_id ON letters
WHEN NEW.template_code IS NOT OLD.template_code OR NEW.recipient_id IS NOT OLD.recipient_id
BEGIN SELECT RAISE(ABORT, 'a letter''s template and recipient never change'); END;
CREATE TRIGGER ledger_accounts_fixed BEFORE UPDATE OF client_id, bancs_number ON ledger_accounts
WHEN NEW.client_id IS NOT OLD.client_id OR NEW.bancs_number IS NOT OLD.bancs_number
BEGIN SELECT RAISE(ABORT, 'an account''s client and BaNCS number never change'); END;
)sql";

// A letter is kept as the version of its template and the values it was rendered with,
// and rendered again when read: the template's text was most of every letter, twice (the
// letter and its audited insert). Each version of a template is kept once, named by its
// SHA-256 (and numbered: a letter names its version by number, not by its 64-character
// hash), so an edited template changes no letter already sent. Letters queued before
// keep their body; a letter kept this way has an empty body. (Letters::queue keeps the
// version in the same transaction as the letter, and reading a letter whose version is
// missing is an error naming it.)
constexpr const char* kV34 = R"sql(
CREATE TABLE letter_templates (
  id   INTEGER PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  code TEXT NOT NULL,
  body TEXT NOT NULL
);
ALTER TABLE letters ADD COLUMN template_version INTEGER;  -- a letter_templates id
ALTER TABLE letters ADD COLUMN context TEXT;
CREATE TRIGGER letters_kept BEFORE UPDATE OF body, template_version, context ON letters
WHEN NEW.body IS NOT OLD.body OR NEW.template_version IS NOT OLD.template_version
  OR NEW.context IS NOT OLD.context
BEGIN SELECT RAISE(ABORT, 'a letter''s text never changes once it is queued'); END;
)sql";

// An SR's activity plan kept once for all the SRs that have it: the names of its steps, in
// order, are a row of step_plans (most SRs of a type share one), the SR names its plan, and
// only a step done or skipped is a row (sr_step_marks), written when it is. A plan kept a
// row for each step of each SR, pending or not, with a unique index on the name, and
// audited each insert: about 3 KB a transitioned casegroup, the largest part of its domain
// rows and their audit. Appending steps to an SR's plan names a new plan (the old one with
// the new names after it), so a plan never changes once kept. SRs given steps before keep
// them in sr_steps, and go on doing so (ServiceRequests reads and writes both shapes).
constexpr const char* kV35 = R"sql(
CREATE TABLE step_plans (
  id    INTEGER PRIMARY KEY,
  names TEXT NOT NULL UNIQUE  -- a JSON array of the steps' names, in order
);
CREATE TRIGGER step_plans_kept BEFORE UPDATE ON step_plans
BEGIN SELECT RAISE(ABORT, 'an activity plan never changes once it is kept'); END;
ALTER TABLE service_requests ADD COLUMN plan_id INTEGER;  -- a step_plans id
CREATE TABLE sr_step_marks (
  sr_id  INTEGER NOT NULL REFERENCES service_requests(id),
  seq    INTEGER NOT NULL CHECK (seq >= 1),  -- the step's place in the plan, from 1
  status TEXT NOT NULL CHECK (status = 'done' OR status = 'skipped'),
  at     TEXT NOT NULL,
  PRIMARY KEY (sr_id, seq)
) WITHOUT ROWID;
)sql";

// The audit names what it changed by number (schema 36): a change's table and columns are a
// shape, kept once in audit_shapes, and its action is 1 insert, 2 update or 3 delete. An
// inserted or deleted row is a JSON list of its values in its shape's columns' order, not an
// object naming each column: the names were a third of an insert, and the table name and
// action another sixth of a change with its index. Changes from before keep their objects
// (their shapes list no columns). The `audit` view reads both as before, each row an object
// of its columns that are not NULL. The table is copied once to drop its text columns.
constexpr const char* kV36 = R"sql(
CREATE TABLE audit_shapes (
  id      INTEGER PRIMARY KEY,
  entity  TEXT NOT NULL,
  columns TEXT NOT NULL,  -- a JSON list of the table's columns, in order; [] for old changes
  UNIQUE (entity, columns)
);
INSERT INTO audit_shapes(entity, columns)
  SELECT DISTINCT entity, '[]' FROM audit_changes ORDER BY entity;
CREATE TABLE audit_changes_36 (
  id        INTEGER PRIMARY KEY,
  set_id    INTEGER NOT NULL REFERENCES audit_sets(id),
  shape_id  INTEGER NOT NULL REFERENCES audit_shapes(id),
  entity_id INTEGER,
  action    INTEGER NOT NULL CHECK (action = 1 OR action = 2 OR action = 3),
  before    TEXT,
  after     TEXT,
  why_id    INTEGER REFERENCES audit_whys(id)
);
INSERT INTO audit_changes_36(id, set_id, shape_id, entity_id, action, before, after, why_id)
  SELECT c.id, c.set_id, sh.id, c.entity_id,
         CASE c.action WHEN 'insert' THEN 1 WHEN 'update' THEN 2 ELSE 3 END,
         c.before, c.after, c.why_id
  FROM audit_changes c JOIN audit_shapes sh ON sh.entity = c.entity ORDER BY c.id;
DROP VIEW audit;
DROP TABLE audit_changes;
ALTER TABLE audit_changes_36 RENAME TO audit_changes;
CREATE INDEX audit_changes_entity ON audit_changes(shape_id, entity_id);
CREATE VIEW audit(id, at, actor, entity, entity_id, action, before, after, why) AS
  SELECT c.id, s.at, s.actor, sh.entity, c.entity_id,
         CASE c.action WHEN 1 THEN 'insert' WHEN 2 THEN 'update' WHEN 3 THEN 'delete' END,
         CASE WHEN json_type(c.before) = 'array' THEN
           (SELECT json_group_object(k.value, v.value) FROM json_each(c.before) v
            JOIN json_each(sh.columns) k ON k.key = v.key WHERE v.type <> 'null')
         ELSE c.before END,
         CASE WHEN json_type(c.after) = 'array' THEN
           (SELECT json_group_object(k.value, v.value) FROM json_each(c.after) v
            JOIN json_each(sh.columns) k ON k.key = v.key WHERE v.type <> 'null')
         ELSE c.after END,
         w.why
  FROM audit_changes c JOIN audit_sets s ON s.id = c.set_id
  JOIN audit_shapes sh ON sh.id = c.shape_id
  LEFT JOIN audit_whys w ON w.id = c.why_id;
)sql";

// An instance's history is a row for each activation, its commands compressed together
// (engine/store/history_blob.hpp), not a row for each command: a third of the bytes, and an
// ended instance's history deleted as a few rows, not a thousand b-tree entries. The
// result of the wait an activation ends on is its own column, filled when the wait ends
// (by InstanceStore, or by these triggers for waits on a payment, a letter or an SR).
// A rowid table, not one keyed by instance and first command: rows of a few KiB stay in
// their leaf page in a table's b-tree, and would spill into overflow pages in an index's.
// Histories from before become one row an instance.
constexpr const char* kV37 = R"sql(
CREATE TABLE instance_activations (
  id          INTEGER PRIMARY KEY,
  instance_id INTEGER NOT NULL REFERENCES instances(id),
  first_seq   INTEGER NOT NULL,
  last_seq    INTEGER NOT NULL,
  commands    BLOB NOT NULL,
  wait_result TEXT,  -- the result of the last command, a wait, once the wait has ended
  resolved_at TEXT,
  UNIQUE (instance_id, first_seq)
);
DROP TRIGGER IF EXISTS payments_wake_waiters;
CREATE TRIGGER payments_wake_waiters AFTER INSERT ON payments
BEGIN
  UPDATE instance_activations
     SET wait_result = json_array(json_object('kind', 'payment', 'payment',
                                              json_object('id', NEW.id, 'amount', NEW.amount,
                                                          'date', NEW.received_on))),
         resolved_at = casekit_now()
   WHERE (instance_id, last_seq) IN (SELECT id, wait_seq FROM instances
                                      WHERE status = 'waiting' AND wait_kind = 'payment'
                                        AND wait_ref = NEW.account_id);
  UPDATE instances
     SET status = 'runnable', wait_kind = NULL, wait_seq = NULL, wake_at = NULL,
         wait_ref = NULL, updated_at = casekit_now()
   WHERE status = 'waiting' AND wait_kind = 'payment' AND wait_ref = NEW.account_id;
END;
DROP TRIGGER IF EXISTS letters_wake_waiters;
CREATE TRIGGER letters_wake_waiters AFTER UPDATE OF status ON letters
WHEN OLD.status = 'queued' AND NEW.status <> 'queued'
BEGIN
  UPDATE instance_activations
     SET wait_result = json_array(json_object('kind', 'letter', 'letter',
                                              json_object('id', NEW.id, 'status', NEW.status))),
         resolved_at = casekit_now()
   WHERE (instance_id, last_seq) IN (SELECT id, wait_seq FROM instances
                                      WHERE status = 'waiting' AND wait_kind = 'letter'
                                        AND wait_ref = NEW.id);
  UPDATE instances
     SET status = 'runnable', wait_kind = NULL, wait_seq = NULL, wake_at = NULL,
         wait_ref = NULL, updated_at = casekit_now()
   WHERE status = 'waiting' AND wait_kind = 'letter' AND wait_ref = NEW.id;
END;
DROP TRIGGER IF EXISTS service_requests_wake_waiters;
CREATE TRIGGER service_requests_wake_waiters AFTER UPDATE OF status ON service_requests
WHEN OLD.status <> 'Closed' AND NEW.status = 'Closed'
BEGIN
  UPDATE instance_activations
     SET wait_result = json_array(json_object('kind', 'sr', 'sr',
                                              json_object('id', NEW.id, 'status', NEW.status,
                                                          'sub_status', NEW.sub_status,
                                                          'resolution_code',
                                                          NEW.resolution_code))),
         resolved_at = casekit_now()
   WHERE (instance_id, last_seq) IN (SELECT id, wait_seq FROM instances
                                      WHERE status = 'waiting' AND wait_kind = 'sr'
                                        AND wait_ref = NEW.id);
  UPDATE instances
     SET status = 'runnable', wait_kind = NULL, wait_seq = NULL, wake_at = NULL,
         wait_ref = NULL, updated_at = casekit_now()
   WHERE status = 'waiting' AND wait_kind = 'sr' AND wait_ref = NEW.id;
END;
)sql";

void history_by_activation(Database& db) {
  std::vector<std::int64_t> instances;
  {
    auto st = db.prepare("SELECT DISTINCT instance_id FROM instance_history ORDER BY 1");
    while (st.step()) instances.push_back(st.integer(0));
  }
  for (const std::int64_t id : instances) {
    auto st = db.prepare(
        "SELECT seq, command, args, result, coalesce(line_id, 0), resolved_at "
        "FROM instance_history WHERE instance_id = ?1 ORDER BY seq");
    st.bind(1, id);
    std::vector<StoredCommand> commands;
    std::int64_t first = 0, last = 0;
    std::optional<std::string> resolved_at;
    const auto keep = [&] {
      db.prepare(
            "INSERT INTO instance_activations(instance_id, first_seq, last_seq, commands, "
            "resolved_at) VALUES (?1, ?2, ?3, ?4, ?5)")
          .bind_all(id, first, last, Blob{encode_commands(commands)}, resolved_at)
          .run();
      commands.clear();
    };
    while (st.step()) {
      // A row's commands are numbered one after another from its first.
      if (!commands.empty() && st.integer(0) != last + 1) keep();
      if (commands.empty()) first = st.integer(0);
      last = st.integer(0);
      resolved_at = st.optional_text(5);
      commands.push_back({st.text(1), st.integer(4), st.text(2), st.optional_text(3)});
    }
    if (!commands.empty()) keep();
  }
  db.exec("DROP TABLE instance_history");
}

// The admin role (who may list a casegroup's readers), and each client's name keys.
void casegroup_search(Database& db) {
  allow_value(db, "users", "role", "senior_manager", "admin");
  std::vector<std::pair<std::int64_t, std::string>> clients;
  {
    auto st = db.prepare("SELECT id, name FROM clients ORDER BY id");
    while (st.step()) clients.emplace_back(st.integer(0), st.text(1));
  }
  for (const auto& [id, name] : clients) {
    for (const auto& key : name_keys(name)) {
      db.prepare("INSERT OR IGNORE INTO client_name_keys(key, client_id) VALUES (?1, ?2)")
          .bind_all(key, id)
          .run();
    }
  }
}

// Accounts (engine/domain/accounts.hpp): a user's team and whether they are disabled, on the
// audited users table; their Argon2id password hash and failed logins, and their login
// sessions (only a hash of each token), in tables the audit leaves out so that no secret's
// hash is copied into it.
constexpr const char* kV14 = R"sql(
ALTER TABLE users ADD COLUMN team TEXT;
ALTER TABLE users ADD COLUMN disabled_at TEXT;
ALTER TABLE users ADD COLUMN password_changed_at TEXT;

CREATE TABLE user_credentials (
  user_id       INTEGER PRIMARY KEY REFERENCES users(id),
  password_hash TEXT NOT NULL,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until  TEXT
);

CREATE TABLE sessions (
  id          INTEGER PRIMARY KEY,
  user_id     INTEGER NOT NULL REFERENCES users(id),
  token_hash  TEXT NOT NULL UNIQUE,
  csrf_hash   TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  expires_at  TEXT NOT NULL,
  revoked_at  TEXT
);
CREATE INDEX sessions_user ON sessions(user_id) WHERE revoked_at IS NULL;
)sql";

// Work items over HTTP (issue 33): each item's team and casegroup, taken from its SR when it
// is made, so that an inbox is listed for a user's team by an index rather than a join;
// the listing's index (undated items last); sessions that end when idle; and failed logins
// counted per client address (a throttle that no name can be used to dodge).
constexpr const char* kV15 = R"sql(
ALTER TABLE work_items ADD COLUMN team TEXT;
ALTER TABLE work_items ADD COLUMN casegroup_id INTEGER REFERENCES casegroups(id);
UPDATE work_items SET
  team = (SELECT owner_team FROM service_requests s WHERE s.id = work_items.sr_id),
  casegroup_id = (SELECT casegroup_id FROM service_requests s WHERE s.id = work_items.sr_id)
 WHERE sr_id IS NOT NULL;
UPDATE work_items SET team = NULL WHERE team = '';
CREATE INDEX work_items_listing ON work_items(status, inbox, IFNULL(due_date, '9999-12-31'), id);
CREATE INDEX work_items_team ON work_items(status, inbox, team, IFNULL(due_date, '9999-12-31'), id);

ALTER TABLE sessions ADD COLUMN last_seen_at TEXT;
UPDATE sessions SET last_seen_at = created_at;
CREATE INDEX sessions_expiry ON sessions(expires_at);

CREATE TABLE login_throttle (
  address      TEXT PRIMARY KEY,
  failures     INTEGER NOT NULL,
  window_start TEXT NOT NULL
);
)sql";

// How many work items each (status, inbox, team) holds, kept by triggers in the same
// transaction as the change (issue 33): an inbox's total is then one row, not a count over
// every item of the user's team, and badges can be polled for nothing. A NULL team is ''
// here, so that the key is a plain primary key.
constexpr const char* kV16 = R"sql(
CREATE TABLE work_item_counts (
  status TEXT NOT NULL,
  inbox  TEXT NOT NULL,
  team   TEXT NOT NULL,
  n      INTEGER NOT NULL CHECK (n >= 0),
  PRIMARY KEY (status, inbox, team)
) WITHOUT ROWID;
INSERT INTO work_item_counts (status, inbox, team, n)
  SELECT status, inbox, IFNULL(team, ''), count(*) FROM work_items GROUP BY 1, 2, 3;

CREATE TRIGGER work_item_counts_insert AFTER INSERT ON work_items BEGIN
  INSERT INTO work_item_counts (status, inbox, team, n)
    VALUES (NEW.status, NEW.inbox, IFNULL(NEW.team, ''), 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER work_item_counts_delete AFTER DELETE ON work_items BEGIN
  UPDATE work_item_counts SET n = n - 1
    WHERE status = OLD.status AND inbox = OLD.inbox AND team = IFNULL(OLD.team, '');
END;
CREATE TRIGGER work_item_counts_update AFTER UPDATE OF status, inbox, team ON work_items
  WHEN OLD.status IS NOT NEW.status OR OLD.inbox IS NOT NEW.inbox OR OLD.team IS NOT NEW.team
BEGIN
  UPDATE work_item_counts SET n = n - 1
    WHERE status = OLD.status AND inbox = OLD.inbox AND team = IFNULL(OLD.team, '');
  INSERT INTO work_item_counts (status, inbox, team, n)
    VALUES (NEW.status, NEW.inbox, IFNULL(NEW.team, ''), 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
)sql";

// Money counted once (issue 34): a schedule spreads the balance left after the payments
// recorded before it, so only payments recorded after it count towards its collections.
// The last payment id at issue marks the line; a card payment taken on the call, the same
// day, is then neither expected again nor taken for the first collection.
constexpr const char* kV17 = R"sql(
ALTER TABLE payment_schedules ADD COLUMN payments_before INTEGER;
)sql";

// A letter sent on a sign-off (CMEL9271) names it, and a sign-off sends its letter once to
// each recipient it names: without this the same sign-off could send the text again, to the
// same person, as often as a script asked. Letters sent before keep no sign-off.
constexpr const char* kV38 = R"sql(
ALTER TABLE letters ADD COLUMN signed_off INTEGER REFERENCES work_items(id);
CREATE UNIQUE INDEX letters_signed_off ON letters(signed_off, recipient_id)
  WHERE signed_off IS NOT NULL;
CREATE TRIGGER letters_signed_off_kept BEFORE UPDATE OF signed_off ON letters
WHEN NEW.signed_off IS NOT OLD.signed_off
BEGIN SELECT RAISE(ABORT, 'a letter''s sign-off never changes once it is queued'); END;
)sql";

// A work item that ends with its SR (task.await's ends_with_sr): once the SR closes, by a
// person, a script or another procedure, nobody needs to do it. The item is cancelled, and
// the instance waiting on it is answered {kind = "cancelled", cancelled = true} and runs on,
// so that an arrears negotiation whose SR a renegotiation closed stops at once instead of
// leaving its item in a caseworker's inbox until someone completed it for nothing.
constexpr const char* kV39 = R"sql(
ALTER TABLE work_items ADD COLUMN ends_with_sr INTEGER NOT NULL DEFAULT 0
  CHECK (ends_with_sr = 0 OR ends_with_sr = 1);
CREATE TRIGGER service_requests_end_items AFTER UPDATE OF status ON service_requests
WHEN OLD.status <> 'Closed' AND NEW.status = 'Closed'
BEGIN
  UPDATE instance_activations
     SET wait_result = json_array(json_object('kind', 'cancelled', 'cancelled', json('true'))),
         resolved_at = casekit_now()
   WHERE (instance_id, last_seq) IN (
     SELECT i.id, i.wait_seq FROM work_items w JOIN instances i ON i.id = w.instance_id
      WHERE w.sr_id = NEW.id AND w.ends_with_sr = 1 AND w.status = 'open'
        AND i.status = 'waiting' AND i.wait_kind = 'task' AND i.wait_ref = w.id);
  UPDATE instances
     SET status = 'runnable', wait_kind = NULL, wait_seq = NULL, wake_at = NULL,
         wait_ref = NULL, updated_at = casekit_now()
   WHERE status = 'waiting' AND wait_kind = 'task'
     AND wait_ref IN (SELECT id FROM work_items
                       WHERE sr_id = NEW.id AND ends_with_sr = 1 AND status = 'open');
  UPDATE work_items SET status = 'cancelled'
   WHERE sr_id = NEW.id AND ends_with_sr = 1 AND status = 'open';
END;
)sql";

// Each metrics token made, and when it was replaced or revoked, so that the audit says who
// gave a scraper access and when it ended. The token's hash stays in settings, which is not
// audited (a secret's hash has no place in a copied history). A token made before has no row.
constexpr const char* kV40 = R"sql(
CREATE TABLE metrics_tokens (
  id         INTEGER PRIMARY KEY,
  issued_at  TEXT NOT NULL,
  revoked_at TEXT
);
)sql";

// Triggers that find nothing to do cost nothing (issue 18). The triggers that wake waiters
// and end an SR's items ran their updates on every SR closed, letter sent and payment
// recorded, and each update's `IN (SELECT ...)` built a temporary b-tree, a pager of its own,
// even when nobody waited: closing an SR took 49 microseconds, a fifth of it SQLite opening
// and closing temporary storage. Each now first looks, through the index its updates use,
// for a waiter or an item to end, and does what it did before only when there is one. The
// name-key trigger's UNION (a temporary b-tree to drop duplicates) becomes UNION ALL: its
// INSERT OR IGNORE already keeps a key once.
constexpr const char* kV41 = R"sql(
DROP TRIGGER payments_wake_waiters;
CREATE TRIGGER payments_wake_waiters AFTER INSERT ON payments
WHEN EXISTS (SELECT 1 FROM instances WHERE status = 'waiting' AND wait_kind = 'payment'
                                        AND wait_ref = NEW.account_id)
BEGIN
  UPDATE instance_activations
     SET wait_result = json_array(json_object('kind', 'payment', 'payment',
                                              json_object('id', NEW.id, 'amount', NEW.amount,
                                                          'date', NEW.received_on))),
         resolved_at = casekit_now()
   WHERE (instance_id, last_seq) IN (SELECT id, wait_seq FROM instances
                                      WHERE status = 'waiting' AND wait_kind = 'payment'
                                        AND wait_ref = NEW.account_id);
  UPDATE instances
     SET status = 'runnable', wait_kind = NULL, wait_seq = NULL, wake_at = NULL,
         wait_ref = NULL, updated_at = casekit_now()
   WHERE status = 'waiting' AND wait_kind = 'payment' AND wait_ref = NEW.account_id;
END;
DROP TRIGGER letters_wake_waiters;
CREATE TRIGGER letters_wake_waiters AFTER UPDATE OF status ON letters
WHEN OLD.status = 'queued' AND NEW.status <> 'queued'
  AND EXISTS (SELECT 1 FROM instances WHERE status = 'waiting' AND wait_kind = 'letter'
                                        AND wait_ref = NEW.id)
BEGIN
  UPDATE instance_activations
     SET wait_result = json_array(json_object('kind', 'letter', 'letter',
                                              json_object('id', NEW.id, 'status', NEW.status))),
         resolved_at = casekit_now()
   WHERE (instance_id, last_seq) IN (SELECT id, wait_seq FROM instances
                                      WHERE status = 'waiting' AND wait_kind = 'letter'
                                        AND wait_ref = NEW.id);
  UPDATE instances
     SET status = 'runnable', wait_kind = NULL, wait_seq = NULL, wake_at = NULL,
         wait_ref = NULL, updated_at = casekit_now()
   WHERE status = 'waiting' AND wait_kind = 'letter' AND wait_ref = NEW.id;
END;
DROP TRIGGER service_requests_wake_waiters;
CREATE TRIGGER service_requests_wake_waiters AFTER UPDATE OF status ON service_requests
WHEN OLD.status <> 'Closed' AND NEW.status = 'Closed'
  AND EXISTS (SELECT 1 FROM instances WHERE status = 'waiting' AND wait_kind = 'sr'
                                        AND wait_ref = NEW.id)
BEGIN
  UPDATE instance_activations
     SET wait_result = json_array(json_object('kind', 'sr', 'sr',
                                              json_object('id', NEW.id, 'status', NEW.status,
                                                          'sub_status', NEW.sub_status,
                                                          'resolution_code',
                                                          NEW.resolution_code))),
         resolved_at = casekit_now()
   WHERE (instance_id, last_seq) IN (SELECT id, wait_seq FROM instances
                                      WHERE status = 'waiting' AND wait_kind = 'sr'
                                        AND wait_ref = NEW.id);
  UPDATE instances
     SET status = 'runnable', wait_kind = NULL, wait_seq = NULL, wake_at = NULL,
         wait_ref = NULL, updated_at = casekit_now()
   WHERE status = 'waiting' AND wait_kind = 'sr' AND wait_ref = NEW.id;
END;
DROP TRIGGER service_requests_end_items;
CREATE TRIGGER service_requests_end_items AFTER UPDATE OF status ON service_requests
WHEN OLD.status <> 'Closed' AND NEW.status = 'Closed'
  AND EXISTS (SELECT 1 FROM work_items WHERE sr_id = NEW.id AND status = 'open'
                                         AND ends_with_sr = 1)
BEGIN
  UPDATE instance_activations
     SET wait_result = json_array(json_object('kind', 'cancelled', 'cancelled', json('true'))),
         resolved_at = casekit_now()
   WHERE (instance_id, last_seq) IN (
     SELECT i.id, i.wait_seq FROM work_items w JOIN instances i ON i.id = w.instance_id
      WHERE w.sr_id = NEW.id AND w.ends_with_sr = 1 AND w.status = 'open'
        AND i.status = 'waiting' AND i.wait_kind = 'task' AND i.wait_ref = w.id);
  UPDATE instances
     SET status = 'runnable', wait_kind = NULL, wait_seq = NULL, wake_at = NULL,
         wait_ref = NULL, updated_at = casekit_now()
   WHERE status = 'waiting' AND wait_kind = 'task'
     AND wait_ref IN (SELECT id FROM work_items
                       WHERE sr_id = NEW.id AND ends_with_sr = 1 AND status = 'open');
  UPDATE work_items SET status = 'cancelled'
   WHERE sr_id = NEW.id AND ends_with_sr = 1 AND status = 'open';
END;
DROP TRIGGER casegroup_name_keys_client;
CREATE TRIGGER casegroup_name_keys_client AFTER INSERT ON client_name_keys BEGIN
  INSERT OR IGNORE INTO casegroup_name_keys(key, casegroup_id)
    SELECT NEW.key, id FROM casegroups WHERE paying_parent_id = NEW.client_id
    UNION ALL SELECT NEW.key, casegroup_id FROM cases WHERE receiving_parent_id = NEW.client_id;
END;
)sql";

// A direct payment (issue 34): money the paying parent paid one receiving parent outside the
// service, confirmed or evidenced, recorded so that what is owed is right. Its case says
// whose dues it paid; it is never general credit.
constexpr const char* kV18 = R"sql(
ALTER TABLE payments ADD COLUMN case_id INTEGER REFERENCES cases(id);
)sql";

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> all = {
      {1, "domain model", kV1},
      {2, "schedules and runs", kV2},
      {3, "durable procedures", kV3},
      {4, "phase-2 transition", kV4},
      {5, "write-off reversal", kV5},
      {6, "CHECK constraints as comparisons", "", checks_as_comparisons},
      {7, "waits on letters", kV7, letter_waits},
      {8, "payment allocation", kV8},
      {9, "approvals barred to who prepared them", kV9},
      {10, "waits on SRs", kV10, sr_waits},
      {11, "CIS interest flags", kV11},
      {12, "employer interface flag", "", employer_interface_flag},
      {13, "waits on signals", "", signal_waits},
      {14, "accounts and sessions", kV14},
      {15, "work item teams, idle sessions, login throttle", kV15},
      {16, "work item counts", kV16},
      {17, "payments before a schedule", kV17},
      {18, "direct payments", kV18},
      {19, "enforcement monitoring flag", "", enforcement_monitoring_flag},
      {20, "senior managers sign off letters", kV20, senior_manager_role},
      {21, "ongoing maintenance liabilities", kV21},
      {22, "inactive accounts, two methods of payment, compliance opportunities", kV22},
      {23, "casegroup search, access log, admins", kV23, casegroup_search},
      {24, "workload indexes, saved views", kV24},
      {25, "transition exceptions allocated", kV25},
      {26, "import progress on runs", kV26},
      {27, "work items by casegroup and SR, name keys by casegroup", kV27},
      {28, "why each audited change was made", kV28},
      {29, "the audit as change sets", kV29, audit_change_sets},
      {30, "history lines named once", kV30},
      {31, "the audit's hash chain", kV31, chain_audit},
      {32, "instances pin their library modules", kV32},
      {33, "fixed properties: not recorded, never changed", kV33},
      {34, "letters kept as their template's version and values", kV34},
      {35, "activity plans kept once, only steps taken stored", kV35},
      {36, "the audit names tables, columns and actions by number", kV36},
      {37, "a history row for each activation, compressed", kV37, history_by_activation},
      {38, "a sign-off sends its letter once to each recipient", kV38},
      {39, "work items that end with their SR", kV39},
      {40, "metrics tokens audited", kV40},
      {41, "triggers that find nothing to do cost nothing", kV41},
  };
  return all;
}

// Tables whose changes are not audited: the audit itself, engine settings, and the durable
// runtime's own bookkeeping (an instance's history is already an append-only record of what
// it did, and auditing it would double the cost of every command; dw_rows only says which
// extract rows were seen, and what they became is audited where it was written), and the
// secrets of accounts (a password or session token hash has no place in a copied history:
// the change that matters, a password set, is audited on users as password_changed_at), and
// work_item_counts, which triggers derive from work_items; client_name_keys and
// casegroup_name_keys, derived from clients' names; and access_log, itself the record of who read
// what.
bool audited(const std::string& table) {
  static const std::set<std::string, std::less<>> kUnaudited = {
      "audit_sets",     "audit_changes",     "audit_whys",       "audit_shapes",
      "settings",       "procedure_sources", "instances",        "instance_history",
      "script_lines",   "dw_rows",           "user_credentials", "sessions",
      "login_throttle", "work_item_counts",  "client_name_keys", "casegroup_name_keys",
      "access_log",     "libraries",         "library_modules",  "instance_activations"};
  return !kUnaudited.contains(table) && table.rfind("sqlite_", 0) != 0;
}

// Databases from before schema version 5 audited through triggers; the engine now captures
// changes itself (Database::audit), so the triggers go.
void drop_audit_triggers(Database& db) {
  std::vector<std::string> old;
  {
    auto st = db.prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'trigger' AND name LIKE 'audit\\_%' "
        "ESCAPE '\\'");
    while (st.step()) old.push_back(st.text(0));
  }
  if (old.empty()) return;
  Transaction tx(db);
  for (const auto& name : old) db.exec("DROP TRIGGER \"" + name + "\"");
  tx.commit();
}

}  // namespace

// The audited tables and their columns, read from the live schema, so a migration that adds
// a column is audited without anyone remembering to list it.
std::vector<AuditedTable> audited_tables(Database& db) {
  std::vector<AuditedTable> out;
  std::vector<std::string> names;
  {
    auto st = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name");
    while (st.step()) names.push_back(st.text(0));
  }
  for (const auto& name : names) {
    if (!audited(name)) continue;
    AuditedTable t;
    t.name = name;
    auto st = db.prepare("SELECT name, pk FROM pragma_table_info(?1) ORDER BY cid");
    st.bind(1, name);
    std::vector<std::pair<std::int64_t, int>> key;  // (place in the primary key, column)
    while (st.step()) {
      if (st.integer(1) > 0) key.emplace_back(st.integer(1), static_cast<int>(t.columns.size()));
      t.columns.push_back(st.text(0));
    }
    std::sort(key.begin(), key.end());
    for (const auto& k : key) t.key_columns.push_back(k.second);
    t.id_column = key.empty() ? 0 : key.front().second;
    out.push_back(std::move(t));
  }
  return out;
}

int latest_schema_version() {
  return migrations().back().version;
}

int schema_version(Database& db) {
  auto st = db.prepare("PRAGMA user_version");
  st.step();
  return static_cast<int>(st.integer(0));
}

void migrate(Database& db, int target) {
  if (target == 0) target = latest_schema_version();
  const int current = schema_version(db);
  if (current > latest_schema_version()) {
    throw Error(ErrorCode::storage,
                db.path().string() + ": database schema version " + std::to_string(current) +
                    " is newer than this casekit understands (" +
                    std::to_string(latest_schema_version()) + "); upgrade casekit");
  }
  // Migrations run with the audit unhooked, as they do on any database just opened: they
  // reshape tables, the audit's own among them, and its rows must not be written in a shape
  // the table no longer has or does not have yet.
  db.audit({});
  for (const auto& m : migrations()) {
    if (m.version <= current || m.version > target) continue;
    Transaction tx(db);
    db.exec(m.sql);
    if (m.apply) m.apply(db);
    db.exec("PRAGMA user_version = " + std::to_string(m.version));
    tx.commit();
  }
  // This casekit writes audit rows of the latest shape, so only a database at the latest
  // version is hooked; one left at an older version (tests that migrate part way) keeps the
  // audit that version had.
  if (target < latest_schema_version()) return;
  drop_audit_triggers(db);
  db.audit(audited_tables(db));
}

}  // namespace casekit
