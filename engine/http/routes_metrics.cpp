// GET /metrics: the Prometheus text format (exposition 0.0.4), for an operator signed in or
// a scraper holding the metrics token (`casekit user metrics-token`); and the last day's
// activity by hour, for the console's chart.
#include "engine/core/error.hpp"
#include "engine/http/api.hpp"

namespace casekit::http {

void add_metrics_routes(Router& router, Api& api) {
  router.add({"GET",
              "/metrics",
              Access::metrics,
              "Metrics in the Prometheus text format (operators, or the metrics token)",
              [&api](Call& c) {
                if (c.who && !reads_metrics(c.user().role)) {
                  throw Error(ErrorCode::forbidden,
                              "only operators (or the metrics token) read the metrics");
                }
                no_query(c);
                Response r;
                r.text = api.metrics.scrape(api.engine, api.runtime, api.schedules);
                r.headers.emplace_back("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                return r;
              },
              {}});
  router.add({"GET",
              "/api/v1/activity",
              Access::signed_in,
              "Activations and incidents opened in each of the last 24 hours (operators)",
              [&api](Call& c) {
                require_operator(c.user(), "read the activity");
                no_query(c);
                const Instant now = api.engine.clock.now();
                api.metrics.sample_activations(now, api.runtime.stats().activations);
                return json_response({{"hours", api.metrics.activity(api.engine, now)}});
              },
              {}});
}

}  // namespace casekit::http
