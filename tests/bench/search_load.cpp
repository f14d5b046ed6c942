// `casekit_bench search`: see search_load.hpp.
//
// The store is built by the plain loop of plain_transition.hpp (the rows `import dw` writes,
// audit included, without the durable runtime's own), which builds it about three times as
// fast; the reads measured touch only domain rows. The server runs as `casekit serve --http`
// runs it, on the system clock as it does (the search limit counts real minutes). Clients are
// threads with one kept-alive connection each, as in the HTTP load benchmark.
#include "tests/bench/search_load.hpp"

#include <cstdio>
#include <fstream>
#include <thread>

#include "engine/durable/runtime.hpp"
#include "engine/store/schema.hpp"
#include "engine/transition/dw_generate.hpp"
#include "tests/bench/bench_server.hpp"
#include "tests/bench/load_client.hpp"
#include "tests/bench/plain_transition.hpp"

namespace casekit::bench {
namespace {

constexpr const char* kPassword = "a benchmark passphrase";

// A casegroup to look for, and how a caseworker would find it.
struct Sample {
  Id id = 0;
  std::string csa_ref, nino, name;
};

// Search i looks for sample i by one of four ways, in turn: the kinds of the direct table.
constexpr const char* kSearchKinds[] = {"CSA reference", "NINO", "full name",
                                        "start of a surname (3 letters)"};

CasegroupFilter filter_of(const Sample& s, int i) {
  CasegroupFilter f;
  f.limit = 20;  // as the route's default page
  switch (i % 4) {
    case 0:
      f.csa_ref = s.csa_ref;
      break;
    case 1:
      f.nino = s.nino;
      break;
    case 2:
      f.name = s.name;
      break;
    default:
      f.name = s.name.substr(s.name.find(' ') + 1, 3);
      break;
  }
  return f;
}

std::string search_target(const CasegroupFilter& f) {
  std::string q = "/api/v1/casegroups?limit=" + std::to_string(f.limit);
  if (f.csa_ref) q += "&csa_ref=" + url_encode(*f.csa_ref);
  if (f.nino) q += "&nino=" + url_encode(*f.nino);
  if (f.name) q += "&name=" + url_encode(*f.name);
  return q;
}

// Casegroups spread over the whole store, each with its paying parent's NINO and name.
std::vector<Sample> samples(Database& db, int n) {
  const std::int64_t max_id = count(db, "SELECT max(id) FROM casegroups");
  std::vector<Sample> out;
  for (int k = 0; k < n; ++k) {
    auto st = db.prepare(
        "SELECT g.id, g.csa_ref, c.nino, c.name FROM casegroups g "
        "JOIN clients c ON c.id = g.paying_parent_id WHERE g.id >= ?1 ORDER BY g.id LIMIT 1");
    // A stride prime to the store's size visits it all, out of order.
    st.bind(1, 1 + (static_cast<std::int64_t>(k) * 7'919) % max_id);
    if (!st.step() || st.is_null(1) || st.is_null(2)) continue;
    out.push_back({st.integer(0), st.text(1), st.text(2), st.text(3)});
  }
  return out;
}

// What the search route does with a page: each casegroup's summary (its paying parent's name
// and its balance), so that the direct call reads what the route reads.
void summarise(Engine& e, const CasegroupSearchPage& page) {
  for (const Casegroup& g : page.casegroups) {
    e.casegroups.client(g.paying_parent_id);
    e.ledger.balance(g.id, std::nullopt, std::nullopt);
  }
}

void build_store(Engine& engine, const std::filesystem::path& dir, std::int64_t rows) {
  const auto extract = dir / "search.jsonl";
  {
    std::ofstream out(extract);
    generate_dw_extract(out, {rows, 1, 0.02, "2026-11-20"});
  }
  std::ifstream in(extract);
  plain_transition(engine, in);
  std::filesystem::remove(extract);
}

}  // namespace

bool search_figures(const std::filesystem::path& dir, const SearchLoadSize& size) {
  const auto file = size.store.empty() ? dir / "search.db" : size.store;
  const bool built = !size.store.empty() && std::filesystem::exists(file);
  if (!built) std::filesystem::remove(file);
  SystemClock clock;
  Database db(file, built ? OpenMode::existing : OpenMode::create);
  db.set_clock(&clock);
  migrate(db);
  Engine engine(db, clock, Home{CASEKIT_DEFAULT_HOME});
  ProcedureRuntime runtime(engine);

  std::printf("\n### Casegroup search and view under load\n\n");
  std::fflush(stdout);
  const auto setup0 = Stopwatch::now();
  if (!built) build_store(engine, dir, size.rows);
  const double setup_seconds = std::chrono::duration<double>(Stopwatch::now() - setup0).count();
  const std::int64_t casegroups = count(db, "SELECT count(*) FROM casegroups");
  const std::int64_t clients_rows = count(db, "SELECT count(*) FROM clients");
  const auto sample = samples(db, 5'000);

  // The people: a caseworker each, the teams in turn, all with one password. Its hash is made
  // and checked once (Argon2id costs about 60 ms a time, and a login here is not measured).
  const std::vector<std::string> teams = engine.users.teams();
  const std::string hash = Accounts::hash_password(kPassword);
  const PasswordCheck check = Accounts::check_password(hash, kPassword);
  std::vector<User> users;
  std::vector<std::string> tokens;
  for (int c = 0; c < size.clients; ++c) {
    Transaction tx(db);
    char name[32];
    std::snprintf(name, sizeof name, "bench_cw_%03d", c);
    users.push_back(built ? engine.users.require(name)
                          : engine.users.add(name, "caseworker", teams[c % teams.size()]));
    engine.accounts.set_password_hash(name, hash);
    const LoginResult login =
        engine.accounts.finish_login(engine.accounts.begin_login(name), check);
    tx.commit();
    if (!login.session) {
      std::fprintf(stderr, "bench: login failed: %s\n", login.refusal.c_str());
      return false;
    }
    tokens.push_back(login.session->token);
  }
  std::printf(
      "%lld casegroups (%lld clients) from a %lld-row extract, built in %.0f s, %.1f GB on "
      "disk; %d clients on loopback, each a caseworker of their own.\n\n",
      static_cast<long long>(casegroups), static_cast<long long>(clients_rows),
      static_cast<long long>(size.rows), setup_seconds,
      static_cast<double>(std::filesystem::file_size(file)) / 1e9, size.clients);
  std::fflush(stdout);

  // Direct, before the server starts: this thread has the engine to itself. Each answer is a
  // transaction, as each route's is (a read is recorded in the access log with it).
  Latencies direct_search, direct_view, direct_list;
  std::vector<Latencies> direct_by_kind(4);
  WorkItemQuery inbox;
  inbox.inbox = "caseworker";
  for (int i = 0; i < size.direct_per_client * size.clients; ++i) {
    const User& u = users[i % users.size()];
    const Sample& s = sample[i % sample.size()];
    auto t0 = Stopwatch::now();
    {
      Transaction tx(db);
      summarise(engine, engine.reads.search(filter_of(s, i), u));
      tx.commit();
    }
    direct_search.add(t0, true);
    direct_by_kind[i % 4].add(t0, true);
    t0 = Stopwatch::now();
    {
      Transaction tx(db);
      engine.reads.view(s.id, u);
      tx.commit();
    }
    direct_view.add(t0, true);
    t0 = Stopwatch::now();
    engine.work_items.query(inbox, u);
    direct_list.add(t0, true);
  }

  std::optional<BenchServer> server(std::in_place, engine, runtime);
  const unsigned short port = server->port();

  // Turn k of client c: a search for a sample no other turn of the run looks for (while
  // there are enough), that casegroup opened, and the first page of the client's inbox.
  std::vector<std::vector<Latencies>> runs;
  for (double per_client : size.turns_per_second) {
    runs.push_back(paced(port, tokens, per_client * size.clients, size.seconds, [&](int c, int k) {
      const int i = c + k * size.clients;
      const Sample& s = sample[static_cast<std::size_t>(i) % sample.size()];
      return std::vector<Job>{{bhttp::verb::get, search_target(filter_of(s, i)), ""},
                              {bhttp::verb::get, "/api/v1/casegroups/" + std::to_string(s.id), ""},
                              {bhttp::verb::get, "/api/v1/work-items?inbox=caseworker", ""}};
    }));
    runs.back().resize(3);
  }
  std::vector<std::vector<Job>> views(1);
  for (int i = 0; i < size.views; ++i) {
    views[0].push_back({bhttp::verb::get,
                        "/api/v1/casegroups/" + std::to_string(sample[i % sample.size()].id), ""});
  }
  const auto v0 = Stopwatch::now();
  Latencies back_to_back = load(port, tokens, views);
  const double view_rate =
      size.views / std::chrono::duration<double>(Stopwatch::now() - v0).count();
  server.reset();

  std::int64_t failures = back_to_back.failures;
  for (auto& run : runs) {
    for (const Latencies& l : run) failures += l.failures;
  }
  std::printf(
      "Paced: each client searches, opens the casegroup found and lists the first page of its "
      "inbox, once a turn. The target is judged at %.1f turns a second (%.0f of each request a "
      "second in all).\n\n"
      "| turns a second, each client (all clients) | search p50 | search p99 | view p50 | view "
      "p99 | inbox p99 | target |\n|---|---|---|---|---|---|---|\n",
      size.turns_per_second.back(), size.turns_per_second.back() * size.clients);
  bool met = true;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    auto& run = runs[r];
    const bool judged = r + 1 == runs.size();
    const double search_p99 = run[0].percentile(0.99), view_p99 = run[1].percentile(0.99);
    if (judged) met = search_p99 < 50 && view_p99 < 50;
    std::printf(
        "| %.1f (%.0f /s) | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %s |\n",
        size.turns_per_second[r], size.turns_per_second[r] * size.clients, run[0].percentile(0.5),
        search_p99, run[1].percentile(0.5), view_p99, run[2].percentile(0.99),
        judged
            ? (met ? "search and view p99 < 50 ms (met)" : "search and view p99 < 50 ms (MISSED)")
            : "");
  }
  std::printf(
      "\nDirect: the same engine calls, one after another on one thread, each a transaction "
      "(a search's page with each casegroup's summary; the whole casegroup; the inbox's first "
      "page).\n\n| call | p50 | p99 |\n|---|---|---|\n");
  std::printf("| search (all kinds) | %.3f ms | %.3f ms |\n", direct_search.percentile(0.5),
              direct_search.percentile(0.99));
  for (int k = 0; k < 4; ++k) {
    std::printf("| search by %s | %.3f ms | %.3f ms |\n", kSearchKinds[k],
                direct_by_kind[k].percentile(0.5), direct_by_kind[k].percentile(0.99));
  }
  std::printf("| casegroup view | %.3f ms | %.3f ms |\n", direct_view.percentile(0.5),
              direct_view.percentile(0.99));
  std::printf("| inbox, first page | %.3f ms | %.3f ms |\n", direct_list.percentile(0.5),
              direct_list.percentile(0.99));
  std::printf(
      "\nBack to back: %d casegroups opened by the %d clients, each sending the next as soon as "
      "it has the answer: %.0f /s (HTTP p50 %.1f ms, which is the queue: see the HTTP "
      "benchmark). Failed requests in all runs: %lld %s.\n",
      size.views, size.clients, view_rate, back_to_back.percentile(0.5),
      static_cast<long long>(failures), failures == 0 ? "(met)" : "(MISSED)");
  std::fflush(stdout);
  return met && failures == 0;
}

}  // namespace casekit::bench
