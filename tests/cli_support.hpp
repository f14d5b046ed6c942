// Runs the casekit binary in a temporary folder, for end-to-end tests.
#pragma once

#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/test_support.hpp"

namespace casekit::test {

struct Result {
  int status;
  std::string out;
  std::string err;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class Cli {
 public:
  // home: the folder with procedures/ and scripts/ (CASEKIT_HOME); the checkout by default.
  explicit Cli(std::filesystem::path home = kSourceDir) : home(std::move(home)) {
    std::filesystem::copy(kSourceDir / "scripts", dir.path() / "scripts",
                          std::filesystem::copy_options::recursive);
  }

  Result run(const std::string& args) {
    const auto out = dir.path() / "stdout";
    const auto err = dir.path() / "stderr";
    const std::string cmd = "cd '" + dir.path().string() + "' && CASEKIT_HOME='" + home.string() +
                            "' '" CASEKIT_BINARY "' " + args + " >'" + out.string() + "' 2>'" +
                            err.string() + "'";
    const int raw = std::system(cmd.c_str());
    return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, slurp(out), slurp(err)};
  }

  nlohmann::json json(const std::string& args) {
    const Result r = run(args);
    INFO(args << "\n" << r.err);
    REQUIRE(r.status == 0);
    return nlohmann::json::parse(r.out);
  }

  void seeded() {
    REQUIRE(run("init --simulated-clock 2026-11-20T07:00:00Z").status == 0);
    const Result seed = run("exec scripts/demo_seed.lua");
    INFO(seed.err);
    REQUIRE(seed.status == 0);
  }

  std::filesystem::path db() const { return dir.path() / "casekit.db"; }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir.path() / name) << text;
  }

  TempDir dir;
  std::filesystem::path home;
};

}  // namespace casekit::test
