#include "engine/runtime/script_runner.hpp"

#include <optional>

namespace casekit {

std::vector<LibraryDir> library_dirs(const Home& home) {
  return {{home.procedures() / "lib", "procedures/lib"}, {home.scripts() / "lib", "scripts/lib"}};
}

namespace {

// `file` relative to `folder` when it is inside it.
std::optional<std::filesystem::path> inside(const std::filesystem::path& file,
                                            const std::filesystem::path& folder) {
  std::error_code ec;
  const auto absolute = std::filesystem::weakly_canonical(file, ec);
  if (ec) return std::nullopt;
  const auto relative = absolute.lexically_relative(folder);
  if (relative.empty() || *relative.begin() == "..") return std::nullopt;
  return relative;
}

}  // namespace

std::string display_name(const std::filesystem::path& file) {
  std::error_code ec;
  const auto cwd = std::filesystem::current_path(ec);
  const auto relative = ec ? std::nullopt : inside(file, cwd);
  return relative ? relative->string() : file.string();
}

std::string script_actor(const Home& home, const std::filesystem::path& file) {
  std::error_code ec;
  const auto root = std::filesystem::weakly_canonical(home.root, ec);
  const auto relative = ec ? std::nullopt : inside(file, root);
  return "script:" + (relative ? relative->generic_string() : display_name(file));
}

ExecStats exec_script(Engine& engine, const std::filesystem::path& file,
                      const SandboxLimits& limits,
                      const std::function<void(std::string_view)>& print,
                      lua::ProcedureStarter* procedures) {
  const std::string name = display_name(file);
  const std::string source = read_script(file);
  lua::Host host{engine, script_actor(engine.home, file), print};
  host.procedures = procedures;
  ActorScope actor(engine.db, host.actor);
  Transaction tx(engine.db);
  Sandbox sandbox(limits, library_dirs(engine.home), &host);
  sandbox.load(source, name);
  sandbox.call(0, 0);
  tx.commit();
  return {sandbox.memory_used(), sandbox.instructions_used()};
}

}  // namespace casekit
