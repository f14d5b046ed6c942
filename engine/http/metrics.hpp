// GET /metrics in the Prometheus text format (exposition 0.0.4). What is in the store
// (instances, incidents, timers, schedule runs, work items, letters, locked accounts) is
// read from it at each scrape, so it is right whoever changed it (this process, the CLI, an
// import); what only this process sees (its HTTP requests, its activations, the logins it
// refused) it counts as it goes. No label carries anything personal: routes are patterns,
// never paths, and no label names a user or a casegroup.
#pragma once

#include <map>
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

 private:
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;  // by route pattern
  std::uint64_t logins_refused_ = 0;
};

}  // namespace casekit::http
