// The HTTP API as `casekit serve --http` runs it: the listener, the routes, the password
// pool and the loop's heartbeat, put together on the loop that fires timers and schedules.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "engine/http/api.hpp"
#include "engine/http/http_server.hpp"
#include "engine/http/metrics.hpp"
#include "engine/http/web_pages.hpp"

namespace casekit::http {

struct ServiceOptions {
  std::string listen = "127.0.0.1:8080";  // ADDR:PORT, or a port on loopback; 0 picks one
  bool secure_cookie = false;
  std::filesystem::path outbox = "outbox";  // ApiOptions::outbox
  Limits limits;
  std::size_t hash_threads = 2;  // password checks run on these, never on the loop
  std::size_t max_hashes = 8;    // queued or running at once; beyond it, logins get 429
  // The web inbox's folder (web/: pages, scripts, installed assets); empty serves the API only.
  std::filesystem::path web;
};

class Service {
 public:
  // Binds at once: an address in use is an error here. `draining` says the process is
  // stopping, for /readyz.
  Service(
      boost::asio::io_context& io, Engine& engine, ProcedureRuntime& runtime, Schedules& schedules,
      const ServiceOptions& options, std::function<bool()> draining = [] { return false; });

  void start();
  // Stops accepting; requests in flight are answered (busy() counts them).
  void stop();
  std::size_t busy() const { return server_.busy(); }
  boost::asio::ip::tcp::endpoint local_endpoint() const { return server_.local_endpoint(); }

  // For tests.
  const Router& router() const { return router_; }
  const PasswordPool& passwords() const { return passwords_; }
  const HttpServer& server() const { return server_; }

 private:
  void sample();  // the activations of the hour, for GET /api/v1/activity; every 5 seconds

  PasswordPool passwords_;
  LoopWatch watch_;
  boost::asio::steady_timer sampler_;
  Metrics metrics_;
  Api api_;
  std::optional<WebPages> web_;
  Router router_;
  HttpServer server_;
};

}  // namespace casekit::http
