#include "engine/http/service.hpp"

namespace casekit::http {

Service::Service(boost::asio::io_context& io, Engine& engine, ProcedureRuntime& runtime,
                 Schedules& schedules, const ServiceOptions& options,
                 std::function<bool()> draining)
    : passwords_(io, options.hash_threads, options.max_hashes),
      watch_(io),
      sampler_(io),
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
  sample();
}

void Service::stop() {
  server_.stop();
  watch_.stop();
  sampler_.cancel();
}

void Service::sample() {
  metrics_.sample_activations(api_.engine.clock.now(), api_.runtime.stats().activations);
  sampler_.expires_after(std::chrono::seconds(5));
  sampler_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) sample();
  });
}

}  // namespace casekit::http
