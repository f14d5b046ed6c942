// `casekit_bench http`: see http_load.hpp.
//
// The server runs as `casekit serve --http` runs it (http::Service on one io_context, on one
// thread, which alone touches the database while the load runs). Each client is a thread
// with one kept-alive connection and blocking calls, so it measures what a person would
// wait: from writing the request to reading the whole answer. The direct figures are the
// calls the routes make (WorkItems::query, ProcedureRuntime::complete_task) without HTTP,
// sessions or JSON, one after another on one thread.
#include "tests/bench/http_load.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <sstream>
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

// One human step on an SR its team owns: a caseworker's call, due in `params.due` days;
// completing it completes the instance.
constexpr const char* kCallProcedure = R"lua(
local types = {
  ["Arrears"] = {"Arrears", "Arrears Management", "Action Missed Payment"},
  ["Service Management"] = {"Arrears", "Arrears Management", "Arrears Trigger"},
  ["Financial Transition"] = {"Arrears", "Arrears Management", "Investigate write off request"},
  ["Payments"] = {"Payments", "MOPF", "Amend existing MOPF"},
  ["Maintenance"] = {"CofC", "Change client status", "Death of client"},
  ["Enforcement"] = {"Enforcement", "Assess Next Action", "Review Case and Decide on Action"},
}
return procedure {
  name = "bench_call",
  run = function(ctx)
    local t = types[ctx.params.team]
    local s = sr.create{casegroup = ctx.casegroup, process = t[1], area = t[2], sub_area = t[3]}
    local r = task.await{inbox = "caseworker", title = "Call the paying parent", sr = s,
                         outcomes = {"done"}, due_in_days = tonumber(ctx.params.due)}
    return r.outcome
  end,
}
)lua";

// Each client's turn k at a pace: a page of its team's inbox, then the completion of the
// next of its team's items while there are any.
struct Paced {
  Latencies listing, completion;
};

Paced paced_turns(unsigned short port, const std::vector<std::string>& tokens, int clients,
                  double rate, double seconds, const std::vector<std::vector<Job>>& listings,
                  const std::vector<std::vector<Job>>& completions) {
  std::vector<std::atomic<std::size_t>> next(completions.size());
  auto kinds = paced(port, per_client(tokens, clients), rate, seconds, [&](int c, int k) {
    const std::size_t team = c % tokens.size();
    std::vector<Job> turn{listings[team][(c + k) % listings[team].size()]};
    const std::size_t i = next[team]++;
    if (i < completions[team].size()) turn.push_back(completions[team][i]);
    return turn;
  });
  kinds.resize(2);
  return {std::move(kinds[0]), std::move(kinds[1])};
}

// The first 20 pages of each team's inbox: a client asks for the first page or one further on.
std::vector<std::vector<std::string>> cursors(Engine& engine, const std::vector<User>& users) {
  std::vector<std::vector<std::string>> out;
  for (const User& u : users) {
    std::vector<std::string> team{""};
    WorkItemQuery q;
    q.inbox = "caseworker";
    while (team.size() < 20) {
      const auto page = engine.work_items.query(q, u);
      if (!page.next_cursor) break;
      team.push_back(*page.next_cursor);
      q.cursor = page.next_cursor;
    }
    out.push_back(std::move(team));
  }
  return out;
}

}  // namespace

