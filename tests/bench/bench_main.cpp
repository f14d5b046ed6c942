// `make bench`: the binding-call and activation figures of docs/performance.md.
//
// Each figure is the median of several rounds, and the binding call is reported as a ratio
// to a plain Lua function call measured in the same process a moment before, so that a
// noisy, shared machine moves both numbers together.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "engine/domain/engine.hpp"
#include "engine/runtime/sandbox.hpp"
#include "engine/runtime/script_runner.hpp"
#include "engine/store/schema.hpp"

using namespace casekit;
using Stopwatch = std::chrono::steady_clock;

namespace {

constexpr int kRounds = 7;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median nanoseconds per iteration of `loop_body` (a Lua statement run `n` times).
double lua_ns_per_call(Sandbox& sandbox, const std::string& setup, const std::string& body,
                       long n) {
  const std::string code =
      setup + "\nreturn function() for i = 1, " + std::to_string(n) + " do " + body + " end end";
  sandbox.load(code, "bench.lua");
  sandbox.call(0, 1);
  std::vector<double> rounds;
  for (int r = 0; r < kRounds; ++r) {
    lua_pushvalue(sandbox.state(), -1);
    const auto t0 = Stopwatch::now();
    sandbox.call(0, 0);
    const auto t1 = Stopwatch::now();
    rounds.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / n);
  }
  lua_pop(sandbox.state(), 1);
  return median(rounds);
}

double us_per_activation(const std::function<void()>& activation, int n) {
  std::vector<double> rounds;
  for (int r = 0; r < kRounds; ++r) {
    const auto t0 = Stopwatch::now();
    for (int i = 0; i < n; ++i) activation();
    const auto t1 = Stopwatch::now();
    rounds.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count() / n);
  }
  return median(rounds);
}

}  // namespace

int main() {
  char tmpl[] = "/tmp/casekit-bench-XXXXXX";
  if (!mkdtemp(tmpl)) return 1;
  const std::filesystem::path dir = tmpl;
  SimulatedClock clock(parse_instant("2026-11-20T09:00:00Z"));
  int status = 0;
  {
    Database db(dir / "bench.db", OpenMode::create);
    db.set_clock(&clock);
    migrate(db);
    Engine engine(db, clock, Home{CASEKIT_DEFAULT_HOME});
    lua::Host host{engine, "bench", {}};
    SandboxLimits limits;
    limits.instructions = 100'000'000'000;  // the loops here are long on purpose
    Sandbox sandbox(limits, {}, &host);

    constexpr long kCalls = 5'000'000;
    // Both callees are locals, so the loop measures the call and nothing else.
    const double lua_call = lua_ns_per_call(
        sandbox, "local function add(a, b) return a + b end local x = 0", "x = add(i, 1)", kCalls);
    const double binding_call =
        lua_ns_per_call(sandbox, "local add = money.add local x = 0", "x = add(i, 1)", kCalls);
    const double binding_via_module =
        lua_ns_per_call(sandbox, "local x = 0", "x = money.add(i, 1)", kCalls);
    const double ratio = binding_call / lua_call;

    const double activation = us_per_activation(
        [&] {
          Sandbox fresh({}, library_dirs(engine.home), &host);
          fresh.load("local today = clock.today() return today", "activation.lua");
          fresh.call(0, 1);
        },
        2000);

    std::printf("casekit bench (median of %d rounds)\n\n", kRounds);
    std::printf("| measure | value | target |\n|---|---|---|\n");
    std::printf("| plain Lua function call | %.1f ns | baseline |\n", lua_call);
    std::printf("| binding call (money.add, local) | %.1f ns | |\n", binding_call);
    std::printf("| binding call / Lua call | %.2fx | <= 2x %s |\n", ratio,
                ratio <= 2.0 ? "(met)" : "(MISSED)");
    std::printf("| binding call through module table (money.add) | %.1f ns | |\n",
                binding_via_module);
    std::printf(
        "| fresh sandboxed activation (new state and environment, run a chunk that uses one "
        "module, close) "
        "| %.1f us | <= 50 us %s |\n",
        activation, activation <= 50.0 ? "(met)" : "(MISSED)");
  }
  std::filesystem::remove_all(dir);
  return status;
}
