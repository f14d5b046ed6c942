// The server for the HTTP benchmarks, as `casekit serve --http` runs it: http::Service on one
// io_context and one thread, which alone touches the database while it runs, on a loopback
// port of its own, with no schedules (the load is on casework routes). stderr, where its
// access log goes, is quiet meanwhile. When it goes it stops, answering requests in flight.
#pragma once

#include <thread>

#include "engine/durable/runtime.hpp"
#include "engine/http/service.hpp"
#include "engine/schedule/schedules.hpp"
#include "tests/bench/load_client.hpp"

namespace casekit::bench {

class BenchServer {
 public:
  BenchServer(Engine& engine, ProcedureRuntime& runtime)
      : schedules_(engine, {}, {}, &runtime),
        service_(io_, engine, runtime, schedules_, loopback()) {
    service_.start();
    loop_ = std::thread([this] { io_.run(); });
  }
  ~BenchServer() {
    boost::asio::post(io_, [this] { service_.stop(); });
    loop_.join();
  }
  BenchServer(const BenchServer&) = delete;
  BenchServer& operator=(const BenchServer&) = delete;

  unsigned short port() const { return service_.local_endpoint().port(); }

 private:
  static http::ServiceOptions loopback() {
    http::ServiceOptions options;
    options.listen = "127.0.0.1:0";
    return options;
  }

  QuietStderr quiet_;  // first made, last gone: the server's last lines are quiet too
  boost::asio::io_context io_;
  Schedules schedules_;
  http::Service service_;
  std::thread loop_;
};

}  // namespace casekit::bench
