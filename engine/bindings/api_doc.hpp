// Generates docs/lua-api.md from the binding declarations, so the reference cannot drift
// from the code: a test compares the file with this output.
#pragma once

#include <span>
#include <string>
#include <utility>

namespace casekit::lua {

struct GlobalDoc {
  const char* name;
  const char* doc;
};

std::string api_reference_markdown(std::span<const GlobalDoc> globals);

}  // namespace casekit::lua
