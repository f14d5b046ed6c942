// The limit the transition benchmark measures against: the rows procedures/
// phase2_transition.lua writes for each extract row, written by a plain C++ loop of prepared
// statements in batches of 1,000 rows a transaction. No Lua, no instances, no history; the
// same validation, duplicate check and letters (rendered by the same templates). The audit
// is written only if the database audits: the transition benchmark's baseline turns it off
// (the domain rows alone), the search benchmark's store keeps it.
#pragma once

#include <istream>

#include "engine/domain/engine.hpp"

namespace casekit::bench {

struct PlainCounts {
  std::int64_t read = 0;
  std::int64_t transitioned = 0;
  std::int64_t exceptions = 0;
};

PlainCounts plain_transition(Engine& engine, std::istream& in);

}  // namespace casekit::bench
