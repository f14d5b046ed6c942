// GET /metrics in the Prometheus text format (exposition 0.0.4). What is in the store
// (instances, incidents, timers, schedule runs, work items, letters, locked accounts) is
// read from it at each scrape, so it is right whoever changed it (this process, the CLI, an
// import); what only this process sees (its HTTP requests, its activations, the logins it
// refused) it counts as it goes. No label carries anything personal: routes are patterns,
// never paths, and no label names a user or a casegroup.
#pragma once

#include <map>

#include <nlohmann/json.hpp>
#include <string>
#include <tuple>

#include "engine/core/histogram.hpp"
#include "engine/durable/runtime.hpp"
#include "engine/schedule/schedules.hpp"

namespace casekit::http {

class Metrics {
 public:
  void record_request(const std::string& route, const std::string& method, int status,
                      double seconds);
  void record_login_refused() { ++logins_refused_; }
  std::string scrape(Engine& engine, const ProcedureRuntime& runtime, Schedules& schedules) const;

  // Activations by hour of the engine's clock, for the console's chart: called every few
  // seconds with the runtime's running total, it adds what is new to the hour `now` is in.
  // Only this process's activations: like casekit_activations_total.
  void sample_activations(Instant now, std::uint64_t total);
  // The 24 hours up to `now`'s, oldest first: {"hour", "activations", "incidents"}, the
  // incidents being those opened in the hour (read from the store, whoever opened them).
  nlohmann::json activity(Engine& engine, Instant now) const;

 private:
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;  // by route pattern
  std::uint64_t logins_refused_ = 0;
  std::map<std::int64_t, std::uint64_t> activations_by_hour_;  // hours since the epoch
  std::uint64_t activations_seen_ = 0;
};

}  // namespace casekit::http
