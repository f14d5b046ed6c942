// casekit exec SCRIPT, casekit check FILE...
#include <spdlog/spdlog.h>

#include <iostream>

#include "engine/cli/cli.hpp"
#include "engine/runtime/lint.hpp"
#include "engine/runtime/script_runner.hpp"

namespace casekit::cli {

void add_script_commands(CLI::App& app, Context& ctx) {
  struct ExecOptions {
    std::string script;
    std::uint64_t max_instructions = SandboxLimits{}.instructions;
    std::size_t max_memory_mb = SandboxLimits{}.memory_bytes >> 20;
  };
  auto eo = std::make_shared<ExecOptions>();
  auto* exec = app.add_subcommand(
      "exec", "Run an operator script in the sandbox; its changes commit together or not at all");
  exec->add_option("script", eo->script, "the .lua file")->required();
  exec->add_option("--max-instructions", eo->max_instructions, "instruction budget")
      ->check(CLI::Range(std::uint64_t{1000}, std::uint64_t{100'000'000'000}));
  exec->add_option("--max-memory-mb", eo->max_memory_mb, "memory cap in MiB")
      ->check(CLI::Range(std::size_t{1}, std::size_t{4096}));
  exec->callback([&ctx, eo] {
    Engine& e = ctx.open();
    SandboxLimits limits;
    limits.instructions = eo->max_instructions;
    limits.memory_bytes = eo->max_memory_mb << 20;
    ProcedureRuntime& runtime = ctx.runtime();
    const ExecStats stats = exec_script(
        e, eo->script, limits, [](std::string_view line) { std::cout << line << "\n"; }, &runtime);
    runtime.drain();  // the instances the script started run to their first wait
    spdlog::info("{}: done ({} instructions, {} KiB)", eo->script, stats.instructions,
                 stats.memory_bytes >> 10);
  });

  struct CheckOptions {
    std::vector<std::string> files;
    bool json = false;
  };
  auto co = std::make_shared<CheckOptions>();
  auto* check = app.add_subcommand(
      "check",
      "Compile and lint scripts: syntax, unknown globals and functions, unknown SR "
      "types, letter codes and inboxes written as literals");
  check->add_option("files", co->files, "the .lua files")->required();
  check->add_flag("--json", co->json, "print JSON");
  check->callback([&ctx, co] {
    const Home home = ctx.resolved_home();
    const SrCatalogue sr = SrCatalogue::load(home.sr_catalogue());
    const LetterCatalogue letters = LetterCatalogue::load(home.letters());
    const InboxCatalogue inboxes = InboxCatalogue::load(home.inboxes());
    nlohmann::json out = nlohmann::json::array();
    int problems = 0;
    for (const auto& file : co->files) {
      const std::string name = display_name(file);
      for (const auto& d : lint_source(read_script(file), name, {&sr, &letters, &inboxes})) {
        ++problems;
        out.push_back({{"file", name}, {"line", d.line}, {"message", d.message}});
        if (!co->json) std::cerr << name << ":" << d.line << ": " << d.message << "\n";
      }
    }
    if (co->json) print_json(out);
    if (problems) {
      throw Error(ErrorCode::invalid,
                  std::to_string(problems) + " problem" + (problems == 1 ? "" : "s") + " found");
    }
    if (!co->json) {
      std::cout << co->files.size() << " file" << (co->files.size() == 1 ? "" : "s") << " OK\n";
    }
  });
}

}  // namespace casekit::cli
