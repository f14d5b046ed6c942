// `casekit serve`: a Boost.Asio event loop on real time. Each tick runs what is runnable,
// fires due timers and schedules, then sleeps until the next timer, the next schedule fire
// or the poll interval (work other processes create: a task completed from the CLI), whichever
// is first. SIGINT and SIGTERM stop it between ticks, so nothing is left half done.
#pragma once

#include <utility>  // before Asio: its awaitable.hpp uses std::exchange without including it

#include <boost/asio.hpp>

#include <chrono>
#include <functional>
#include <vector>

#include "engine/durable/runtime.hpp"
#include "engine/schedule/schedules.hpp"

namespace casekit {

class Server {
 public:
  Server(Engine& engine, Schedules& schedules, ProcedureRuntime& runtime, std::chrono::seconds poll,
         std::function<void(std::string_view)> print);
  // Blocks until a signal arrives.
  void run();
  // The loop, for what else serves from it (the HTTP API).
  boost::asio::io_context& io() { return io_; }
  // On SIGINT or SIGTERM each hook stops taking new work; the loop then ends once no
  // `busy` says it still has work in flight, or after the grace period whatever is left.
  void on_stop(std::function<void()> hook, std::function<bool()> busy) {
    stop_hooks_.push_back(std::move(hook));
    busy_.push_back(std::move(busy));
  }
  bool stopping() const { return stopping_; }

 private:
  void tick();
  void arm();
  void wait_for_drain(std::chrono::steady_clock::time_point deadline);

  Engine& engine_;
  Schedules& schedules_;
  ProcedureRuntime& runtime_;
  std::chrono::seconds poll_;
  std::function<void(std::string_view)> print_;
  bool first_tick_ = true;
  bool stopping_ = false;
  std::vector<std::function<void()>> stop_hooks_;
  std::vector<std::function<bool()>> busy_;
  std::chrono::seconds grace_{10};
  boost::asio::io_context io_;
  boost::asio::signal_set signals_{io_, SIGINT, SIGTERM};
  boost::asio::system_timer timer_{io_};
  boost::asio::steady_timer grace_timer_{io_};
};

}  // namespace casekit
