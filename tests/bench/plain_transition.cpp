#include "tests/bench/plain_transition.hpp"

#include <string>
#include <vector>

#include "engine/core/money.hpp"
#include "engine/core/text.hpp"
#include "engine/durable/instance_store.hpp"
#include "engine/transition/dw_extract.hpp"

namespace casekit::bench {
namespace {

using nlohmann::json;
using Row = nlohmann::ordered_json;  // an extract row as parse_dw_row keeps it

constexpr const char* kStates[] = {"active", "suspended", "deferred"};
constexpr const char* kSteps[] = {"Create contact details for the clients",
                                  "Verify applicant and input interest flags on CIS",
                                  "Verify other party and input interest flags on CIS",
                                  "Validate method of payment",
                                  "Create new casegroup / link to existing casegroup",
                                  "Establish maintenance region",
                                  "Retrieve paying parent benefit details from CIS"};
constexpr const char* kNegotiationSteps[] = {
    "Check address", "Search CRA", "Determine reason for missed payment", "Call paying parent",
    "Negotiate new arrears payment schedule"};
constexpr const char* kNegotiateFields =
    "[\"amount_per_period\",\"frequency\",\"first_collection_date\",\"lump_sum\","
    "\"schedule_in_place\",\"accept_beyond_24_months\",\"decision_note\",\"net_income\","
    "\"ogm\",\"collection_fee\",\"max_ndr\"]";

Pence of(const DwArrears& a, int state) {
  return state == 0 ? a.active : state == 1 ? a.suspended : a.deferred;
}

std::string breakdown(const DwArrears& a) {
  std::string out;
  for (int s = 0; s < 3; ++s) {
    if (of(a, s) == 0) continue;
    if (!out.empty()) out += ", ";
    out += money::format(of(a, s)) + " " + kStates[s];
  }
  return out;
}

class Writer {
 public:
  explicit Writer(Engine& e) : e_(e), db_(e.db), now_(format_instant(e.clock.now())) {}

  std::optional<Id> find_client(const std::string& nino) {
    auto st = db_.prepare("SELECT id FROM clients WHERE nino = ?1");
    st.bind(1, nino);
    if (st.step()) return st.integer(0);
    return std::nullopt;
  }

