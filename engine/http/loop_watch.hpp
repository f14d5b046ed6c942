// Whether the loop keeps time: a timer due every `beat` notes how late it fires. A loop held
// up by a long activation, a slow query or anything else that should not be on it shows as
// late beats, and /readyz turns that into 503 so that a load balancer sends people
// elsewhere until it recovers.
#pragma once

#include <utility>  // before Asio: its awaitable.hpp uses std::exchange without including it

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>

namespace casekit::http {

class LoopWatch {
 public:
  using clock = std::chrono::steady_clock;

  explicit LoopWatch(boost::asio::io_context& loop,
                     std::chrono::milliseconds beat = std::chrono::milliseconds(250),
                     std::chrono::milliseconds tolerated = std::chrono::seconds(2))
      : timer_(loop), beat_(beat), tolerated_(tolerated) {}

  void start() {
    last_ = clock::now();
    arm();
  }
  void stop() { timer_.cancel(); }

  // On the loop: the last beat came late, or the next one is overdue now.
  bool stalled() const { return late_ > tolerated_ || clock::now() - last_ > beat_ + tolerated_; }

 private:
  void arm() {
    timer_.expires_after(beat_);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      const auto now = clock::now();
      late_ = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_ - beat_);
      last_ = now;
      arm();
    });
  }

  boost::asio::steady_timer timer_;
  std::chrono::milliseconds beat_;
  std::chrono::milliseconds tolerated_;
  clock::time_point last_ = clock::now();
  std::chrono::milliseconds late_{0};
};

}  // namespace casekit::http
