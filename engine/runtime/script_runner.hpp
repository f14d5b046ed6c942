// Running an operator script (casekit exec): one sandbox, one transaction. Either every
// change the script made commits, or (on any error) none does.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/domain/engine.hpp"
#include "engine/runtime/sandbox.hpp"

namespace casekit {

// procedures/lib then scripts/lib under the engine's home.
std::vector<LibraryDir> library_dirs(const Home& home);

// The name a script goes by in errors: its path relative to the working directory when it
// is inside it, else as given.
std::string display_name(const std::filesystem::path& file);

// Who the audit names for a script's changes: "script:" and its path in the casekit home when
// it is there ("script:scripts/review_date_monitor.lua", whatever folder casekit was started
// from, for a scheduled run as for `casekit exec`), else its display_name.
std::string script_actor(const Home& home, const std::filesystem::path& file);

struct ExecStats {
  std::size_t memory_bytes = 0;
  std::uint64_t instructions = 0;
};

// `procedures`, when given, lets the script start procedure instances (a monitor starting
// the procedure for what it raised); they are stored with the script's changes and run when
// the caller next drains the runtime.
ExecStats exec_script(Engine& engine, const std::filesystem::path& file,
                      const SandboxLimits& limits,
                      const std::function<void(std::string_view)>& print,
                      lua::ProcedureStarter* procedures = nullptr);

}  // namespace casekit
