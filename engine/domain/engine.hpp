// The engine: one database, one clock, the policy catalogues and the domain services over
// them. Bindings reach the domain only through this object.
#pragma once

#include <filesystem>
#include <memory>

#include "engine/domain/accounts.hpp"
#include "engine/domain/bancs.hpp"
#include "engine/domain/casegroup_reads.hpp"
#include "engine/domain/casegroups.hpp"
#include "engine/domain/catalogue.hpp"
#include "engine/domain/cis.hpp"
#include "engine/domain/cra.hpp"
#include "engine/domain/exceptions.hpp"
#include "engine/domain/ledger.hpp"
#include "engine/domain/letters.hpp"
#include "engine/domain/saved_views.hpp"
#include "engine/domain/service_requests.hpp"
#include "engine/domain/user_admin.hpp"
#include "engine/domain/work_items.hpp"

namespace casekit {

// Where procedures/ and scripts/ live.
struct Home {
  std::filesystem::path root;
  std::filesystem::path procedures() const { return root / "procedures"; }
  std::filesystem::path scripts() const { return root / "scripts"; }
  std::filesystem::path letters() const { return root / "procedures" / "letters"; }
  std::filesystem::path sr_catalogue() const { return root / "procedures" / "sr_catalogue.toml"; }
  std::filesystem::path inboxes() const { return root / "procedures" / "inboxes.toml"; }
  std::filesystem::path web() const { return root / "web"; }
};

class Engine {
 public:
  Engine(Database& db, const Clock& clock, Home home);
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  Database& db;
  const Clock& clock;
  const Home home;
  const SrCatalogue sr_catalogue;
  const LetterCatalogue letter_catalogue;
  const InboxCatalogue inboxes;
  Casegroups casegroups;
  Ledger ledger;
  ServiceRequests srs;
  Users users;
  Accounts accounts;
  UserAdmin user_admin;
  WorkItems work_items;
  Letters letters;  // after work_items: a letter that needs a sign-off checks it there
  CasegroupReads reads;
  SavedViews views;
  Exceptions exceptions;
  BancsInterface bancs;
  CisInterface cis;
  CraInterface cra;
};

// The clock a database was initialised with: simulated ("casekit init --simulated-clock")
// or real time.
std::unique_ptr<Clock> load_clock(Database& db);
void save_simulated_clock(Database& db, Instant now);

}  // namespace casekit
