// The HTTP listener: Boost.Beast on the Asio loop `casekit serve` already runs, one thread,
// so a request's handler has the database to itself between two ticks of the timers. One
// Connection object per client reads one request at a time under a deadline (a slow client
// is cut off, not waited for), refuses an oversized body (413) or header block (431), and
// logs one JSON line per answer. stop() stops accepting, closes idle connections and lets
// the busy ones finish their answer: requests in flight drain, none is cut in half.
#pragma once

#include <utility>  // before Asio: its awaitable.hpp uses std::exchange without including it

#include <boost/asio.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "engine/http/router.hpp"

namespace spdlog {
class logger;
}

namespace casekit::http {

// docs/http-api.md ("Limits") says the same.
struct Limits {
  std::size_t body = 64 << 10;   // bytes; more is refused with 413
  std::size_t header = 8 << 10;  // bytes of request line and headers; more is refused with 431
  std::chrono::milliseconds read_timeout{10000};  // to read one whole request, or to idle
  std::size_t max_connections = 512;              // open at once; beyond it: 503 and close
};

class Connection;

class HttpServer {
 public:
  // Binds at once, so a port already taken is an error here and not later.
  HttpServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& at, Router& router,
             Limits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  boost::asio::ip::tcp::endpoint local_endpoint() const;
  void start();
  void stop();
  bool stopping() const { return stopping_; }
  // Connections with a request being answered.
  std::size_t busy() const;
  std::size_t connections() const { return connections_.size(); }
  // Told of every answer, after it is logged: its method, route pattern, status and how
  // long it took in seconds (the metrics).
  using Observer = std::function<void(const std::string& method, const std::string& route,
                                      int status, double seconds)>;
  void observe(Observer observer) { observer_ = std::move(observer); }

 private:
  friend class Connection;
  void accept();
  void forget(Connection* c) { connections_.erase(c); }

  boost::asio::ip::tcp::acceptor acceptor_;
  Router& router_;
  Limits limits_;
  std::shared_ptr<spdlog::logger> access_log_;
  Observer observer_;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections_;
  bool stopping_ = false;
};

// "127.0.0.1:8080", "[::1]:8080", "localhost:0" (0: any free port).
boost::asio::ip::tcp::endpoint parse_endpoint(const std::string& text);

}  // namespace casekit::http