  Id client(const Row& person, bool paying) {
    if (auto id = find_client(person["nino"])) return *id;
    std::optional<std::string> employment, benefit, dob;
    if (paying && person["employment_status"].is_string()) employment = person["employment_status"];
    if (paying && person["benefit"].is_string()) benefit = person["benefit"];
    if (person.contains("dob") && person["dob"].is_string()) dob = person["dob"];
    db_.prepare(
           "INSERT INTO clients(nino, name, dob, employment_status, benefit_status, created_at) "
           "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .bind_all(person["nino"].get<std::string>(), person["name"].get<std::string>(), dob,
                  employment, benefit, now_)
        .run();
    const Id id = db_.last_insert_id();
    // The keys a name search reads, as Casegroups::create_client writes them.
    for (const auto& key : name_keys(person["name"].get<std::string>())) {
      db_.prepare("INSERT OR IGNORE INTO client_name_keys(key, client_id) VALUES (?1, ?2)")
          .bind_all(key, id)
          .run();
    }
    const Row& a = person["address"];
    const auto opt = [&](const char* k) {
      return a.contains(k) && a[k].is_string() ? std::optional(a[k].get<std::string>())
                                               : std::nullopt;
    };
    db_.prepare(
           "INSERT INTO addresses(client_id, line1, line2, town, postcode, status, created_at) "
           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        .bind_all(id, a["line1"].get<std::string>(), opt("line2"), opt("town"), opt("postcode"),
                  a["status"].get<std::string>(), now_)
        .run();
    return id;
  }

  Id sr(const char* area, const char* sub_area, const char* status, Id casegroup,
        std::optional<Id> case_id, const std::string& reason, const char* owner) {
    db_.prepare(
           "INSERT INTO service_requests(process, area, sub_area, status, reason, casegroup_id, "
           "case_id, owner_team, created_at, updated_at) "
           "VALUES ('Arrears', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)")
        .bind_all(area, sub_area, status, reason, casegroup, case_id, owner, now_)
        .run();
    return db_.last_insert_id();
  }

  void work_item(const char* inbox, const char* kind, std::optional<Id> sr,
                 const std::string& title, const char* outcomes,
                 const char* fields = "[\"note\"]") {
    db_.prepare(
           "INSERT INTO work_items(inbox, kind, sr_id, title, outcomes, fields, required_fields, "
           "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, '{}', ?7)")
        .bind_all(inbox, kind, sr, title, outcomes, fields, now_)
        .run();
  }

  void note(Id sr, const std::string& body) {
    db_.prepare("INSERT INTO sr_notes(sr_id, author, body, created_at) VALUES (?1, ?2, ?3, ?4)")
        .bind_all(sr, "bench", body, now_)
        .run();
  }

  void set_sr_status(Id sr, const char* status, std::optional<std::string> sub_status,
                     std::optional<std::string> resolution = std::nullopt) {
    db_.prepare(
           "UPDATE service_requests SET status = ?1, sub_status = ?2, resolution_code = ?3, "
           "updated_at = ?4, closed_at = CASE WHEN ?1 = 'Closed' THEN ?4 END WHERE id = ?5")
        .bind_all(status, sub_status, resolution, now_, sr)
        .run();
  }

  void sr_field(Id sr, const char* name, const std::string& value) {
    db_.prepare("INSERT INTO sr_fields(sr_id, name, value) VALUES (?1, ?2, ?3)")
        .bind_all(sr, name, value)
        .run();
  }

  // An activity plan as ServiceRequests keeps one (schema 35): its names once, the SR naming
  // it, and a row for each step taken.
  void plan(Id sr, const char* const* names, std::size_t count) {
    const std::string text = json(std::vector<std::string>(names, names + count)).dump();
    auto st = db_.prepare("SELECT id FROM step_plans WHERE names = ?1");
    st.bind(1, text);
    Id id = 0;
    if (st.step()) {
      id = st.integer(0);
    } else {
      db_.prepare("INSERT INTO step_plans(names) VALUES (?1)").bind_all(text).run();
      id = db_.last_insert_id();
    }
    db_.prepare("UPDATE service_requests SET plan_id = ?1 WHERE id = ?2").bind_all(id, sr).run();
  }

  void step(Id sr, std::int64_t seq, const char* status) {
    db_.prepare("INSERT INTO sr_step_marks(sr_id, seq, status, at) VALUES (?1, ?2, ?3, ?4)")
        .bind_all(sr, seq, status, now_)
        .run();
  }

  // arrears_negotiation's first activation on the transition's Action Missed Payment SR:
  // the checks before work, then the work item it waits on.
  void negotiation_first_steps(Id amp, Id group, Id pp) {
    auto st = db_.prepare(
        "SELECT a.status, c.employment_status, g.arrears_only, l.mop FROM clients c "
        "JOIN casegroups g ON g.id = ?2 "
        "LEFT JOIN addresses a ON a.client_id = c.id AND a.is_correspondence = 1 "
        "LEFT JOIN ledger_accounts l ON l.client_id = c.id "
        "WHERE c.id = ?1 ORDER BY a.id DESC LIMIT 1");
    st.bind_all(pp, group);
    st.step();
    const std::string address = st.optional_text(0).value_or("");
    const bool employment = st.optional_text(1).has_value();
    const bool arrears_only = st.integer(2) != 0;
    const std::optional<std::string> mop = st.optional_text(3);
    if (address == "DLO" || address == "NFA") {
      note(amp, "Paying parent's correspondence address is marked " + address +
                    ": SR closed and cancelled");
      set_sr_status(amp, "Closed", "Cancelled");
      return;
    }
    if (address == "JPAC") {
      note(amp, "Paying parent's address is the JPAC Process Team: on active duty");
      sr_field(amp, "active_duty", "yes");
      set_sr_status(amp, "Closed", "Complete", "No Arrears Action - Active Duty");
      return;
    }
    set_sr_status(amp, "In Progress", std::nullopt);
    plan(amp, kNegotiationSteps, 5);
    step(amp, 1, "done");
    if (arrears_only && mop == "DFB") {
      work_item("caseworker", "new_method_of_payment", amp, "Agree a new method of payment",
                "[\"SO\",\"DD\",\"no contact\"]");
      return;
    }
    step(amp, 2, address == "confirmed" ? "done" : "skipped");
    step(amp, 3, "skipped");
    step(amp, 4, "skipped");
    set_sr_status(amp, "In Progress", "Pending Negotiation");
    if (arrears_only && !employment) {
      const Id review = sr("Arrears Management", "Arrears Review", "In Progress", group,
                           std::nullopt, "", "Arrears");
      work_item("caseworker", "get_employment_status", review, "Get Employment Status",
                "[\"recorded\"]", "[\"employment_status\"]");
      return;
    }
    auto balance = db_.prepare(
        "SELECT coalesce(sum(amount), 0) FROM dues WHERE casegroup_id = ?1 AND state = 'active'");
    balance.bind(1, group);
    balance.step();
    sr_field(amp, "negotiated_payment_amount", std::to_string(balance.integer(0)));
    work_item("caseworker", "negotiate_schedule", amp, "Negotiate an arrears payment schedule",
              "[\"agreed\",\"refused\",\"no contact\"]", kNegotiateFields);
  }

  void letter(const char* code, Id to, Id casegroup, json fields) {
    NewLetter l{code, to, casegroup, std::nullopt, std::move(fields), std::nullopt};
    db_.prepare(
           "INSERT INTO letters(template_code, recipient_id, casegroup_id, body, created_at) "
           "VALUES (?1, ?2, ?3, ?4, ?5)")
        .bind_all(code, to, casegroup, e_.letters.render(l), now_)
        .run();
  }

  void transition(const DwRow& row) {
    const Row& r = row.json;
    const Pence total = row.total();
    std::optional<Id> pp = find_client(r["paying_parent"]["nino"]);
    std::optional<Id> group;
    if (pp) {
      auto st = db_.prepare("SELECT id FROM casegroups WHERE paying_parent_id = ?1 LIMIT 1");
      st.bind(1, *pp);
      if (st.step()) group = st.integer(0);
    }
    if (total == 0) {
      if (group) {
        db_.prepare("INSERT OR IGNORE INTO casegroup_flags VALUES (?1, 'transition_complete')")
            .bind(1, *group)
            .run();
      }
      return;
    }
    if (!pp) pp = client(r["paying_parent"], true);
    bool built = false;
    if (!group) {
      db_.prepare(
             "INSERT INTO casegroups(csa_ref, paying_parent_id, segment, arrears_only, region, "
             "created_at) VALUES (?1, ?2, 'Arrears', 1, ?3, ?4)")
          .bind_all(row.csa_ref, *pp, r["region"].get<std::string>(), now_)
          .run();
      group = db_.last_insert_id();
      built = true;
    }
    std::vector<Id> cases, rps;
    for (const auto& person : r["receiving_parents"]) {
      rps.push_back(client(person, false));
      db_.prepare(
             "INSERT INTO cases(casegroup_id, receiving_parent_id, csa_scheme, csa_case_ref, "
             "created_at) VALUES (?1, ?2, 'CSA', ?3, ?4)")
          .bind_all(*group, rps.back(), row.csa_ref, now_)
          .run();
      cases.push_back(db_.last_insert_id());
      built = true;
    }
    std::optional<std::string> mop;
    if (r["method_of_payment"].is_string()) mop = r["method_of_payment"];
    const std::string digits = std::to_string(*pp);
    db_.prepare(
           "INSERT OR IGNORE INTO ledger_accounts(client_id, bancs_number, mop, mop_status, "
           "created_at) VALUES (?1, ?2, ?3, ?4, ?5)")
        .bind_all(*pp, "BN" + std::string(digits.size() < 8 ? 8 - digits.size() : 0, '0') + digits,
                  mop, mop ? std::optional<std::string>("active") : std::nullopt, now_)
        .run();
    auto account = db_.prepare("SELECT id, mop FROM ledger_accounts WHERE client_id = ?1");
    account.bind(1, *pp);
    account.step();
    const Id account_id = account.integer(0);
    // An account the paying parent already had takes the extract's method, if it names one.
    if (mop && account.optional_text(1) != mop) {
      db_.prepare("UPDATE ledger_accounts SET mop = ?1, mop_status = 'active' WHERE id = ?2")
          .bind_all(*mop, account_id)
          .run();
    }
    if (built) {
      const Id setup =
          sr("Financial Transition", "Arrears only case set up", "Closed", *group, std::nullopt,
             "Phase 2 transition of " + row.csa_ref, "Financial Transition");
      plan(setup, kSteps, 7);
      for (int i = 0; i < 7; ++i) {
        const bool done = i < 6 || r["paying_parent"]["benefit"].is_string() || mop == "DFB";
        step(setup, i + 1, done ? "done" : "skipped");
      }
      if (!mop) note(setup, "No method of payment on the CSA scheme");
      // The interest flags the CIS steps input.
      const auto interest = [&](Id client, const char* role) {
        db_.prepare(
               "INSERT OR IGNORE INTO cis_interests(client_id, casegroup_id, role, created_at) "
               "VALUES (?1, ?2, ?3, ?4)")
            .bind_all(client, *group, role, now_)
            .run();
      };
      for (Id rp : rps) interest(rp, "applicant");
      interest(*pp, "other_party");
      db_.prepare(
             "UPDATE service_requests SET sub_status = 'Complete', closed_at = ?2 "
             "WHERE id = ?1")
          .bind_all(setup, now_)
          .run();
    }
    const std::string origin = "CSA transition " + row.csa_ref;
    const auto due = [&](std::optional<Id> case_id, const std::string& owed_to, int state,
                         Pence amount) {
      if (amount == 0) return;
      db_.prepare(
             "INSERT INTO dues(account_id, casegroup_id, case_id, owed_to, state, amount, "
             "origin, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
          .bind_all(account_id, *group, case_id, owed_to, kStates[state], amount, origin, now_)
          .run();
    };
    for (std::size_t i = 0; i < cases.size(); ++i) {
      for (int s = 0; s < 3; ++s) due(cases[i], "RP", s, of(row.receiving_parents[i], s));
    }
    const std::string sos = "SOS_" + r["sos"]["jurisdiction"].get<std::string>();
    for (int s = 0; s < 3; ++s) due(std::nullopt, sos, s, of(row.sos, s));

    json lines = json::array();
    std::vector<Id> writeoffs;
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const auto& a = row.receiving_parents[i];
      if (a.total() == 0) continue;
      if (r["receiving_parents"][i]["writeoff_requested"].get<bool>()) {
        writeoffs.push_back(sr("Arrears Management", "Investigate write off request", "Open",
                               *group, cases[i], "write off requested", "Financial Transition"));
      }
      lines.push_back(
          {{"owed_to", "owed to " + r["receiving_parents"][i]["name"].get<std::string>()},
           {"amount", money::format(a.total())},
           {"detail", breakdown(a)}});
    }
    if (row.sos.total() > 0) {
      lines.push_back({{"owed_to", "owed to the Secretary of State"},
                       {"amount", money::format(row.sos.total())},
                       {"detail", breakdown(row.sos)}});
    }
    letter("CKTR001", *pp, *group,
           {{"csa_ref", row.csa_ref}, {"total", money::format(total)}, {"lines", lines}});
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const auto& a = row.receiving_parents[i];
      if (a.total() == 0) continue;
      letter("CKTR002", rps[i], *group,
             {{"csa_ref", row.csa_ref},
              {"total", money::format(a.total())},
              {"detail", breakdown(a)}});
    }
    // The procedure investigates the write-off requests one at a time, and decides what
    // happens next only once they are done.
    if (!writeoffs.empty()) {
      work_item("caseworker", "investigate_write_off", writeoffs.front(),
                "Investigate the write-off request", "[\"write off confirmed\",\"arrears stand\"]");
      return;
    }
    if (r["enforcement_ongoing"].get<bool>()) {
      db_.prepare("UPDATE casegroups SET segment = 'Enforcement' WHERE id = ?1")
          .bind(1, *group)
          .run();
      work_item("case_owner", "check_enforcement", std::nullopt, "Check Tallyman and the CSA",
                "[\"records updated\"]");
    } else if (r["csa_case_active"].get<bool>()) {
      const Id amp = sr("Arrears Management", "Action Missed Payment", "Open", *group, std::nullopt,
                        "Automated Financial Transition", "Arrears");
      negotiations_.push_back({amp, *group, *pp});
    }
  }

