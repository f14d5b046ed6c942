// `casekit serve`: a Boost.Asio event loop on real time. Each tick runs what is runnable,
// fires due timers and schedules, then sleeps until the next timer, the next schedule fire
// or the poll interval (work other processes create: a task completed from the CLI), whichever
// is first. SIGINT and SIGTERM stop it between ticks, so nothing is left half done.
#pragma once

#include <utility>  // before Asio: its awaitable.hpp uses std::exchange without including it

#include <boost/asio.hpp>

#include <chrono>
#include <functional>

#include "engine/durable/runtime.hpp"
#include "engine/schedule/schedules.hpp"

namespace casekit {

class Server {
 public:
  Server(Engine& engine, Schedules& schedules, ProcedureRuntime& runtime, std::chrono::seconds poll,
         std::function<void(std::string_view)> print);
  // Blocks until a signal arrives.
  void run();

 private:
  void tick();
  void arm();

  Engine& engine_;
  Schedules& schedules_;
  ProcedureRuntime& runtime_;
  std::chrono::seconds poll_;
  std::function<void(std::string_view)> print_;
  bool first_tick_ = true;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_{io_, SIGINT, SIGTERM};
  boost::asio::system_timer timer_{io_};
};

}  // namespace casekit
