#include "tests/bench/plain_transition.hpp"

#include <string>
#include <vector>

#include "engine/core/money.hpp"
#include "engine/durable/instance_store.hpp"
#include "engine/transition/dw_extract.hpp"

namespace casekit::bench {
namespace {

using nlohmann::json;

constexpr const char* kStates[] = {"active", "suspended", "deferred"};
constexpr const char* kSteps[] = {"Create contact details for the clients",
                                  "Verify applicant and input interest flags on CIS",
                                  "Verify other party and input interest flags on CIS",
                                  "Validate method of payment",
                                  "Create new casegroup / link to existing casegroup",
                                  "Establish maintenance region",
                                  "Retrieve paying parent benefit details from CIS"};

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

  Id client(const json& person, bool paying) {
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
    const json& a = person["address"];
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
                 const std::string& title, const char* outcomes) {
    db_.prepare(
           "INSERT INTO work_items(inbox, kind, sr_id, title, outcomes, fields, required_fields, "
           "created_at) VALUES (?1, ?2, ?3, ?4, ?5, '[\"note\"]', '{}', ?6)")
        .bind_all(inbox, kind, sr, title, outcomes, now_)
        .run();
  }

  void letter(const char* code, Id to, Id casegroup, json fields) {
    NewLetter l{code, to, casegroup, std::nullopt, std::move(fields)};
    db_.prepare(
           "INSERT INTO letters(template_code, recipient_id, casegroup_id, body, created_at) "
           "VALUES (?1, ?2, ?3, ?4, ?5)")
        .bind_all(code, to, casegroup, e_.letters.render(l), now_)
        .run();
  }

  void transition(const DwRow& row) {
    const json& r = row.json;
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
    pp = client(r["paying_parent"], true);
    bool built = false;
    if (!group) {
      db_.prepare(
             "INSERT INTO casegroups(csa_ref, paying_parent_id, segment, arrears_only, region, "
             "created_at) VALUES (?1, ?2, 'Arrears Only Categorised', 1, ?3, ?4)")
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
    auto account = db_.prepare("SELECT id FROM ledger_accounts WHERE client_id = ?1");
    account.bind(1, *pp);
    account.step();
    const Id account_id = account.integer(0);
    if (built) {
      const Id setup =
          sr("Financial Transition", "Arrears only case set up", "Closed", *group, std::nullopt,
             "Phase 2 transition of " + row.csa_ref, "Financial Transition");
      for (int i = 0; i < 7; ++i) {
        const bool done = i < 6 || r["paying_parent"]["benefit"].is_string();
        db_.prepare(
               "INSERT INTO sr_steps(sr_id, seq, name, status, completed_at) "
               "VALUES (?1, ?2, ?3, ?4, ?5)")
            .bind_all(setup, i + 1, kSteps[i], done ? "done" : "skipped", now_)
            .run();
      }
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
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const auto& a = row.receiving_parents[i];
      if (a.total() == 0) continue;
      if (r["receiving_parents"][i]["writeoff_requested"].get<bool>()) {
        const Id s = sr("Arrears Management", "Investigate write off request", "Open", *group,
                        cases[i], "write off requested", "Financial Transition");
        work_item("caseworker", "investigate_write_off", s, "Investigate the write-off request",
                  "[\"write off confirmed\",\"arrears stand\"]");
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
    if (r["enforcement_ongoing"].get<bool>()) {
      db_.prepare("UPDATE casegroups SET segment = 'Enforcement' WHERE id = ?1")
          .bind(1, *group)
          .run();
      work_item("case_owner", "check_enforcement", std::nullopt, "Check Tallyman and the CSA",
                "[\"records updated\"]");
    } else if (r["csa_case_active"].get<bool>()) {
      const Id amp = sr("Arrears Management", "Action Missed Payment", "Open", *group, std::nullopt,
                        "Automated Financial Transition", "Arrears");
      db_.prepare("INSERT INTO sr_notes(sr_id, author, body, created_at) VALUES (?1, ?2, ?3, ?4)")
          .bind_all(amp, "bench", "Routed to negotiation", now_)
          .run();
    }
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
  Engine& e_;
  Database& db_;
  std::string now_;
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
      tx->commit();
      tx.reset();
    }
  }
  if (tx) tx->commit();
  return counts;
}

}  // namespace casekit::bench
