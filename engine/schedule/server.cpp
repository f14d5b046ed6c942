#include "engine/schedule/server.hpp"

#include <spdlog/spdlog.h>

namespace casekit {

Server::Server(Engine& engine, Schedules& schedules, ProcedureRuntime& runtime,
               std::chrono::seconds poll, std::function<void(std::string_view)> print)
    : engine_(engine),
      schedules_(schedules),
      runtime_(runtime),
      poll_(poll),
      print_(std::move(print)) {}

void Server::run() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("serve: signal {}, stopping", signal);
    stopping_ = true;
    timer_.cancel();
    for (auto& hook : stop_hooks_) hook();
    signals_.async_wait([this](const boost::system::error_code& e, int) {
      if (!e) io_.stop();  // a second signal: stop now
    });
    wait_for_drain(std::chrono::steady_clock::now() + grace_);
  });
  spdlog::info("serve: started at {}", format_instant(engine_.clock.now()));
  boost::asio::post(io_, [this] { tick(); });
  io_.run();
  spdlog::info("serve: stopped");
}

// What is still in flight gets until `deadline` to finish; then the loop stops regardless.
void Server::wait_for_drain(std::chrono::steady_clock::time_point deadline) {
  bool busy = false;
  for (const auto& b : busy_) busy = busy || b();
  if (!busy || std::chrono::steady_clock::now() >= deadline) {
    if (busy) spdlog::warn("serve: stopping with requests still in flight");
    io_.stop();
    return;
  }
  grace_timer_.expires_after(std::chrono::milliseconds(20));
  grace_timer_.async_wait([this, deadline](const boost::system::error_code& e) {
    if (!e) wait_for_drain(deadline);
  });
}

void Server::tick() {
  try {
    runtime_.drain();
    runtime_.fire_timers();
    const auto runs = schedules_.tick(engine_.clock.now(), first_tick_, print_);
    for (const auto& r : runs) {
      spdlog::info("serve: ran {} ({}): {}", r.schedule.value_or("-"), r.trigger, r.status);
    }
    if (!runs.empty()) runtime_.fire_timers();
    first_tick_ = false;
  } catch (const std::exception& e) {
    // A busy or failing store must not end the server; the next tick tries again.
    spdlog::error("serve: {}", e.what());
  }
  arm();
}

void Server::arm() {
  const Instant now = engine_.clock.now();
  Instant next = now + poll_;
  try {
    if (auto t = runtime_.next_timer()) next = std::min(next, *t);
    if (auto f = schedules_.next_fire(now)) next = std::min(next, *f);
  } catch (const std::exception& e) {
    spdlog::error("serve: {}", e.what());
  }
  timer_.expires_at(std::chrono::system_clock::time_point(next) + std::chrono::milliseconds(5));
  if (stopping_) return;
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopping_) tick();
  });
}

}  // namespace casekit