  // The import runs the arrears_negotiation instances its transitions started once the
  // batch's transitions are done, so they see the casegroups as the whole batch left them.
  void finish_batch() {
    for (const auto& n : negotiations_) negotiation_first_steps(n.amp, n.group, n.paying_parent);
    negotiations_.clear();
  }

  void remember(const std::string& key, const std::optional<std::string>& csa_ref,
                const char* outcome) {
    db_.prepare(
           "INSERT INTO dw_rows(row_key, csa_ref, outcome, imported_at) VALUES (?1, ?2, ?3, ?4)")
        .bind_all(key, csa_ref, outcome, now_)
        .run();
  }

  bool seen(const std::string& key) {
    auto st = db_.prepare("SELECT 1 FROM dw_rows WHERE row_key = ?1");
    st.bind(1, key);
    return st.step();
  }

 private:
  struct Negotiation {
    Id amp, group, paying_parent;
  };
  Engine& e_;
  Database& db_;
  std::string now_;
  std::vector<Negotiation> negotiations_;
};

}  // namespace

PlainCounts plain_transition(Engine& engine, std::istream& in) {
  PlainCounts counts;
  Writer w(engine);
  std::string line;
  std::optional<Transaction> tx;
  while (std::getline(in, line)) {
    if (!tx) tx.emplace(engine.db);
    ++counts.read;
    auto parsed = parse_dw_row(line);
    if (auto* bad = std::get_if<DwRowError>(&parsed)) {
      const std::string key = "line:" + source_hash(line);
      if (!w.seen(key)) {
        engine.exceptions.record(bad->csa_ref, bad->reason);
        w.remember(key, bad->csa_ref, "exception");
        ++counts.exceptions;
      }
    } else {
      const auto& row = std::get<DwRow>(parsed);
      const std::string key = "csa:" + row.csa_ref;
      if (!w.seen(key)) {
        w.transition(row);
        w.remember(key, row.csa_ref, "transitioned");
        ++counts.transitioned;
      }
    }
    if (counts.read % 1000 == 0) {
      w.finish_batch();
      tx->commit();
      tx.reset();
    }
  }
  if (tx) {
    w.finish_batch();
    tx->commit();
  }
  return counts;
}

}  // namespace casekit::bench
