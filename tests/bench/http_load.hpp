// The HTTP API under load (`casekit_bench http`, and part of `make bench`): a store of
// `items` open work items spread over the six owner teams (each an instance waiting on
// task.await, on an SR its team owns), and `clients` concurrent keep-alive clients on
// loopback, each signed in as a caseworker of one team, listing their inbox and completing
// items: at a stated pace (the listing's latency at each), then back to back (the rates the
// server can sustain). Prints them beside the same engine calls (the same SQL) made directly
// in the same run, and checks that nothing was lost or doubled.
#pragma once

#include <filesystem>
#include <vector>

namespace casekit::bench {

struct HttpLoadSize {
  int items = 100'000;  // open, and left open: the listing reads among them
  int clients = 200;
  int listings = 20'000;     // inbox pages read over HTTP; as many directly
  int completions = 10'000;  // completed over HTTP; as many again directly
  // The paced runs: each client takes a turn (a page listed, an item completed) this many
  // times a second, for `seconds` each. The target is judged at one turn a second.
  std::vector<double> turns_per_second = {0.5, 1, 2, 4};
  double seconds = 10;
};

// Returns false when a target is missed or a check failed (both are printed).
bool http_figures(const std::filesystem::path& dir, const HttpLoadSize& size);

}  // namespace casekit::bench
