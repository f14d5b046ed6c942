#include "engine/domain/engine.hpp"

#include "engine/core/error.hpp"

namespace casekit {

Engine::Engine(Database& db_, const Clock& clock_, Home home_)
    : db(db_),
      clock(clock_),
      home(std::move(home_)),
      sr_catalogue(SrCatalogue::load(home.sr_catalogue())),
      letter_catalogue(LetterCatalogue::load(home.letters())),
      inboxes(InboxCatalogue::load(home.inboxes())),
      casegroups(db, clock),
      ledger(db, clock, casegroups),
      srs(db, clock, sr_catalogue, casegroups),
      users(db, clock, sr_catalogue.teams()),
      accounts(db, clock, users),
      user_admin(users, accounts),
      work_items(db, clock, inboxes, users),
      letters(db, clock, letter_catalogue, casegroups, work_items, users),
      reads(db, clock, casegroups, ledger, srs, letters, work_items),
      views(db, clock, work_items),
      exceptions(db, clock, work_items),
      bancs(db, clock, srs, ledger),
      cis(db, clock, casegroups),
      cra(casegroups) {
  db.set_clock(&clock);
  ledger.allocate_recorded_payments();
}

std::unique_ptr<Clock> load_clock(Database& db) {
  auto st = db.prepare("SELECT value FROM settings WHERE key = 'simulated_clock'");
  if (st.step()) return std::make_unique<SimulatedClock>(parse_instant(st.text(0)));
  return std::make_unique<SystemClock>();
}

void save_simulated_clock(Database& db, Instant now) {
  db.prepare(
        "INSERT INTO settings(key, value) VALUES ('simulated_clock', ?1) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value")
      .bind(1, format_instant(now))
      .run();
}

}  // namespace casekit
