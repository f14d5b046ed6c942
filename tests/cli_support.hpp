// Runs the casekit binary in a temporary folder, for end-to-end tests.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <regex>
#include <thread>

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

// `casekit serve --http 127.0.0.1:0` (and any further arguments) on a Cli's database, in a
// child process with its output in files; SIGKILLed if the test ends before stop().
class ServeProcess {
 public:
  explicit ServeProcess(Cli& cli, std::vector<std::string> more = {})
      : out_(cli.dir.path() / ("serve-" + std::to_string(++count_) + ".out")),
        err_(cli.dir.path() / ("serve-" + std::to_string(count_) + ".err")) {
    std::vector<std::string> args = {CASEKIT_BINARY, "serve",  "--http",
                                     "127.0.0.1:0",  "--poll", "1"};
    args.insert(args.end(), more.begin(), more.end());
    std::fflush(nullptr);  // else the child would write the parent's buffered output again
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      // The child: the program, with its output in files; exits if exec fails.
      if (chdir(cli.dir.path().c_str()) != 0) _exit(127);
      std::freopen(out_.c_str(), "w", stdout);
      std::freopen(err_.c_str(), "w", stderr);
      setenv("CASEKIT_HOME", cli.home.c_str(), 1);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(CASEKIT_BINARY, argv.data());
      _exit(127);
    }
  }
  ~ServeProcess() {
    if (!exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  // The port it listens on, once it does (within 10 s), else 0.
  unsigned short port() {
    const std::regex listening("serve: http on 127\\.0\\.0\\.1:([0-9]+)");
    for (int i = 0; i < 500; ++i) {
      std::smatch m;
      const std::string text = slurp(out_);
      if (std::regex_search(text, m, listening))
        return static_cast<unsigned short>(std::stoi(m[1]));
      if (has_exited()) return 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return 0;
  }
  // Sends `signal` (none: waits for it to exit by itself) and waits up to 10 s for the exit
  // status; -1 if it did not exit.
  int stop(int signal = SIGTERM) {
    if (!exited_ && signal != 0) kill(pid_, signal);
    for (int i = 0; i < 500 && !has_exited(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return exited_ && WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  }
  std::string out() const { return slurp(out_); }
  std::string err() const { return slurp(err_); }
  pid_t pid() const { return pid_; }

 private:
  bool has_exited() {
    if (!exited_ && waitpid(pid_, &status_, WNOHANG) == pid_) exited_ = true;
    return exited_;
  }
  static inline int count_ = 0;
  std::filesystem::path out_, err_;
  pid_t pid_ = -1;
  int status_ = 0;
  bool exited_ = false;
};

}  // namespace casekit::test