bool http_figures(const std::filesystem::path& dir, const HttpLoadSize& size) {
  if (!std::filesystem::exists(dir / "procedures")) {
    std::filesystem::copy(std::filesystem::path(CASEKIT_DEFAULT_HOME) / "procedures",
                          dir / "procedures", std::filesystem::copy_options::recursive);
  }
  std::ofstream(dir / "procedures" / "bench_call.lua") << kCallProcedure;
  std::filesystem::remove(dir / "http.db");
  SimulatedClock clock(parse_instant("2026-11-20T09:00:00Z"));
  Database db(dir / "http.db", OpenMode::create);
  db.set_clock(&clock);
  migrate(db);
  Engine engine(db, clock, Home{dir});
  ProcedureRuntime runtime(engine);

  // The store: 1,000 casegroups as the phase-2 transition writes them, then the instances,
  // each waiting on its work item, the teams in turn.
  const auto setup0 = Stopwatch::now();
  {
    std::stringstream extract;
    generate_dw_extract(extract, {1000, 1, 0.0, "2026-11-20"});
    plain_transition(engine, extract);
  }
  const std::int64_t casegroups = count(db, "SELECT count(*) FROM casegroups");
  const std::vector<std::string> teams = engine.users.teams();
  // The transition made work items of its own; ours come after them.
  const Id first_item = count(db, "SELECT IFNULL(max(id), 0) FROM work_items") + 1;
  // Each paced run completes up to one item a turn.
  std::vector<int> paced_items;
  for (double per_client : size.turns_per_second) {
    paced_items.push_back(static_cast<int>(size.seconds * per_client) * size.clients);
  }
  const int total_items = size.items + 2 * size.completions +
                          std::accumulate(paced_items.begin(), paced_items.end(), 0);
  for (int done = 0; done < total_items;) {
    Transaction tx(db);
    const int batch = std::min(10'000, total_items - done);
    for (int i = 0; i < batch; ++i, ++done) {
      runtime.create("bench_call", 1 + done % casegroups,
                     {{"due", std::to_string(done % 90)}, {"team", teams[done % teams.size()]}},
                     "bench");
    }
    tx.commit();
    runtime.drain();
  }
  std::vector<User> users;
  for (const auto& team : teams) {
    std::string name = "bench_" + team;
    std::replace(name.begin(), name.end(), ' ', '_');
    users.push_back(engine.users.add(name, "caseworker", team));
    engine.accounts.set_password(name, kPassword);
  }
  const std::int64_t open_items =
      count(db, "SELECT count(*) FROM work_items WHERE status = 'open'");
  const auto pages = cursors(engine, users);
  std::printf("\n### HTTP API under load\n\n");
  std::printf(
      "%lld open work items across %zu teams (set up in %.0f s), %d clients on loopback in "
      "%zu teams, %d inbox pages read and %d items completed each way.\n\n",
      static_cast<long long>(open_items), teams.size(),
      std::chrono::duration<double>(Stopwatch::now() - setup0).count(), size.clients, teams.size(),
      size.listings, size.completions);
  std::fflush(stdout);

  // Direct, before the server starts: this thread has the engine to itself.
  Latencies direct_list;
  for (int i = 0; i < size.listings; ++i) {
    const std::size_t team = i % users.size();
    WorkItemQuery q;
    q.inbox = "caseworker";
    const std::string& cursor = pages[team][i % pages[team].size()];
    if (!cursor.empty()) q.cursor = cursor;
    const auto t0 = Stopwatch::now();
    engine.work_items.query(q, users[team]);
    direct_list.add(t0, true);
  }
  // The items after the first size.items are completed: the next completions directly, as
  // many again over HTTP. The first size.items stay open for the listing. Each completer is
  // a caseworker of the item's team.
  const auto completer = [&](Id item) { return users[(item - first_item) % users.size()]; };
  const auto d0 = Stopwatch::now();
  for (int i = 0; i < size.completions; ++i) {
    const Id item = first_item + size.items + i;
    runtime.complete_task(item, "done", {}, completer(item).name);
  }
  const double direct_rate =
      size.completions / std::chrono::duration<double>(Stopwatch::now() - d0).count();

  std::optional<BenchServer> server(std::in_place, engine, runtime);
  const unsigned short port = server->port();

  std::vector<std::string> tokens;
  for (const User& u : users) {
    LoadClient c(port, "");
    std::string body;
    const nlohmann::json login = {{"name", u.name}, {"password", kPassword}, {"bearer", true}};
    if (c.send(bhttp::verb::post, "/api/v1/login", login.dump(), &body) != 200) {
      std::printf("bench: login failed: %s\n", body.c_str());
      std::exit(1);
    }
    tokens.push_back(nlohmann::json::parse(body)["token"]);
  }

  // Each team's clients read its inbox's pages, and complete its items: the items after the
  // direct ones, in runs, first the paced runs' and then the back-to-back run's.
  std::vector<std::vector<Job>> listings(users.size());
  for (int i = 0; i < size.listings; ++i) {
    const std::size_t team = i % users.size();
    const std::string& cursor = pages[team][i % pages[team].size()];
    listings[team].push_back({bhttp::verb::get,
                              "/api/v1/work-items?inbox=caseworker" +
                                  (cursor.empty() ? "" : "&cursor=" + url_encode(cursor)),
                              ""});
  }
  Id next_item = first_item + size.items + size.completions;
  const auto completions_of = [&](int n) {
    std::vector<std::vector<Job>> out(users.size());
    for (const Id end = next_item + n; next_item < end; ++next_item) {
      out[(next_item - first_item) % users.size()].push_back(
          {bhttp::verb::post, "/api/v1/work-items/" + std::to_string(next_item) + "/complete",
           R"({"outcome":"done"})"});
    }
    return out;
  };
  std::vector<Paced> paced_runs;
  for (std::size_t r = 0; r < size.turns_per_second.size(); ++r) {
    const double rate = size.turns_per_second[r] * size.clients;
    paced_runs.push_back(paced_turns(port, tokens, size.clients, rate, size.seconds, listings,
                                     completions_of(paced_items[r])));
  }
  const auto l0 = Stopwatch::now();
  auto http_list = load(port, per_client(tokens, size.clients), listings);
  const double list_rate =
      size.listings / std::chrono::duration<double>(Stopwatch::now() - l0).count();
  const auto completions = completions_of(size.completions);
  const auto h0 = Stopwatch::now();
  auto http_complete = load(port, per_client(tokens, size.clients), completions);
  const double http_rate =
      size.completions / std::chrono::duration<double>(Stopwatch::now() - h0).count();
  server.reset();

  // Nothing lost or doubled: each item completed once, by its request, and its instance with it.
  const std::int64_t completed_items =
      count(db, "SELECT count(*) FROM work_items WHERE status = 'completed'");
  const std::int64_t completed_instances =
      count(db, "SELECT count(*) FROM instances WHERE status = 'completed'");
  std::int64_t expected = 2 * static_cast<std::int64_t>(size.completions);
  std::int64_t failures = http_list.failures + http_complete.failures;
  for (const Paced& p : paced_runs) {
    expected += p.completion.succeeded();
    failures += p.listing.failures + p.completion.failures;
  }
  const bool exact =
      completed_items == expected && completed_instances == expected && failures == 0;

  const double direct_p99 = direct_list.percentile(0.99);
  std::printf(
      "Paced: each client lists a page and completes an item once per turn.\n\n"
      "| turns a second, each client (all clients) | listing p50 | listing p99 | p99 / direct "
      "p99 | completion p99 | target |\n|---|---|---|---|---|---|\n");
  bool paced_met = true;
  for (std::size_t r = 0; r < paced_runs.size(); ++r) {
    Paced& p = paced_runs[r];
    const double per_client = size.turns_per_second[r];
    const double p99 = p.listing.percentile(0.99);
    const bool judged = per_client == 1;
    if (judged) paced_met = p99 < 50;
    std::printf("| %.1f (%.0f /s) | %.2f ms | %.2f ms | %.0fx | %.2f ms | %s |\n", per_client,
                per_client * size.clients, p.listing.percentile(0.5), p99,
                p99 / std::max(direct_p99, 1e-6), p.completion.percentile(0.99),
                judged ? (paced_met ? "p99 < 50 ms (met)" : "p99 < 50 ms (MISSED)") : "");
  }
  std::printf(
      "\nBack to back: every client sends its next request as soon as it has the answer.\n\n"
      "| measure | HTTP p50 | HTTP p99 | HTTP rate | direct p50 | direct p99 |\n"
      "|---|---|---|---|---|---|\n");
  std::printf(
      "| inbox listing (a page of 50, by due date, for the user's team) | %.2f ms | "
      "%.2f ms | %.0f /s | %.3f ms | %.3f ms |\n",
      http_list.percentile(0.5), http_list.percentile(0.99), list_rate, direct_list.percentile(0.5),
      direct_p99);
  std::printf("\n| measure | HTTP | direct | HTTP / direct | target |\n|---|---|---|---|---|\n");
  std::printf(
      "| work items completed, each resuming its instance | %.0f /s | %.0f /s | %.2fx | >= "
      "500/s %s |\n",
      http_rate, direct_rate, http_rate / direct_rate, http_rate >= 500 ? "(met)" : "(MISSED)");
  std::printf(
      "| items and instances completed, failed requests | %lld, %lld, %lld | %lld, %lld, 0 %s "
      "| | |\n",
      static_cast<long long>(completed_items), static_cast<long long>(completed_instances),
      static_cast<long long>(failures), static_cast<long long>(expected),
      static_cast<long long>(expected), exact ? "(met)" : "(MISSED)");
  std::fflush(stdout);
  return exact && paced_met && http_rate >= 500;
}

}  // namespace casekit::bench
