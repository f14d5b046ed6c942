// A duration histogram with fixed bounds, as Prometheus reads one: how many observations
// fell at or under each bound, their count and their sum. It measures the machine (how long
// an activation or a request took), so it is fed from the steady clock, never the engine's.
#pragma once

#include <array>
#include <cstdint>

namespace casekit {

class Histogram {
 public:
  static constexpr std::array<double, 10> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                     0.025,  0.05,  0.1,    0.5,   2.5};

  void add(double seconds) {
    for (std::size_t i = 0; i < kBounds.size(); ++i) {
      if (seconds <= kBounds[i]) {
        ++within_[i];
        break;
      }
    }
    ++count_;
    sum_ += seconds;
  }
  // Observations at or under kBounds[i] (cumulative, as the exposition format has it).
  std::uint64_t at_or_under(std::size_t i) const {
    std::uint64_t n = 0;
    for (std::size_t j = 0; j <= i; ++j) n += within_[j];
    return n;
  }
  std::uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::array<std::uint64_t, kBounds.size()> within_{};  // in (kBounds[i-1], kBounds[i]]
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

}  // namespace casekit
