#include "engine/runtime/script_runner.hpp"

namespace casekit {

std::vector<LibraryDir> library_dirs(const Home& home) {
  return {{home.procedures() / "lib", "procedures/lib"}, {home.scripts() / "lib", "scripts/lib"}};
}

std::string display_name(const std::filesystem::path& file) {
  std::error_code ec;
  const auto absolute = std::filesystem::weakly_canonical(file, ec);
  if (ec) return file.string();
  const auto relative = absolute.lexically_relative(std::filesystem::current_path(ec));
  if (ec || relative.empty() || *relative.begin() == "..") return file.string();
  return relative.string();
}

ExecStats exec_script(Engine& engine, const std::filesystem::path& file,
                      const SandboxLimits& limits,
                      const std::function<void(std::string_view)>& print,
                      lua::ProcedureStarter* procedures) {
  const std::string name = display_name(file);
  const std::string source = read_script(file);
  lua::Host host{engine, "script:" + name, print};
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
