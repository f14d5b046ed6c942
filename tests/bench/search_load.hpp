// The casegroup reads under load (`casekit_bench search`, and part of `make bench`): a store of
// casegroups as the phase-2 transition writes them from `dw generate`'s extract of `rows` rows,
// and `clients` people, each signed in as a caseworker of their own (the search limit is per
// person), who at a stated pace search (by CSA reference, NINO, full name or the start of a
// surname, in turn), open a casegroup and list their inbox. Prints the latencies beside the
// same engine calls (CasegroupReads::search and view, WorkItems::query: the same SQL) made
// directly in the same run, and checks that every request was answered.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace casekit::bench {

struct SearchLoadSize {
  // About 88% of rows become casegroups (the rest are exceptions, or a second case on a
  // casegroup made already): 1,370,000 rows make the 1.2 million casegroups of the target.
  std::int64_t rows = 1'370'000;
  int clients = 200;
  // Turns a second for each client. A person may search 30 times a minute
  // (CasegroupReads::kSearchesPerMinute), so 0.4 (24 a minute) is as fast as people go.
  std::vector<double> turns_per_second = {0.2, 0.4};
  double seconds = 20;  // each paced run
  // Made directly, of each: searches, views and listings; 10 searches a person, within
  // the limit with what follows.
  int direct_per_client = 10;
  int views = 20'000;  // casegroups opened back to back over HTTP
  // Where the store is built; when it is there already (from an earlier run of the same
  // size), it is used as it is, to try a change to the reads without building it again.
  // Empty: a new store in the benchmark's folder, removed after.
  std::filesystem::path store;
};

// Returns false when a target is missed or a request failed (both are printed).
bool search_figures(const std::filesystem::path& dir, const SearchLoadSize& size);

}  // namespace casekit::bench
