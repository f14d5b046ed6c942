#include "engine/http/service.hpp"

namespace casekit::http {

Service::Service(boost::asio::io_context& io, Engine& engine, ProcedureRuntime& runtime,
                 Schedules& schedules, const ServiceOptions& options,
                 std::function<bool()> draining)
    : passwords_(io, options.hash_threads, options.max_hashes),
      watch_(io),
      api_{engine,
           runtime,
           schedules,
           passwords_,
           watch_,
           metrics_,
           {options.secure_cookie, options.outbox},
           std::move(draining)},
      router_(engine.accounts, engine.db),
      server_(io, parse_endpoint(options.listen), router_, options.limits) {
  add_routes(router_, api_);
  if (!options.web.empty()) {
    web_.emplace(options.web);
    router_.serve_web(&*web_);
  }
  server_.observe(
      [this](const std::string& method, const std::string& route, int status, double seconds) {
        metrics_.record_request(route, method, status, seconds);
      });
}

void Service::start() {
  watch_.start();
  server_.start();
}

void Service::stop() {
  server_.stop();
  watch_.stop();
}

}  // namespace casekit::http
