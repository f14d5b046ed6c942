// Generates docs/lua-api.md from the binding declarations, so the reference cannot drift
// from the code: a test compares the file with this output.
#pragma once

#include <span>
#include <string>
#include <utility>

namespace casekit::lua {

struct Module;

struct GlobalDoc {
  const char* name;
  const char* doc;
};

// `globals` are the sandbox's standard globals (the runtime layer knows them); `test_modules`
// are modules only scenario tests see (the `t` table, declared in engine/scenario/).
std::string api_reference_markdown(std::span<const GlobalDoc> globals,
                                   std::span<const Module* const> test_modules = {});

}  // namespace casekit::lua
