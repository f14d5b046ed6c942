// A synthetic Data Warehouse extract for demos, tests and benchmarks: realistic names and
// addresses, the mix of cases the transition procedure branches on, and a share of bad rows
// of every kind the validator refuses. The same seed always writes the same file.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace casekit {

struct DwGenerateOptions {
  std::int64_t count = 1000;
  std::uint64_t seed = 1;
  double bad_ratio = 0.0;  // 0..1: the share of rows given one defect
  std::string extract_date;
};

struct DwGenerateCounts {
  std::int64_t rows = 0;
  std::int64_t bad = 0;
};

DwGenerateCounts generate_dw_extract(std::ostream& out, const DwGenerateOptions& options);

}  // namespace casekit
