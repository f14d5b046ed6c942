// The sandbox against hostile scripts (tests/hostile/*.lua, each naming the error it must
// end in), and the engine still working after each.
#include <fstream>

#include "engine/runtime/safe_stdlib.hpp"
#include "test_support.hpp"

using namespace casekit;
using casekit::test::TempDir;
using casekit::test::TestEngine;

namespace {

// Small limits keep the suite quick; the mechanisms are the same at any size.
SandboxLimits hostile_limits() {
  SandboxLimits l;
  l.memory_bytes = 64u << 20;
  l.instructions = 20'000'000;
  return l;
}

std::string expectation(const std::string& source) {
  const std::string marker = "-- expect: ";
  const auto at = source.find(marker);
  REQUIRE(at == 0);
  return source.substr(marker.size(), source.find('\n') - marker.size());
}

int write_chunk(lua_State*, const void* p, size_t size, void* ud) {
  static_cast<std::string*>(ud)->append(static_cast<const char*>(p), size);
  return 0;
}

}  // namespace

TEST_CASE("hostile scripts end in a clear error, change nothing, and the engine carries on") {
  const auto dir = casekit::test::kSourceDir / "tests" / "hostile";
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 25);
  TestEngine t;
  for (const auto& file : files) {
    const std::string source = read_script(file);
    const std::string expected = expectation(source);
    DYNAMIC_SECTION(file.filename().string()) {
      // A write before the attack, on the comment line so line numbers stay true.
      const std::string code = "case.create_client{name = 'Before'} " + source;
      std::string message;
      try {
        t.run(code, hostile_limits());
        FAIL("the script ran to the end");
      } catch (const ScriptError& e) {
        message = e.what();
      }
      CHECK_THAT(message, Catch::Contains(expected));
      CHECK(t.count("clients") == 0);
      CHECK(t.count("audit") == 0);
      t.run("case.create_client{name = 'After'}");
      CHECK(t.count("clients") == 1);
      t.db.exec(
          "DELETE FROM client_name_keys; DELETE FROM clients; DELETE FROM audit_changes; "
          "DELETE FROM audit_sets");
    }
  }
  CHECK_FALSE(std::filesystem::exists("/tmp/casekit-pwned"));
}

TEST_CASE("sandbox limits are reported with the LIMIT code") {
  TestEngine t;
  try {
    t.run("while true do end", hostile_limits());
    FAIL("not stopped");
  } catch (const ScriptError& e) {
    CHECK(e.code() == ErrorCode::limit);
    CHECK_THAT(e.what(), Catch::StartsWith("test.lua:1: instruction budget of 20000000 exhausted"));
  }
  try {
    t.run("local t = {} while true do t[#t + 1] = {} end", hostile_limits());
    FAIL("not stopped");
  } catch (const ScriptError& e) {
    CHECK(e.code() == ErrorCode::limit);
    CHECK_THAT(e.what(), Catch::Contains("memory limit of 64 MiB exceeded"));
  }
}

TEST_CASE("a binary chunk is refused") {
  lua_State* plain = luaL_newstate();
  REQUIRE(luaL_loadstring(plain, "return 42") == LUA_OK);
  std::string bytecode;
  lua_dump(plain, write_chunk, &bytecode, 1);
  lua_close(plain);
  REQUIRE(bytecode.front() == '\x1b');
  Sandbox sandbox({}, {}, nullptr);
  CHECK_THROWS_WITH(sandbox.load(bytecode, "evil.luac"),
                    Catch::Contains("binary (precompiled) chunks are refused"));
}

TEST_CASE("a memory cap too small for the sandbox itself is a clean error, at any size") {
  int refused = 0;
  int built = 0;
  for (std::size_t cap = 1024; cap <= 64 * 1024; cap += 512) {
    SandboxLimits tiny;
    tiny.memory_bytes = cap;
    try {
      Sandbox sandbox(tiny, {}, nullptr);
      ++built;
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::limit);
      ++refused;
    }
  }
  // Both outcomes occur in this range, so the setup-failure path really ran.
  CHECK(refused > 2);
  CHECK(built > 2);
}

TEST_CASE("string.rep with an empty result returns at once instead of looping in C") {
  TestEngine t;
  CHECK(t.run("print(#string.rep('', 1 << 50), #('x'):rep(0), ('ab'):rep(3, '-'))") ==
        "0\t0\tab-ab-ab\n");
}

TEST_CASE("pattern cost grows with each backtracking quantifier") {
  CHECK(pattern_cost(10, "^CSA%-(%d+)$", 11) == Approx(11.0));
  CHECK(pattern_cost(10, "abc", 3) == Approx(11.0));
  CHECK(pattern_cost(100, ".-b", 3) == Approx(101.0 * 101.0));
  CHECK(pattern_cost(100, "[*+-]%*", 7) == Approx(101.0));
  CHECK(pattern_cost(60000, ".-.-.-.-b", 9) > kMaxPatternCost);
  TestEngine t;
  CHECK(t.run("print(string.match('CSA-0001234', '^CSA%-(%d+)$'), ('a,b'):gsub(',', ';'))") ==
        "0001234\ta;b\t1\n");
  // plain find skips the pattern machinery, so it is never refused
  CHECK(t.run("print(string.find(string.rep('a', 60000), '.-.-.-.-b', 1, true))") == "nil\n");
}

TEST_CASE("script errors name file and line and carry a traceback") {
  TempDir dir;
  const auto file = dir.path() / "broken.lua";
  {
    std::ofstream out(file);
    out << "local function inner()\n  error('the rent is due')\nend\nlocal function outer()\n"
           "  inner()\nend\nouter()\n";
  }
  Sandbox sandbox({}, {}, nullptr);
  try {
    sandbox.run_file(file, "scripts/broken.lua");
    FAIL("no error");
  } catch (const ScriptError& e) {
    CHECK(std::string(e.what()) == "scripts/broken.lua:2: the rent is due");
    CHECK_THAT(e.traceback(), Catch::Contains("stack traceback:"));
    CHECK_THAT(e.traceback(), Catch::Contains("scripts/broken.lua:5: in "));
    CHECK_THAT(e.traceback(), Catch::Contains("scripts/broken.lua:7: in main chunk"));
  }
  Sandbox syntax({}, {}, nullptr);
  CHECK_THROWS_WITH(syntax.load("local x = = 1", "bad.lua"), Catch::StartsWith("bad.lua:1:"));
}

TEST_CASE("require loads source modules from the library folders only") {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "lib" / "policy");
  {
    std::ofstream(dir.path() / "lib" / "policy" / "periods.lua")
        << "local M = {}\nfunction M.count(total, per) return money.div_ceil(total, per) end\n"
           "return M\n";
    std::ofstream(dir.path() / "lib" / "loop_a.lua") << "return require('loop_b')\n";
    std::ofstream(dir.path() / "lib" / "loop_b.lua") << "return require('loop_a')\n";
    std::ofstream(dir.path() / "lib" / "fails.lua") << "local x = nil\nreturn x.y\n";
  }
  TestEngine t;
  std::string out;
  lua::Host host{t.engine, "test", [&](std::string_view s) { out += s; }};
  Sandbox sandbox({}, {{dir.path() / "lib", "procedures/lib"}}, &host);
  sandbox.load(
      "local p = require('policy.periods') print(p.count(100001, 5000), "
      "require('policy.periods') == p)",
      "main.lua");
  sandbox.call(0, 0);
  CHECK(out == "21\ttrue");
  sandbox.load("require('loop_a')", "main.lua");
  CHECK_THROWS_WITH(sandbox.call(0, 0), Catch::Contains("'loop_a' requires itself"));
  sandbox.load("require('fails')", "main.lua");
  CHECK_THROWS_WITH(sandbox.call(0, 0), Catch::StartsWith("procedures/lib/fails.lua:2:"));
  sandbox.load("require('policy.missing')", "main.lua");
  CHECK_THROWS_WITH(sandbox.call(0, 0),
                    Catch::Contains("no file procedures/lib/policy/missing.lua"));
}

TEST_CASE("read-only library tables still iterate and index") {
  TestEngine t;
  CHECK(t.run("local n = 0 for k in pairs(string) do n = n + 1 end print(n > 10, "
              "string.format('%05d', 42), ('abc'):upper(), math.max(3, 9), table.concat({1, 2}, "
              "'+'))") == "true\t00042\tABC\t9\t1+2\n");
}

TEST_CASE("each activation gets a fresh environment") {
  TestEngine t;
  CHECK_NOTHROW(t.run("local x = rawget(_G, 'leftover') assert(x == nil)"));
  // A script cannot leave state behind for the next: its globals are refused, and each
  // sandbox is a new Lua state.
  CHECK_THAT(t.error_of("leftover = 1"), Catch::Contains("assignment to global"));
  CHECK(t.run("print(rawget(_G, 'leftover'))") == "nil\n");
}

TEST_CASE("pairs and next visit keys in one canonical order") {
  TestEngine t;
  CHECK(t.run(R"lua(
    local t = {zeta = 1, alpha = 2, [10] = 3, [2] = 4, [1.5] = 5, [true] = 6, [false] = 7, Beta = 8}
    local seen = {}
    for k in pairs(t) do seen[#seen + 1] = tostring(k) end
    print(table.concat(seen, " "))
    local walked, k = {}, nil
    repeat
      k = next(t, k)
      if k ~= nil then walked[#walked + 1] = tostring(k) end
    until k == nil
    print(table.concat(walked, " "))
    print(next({}))
  )lua") == "1.5 2 10 Beta alpha zeta false true\n1.5 2 10 Beta alpha zeta false true\nnil\n");
  // Removing keys during a traversal is allowed, as in Lua.
  CHECK(t.run("local t = {a = 1, b = 2, c = 3} for k in pairs(t) do t.b = nil print(k) end") ==
        "a\nc\n");
  // Engine objects order by type and id.
  const auto f = t.family();
  CHECK(t.run("local t = {[case.get(" + std::to_string(f.casegroup) +
              ")] = 1, z = 2} for k in pairs(t) do print(k) end") ==
        "z\nCasegroup " + std::to_string(f.casegroup) + "\n");
  CHECK_THAT(t.error_of("for k in pairs({[{}] = 1}) do end"),
             Catch::Contains("cannot iterate over a table keyed by a table"));
  CHECK_THAT(t.error_of("next({[print] = 1})"),
             Catch::Contains("cannot iterate over a table keyed by a function"));
}

TEST_CASE("table.sort is stable and deterministic, also beyond 100 elements") {
  TestEngine t;
  // 300 records in 3 ranks: a stable sort keeps each rank in its original order.
  CHECK(t.run(R"lua(
    local recs = {}
    for i = 1, 300 do recs[i] = {rank = (i * 7) % 3, id = i} end
    table.sort(recs, function(a, b) return a.rank < b.rank end)
    local ok = true
    for i = 2, #recs do
      local a, b = recs[i - 1], recs[i]
      if a.rank > b.rank or (a.rank == b.rank and a.id > b.id) then ok = false end
    end
    print(ok, recs[1].id, recs[300].id)
    local words = {"pear", "apple", "fig", "apple"}
    table.sort(words)
    print(table.concat(words, ","))
    local n = {5, 3, 9, 1}
    table.sort(n, function(a, b) return a > b end)
    print(table.concat(n, ","))
  )lua") == "true\t3\t299\napple,apple,fig,pear\n9,5,3,1\n");
  CHECK_THAT(t.error_of("table.sort({1, 'a'})"), Catch::Contains("attempt to compare"));
  CHECK_THAT(t.error_of("table.sort({3, 2, 1}, function(a, b) error('cmp failed') end)"),
             Catch::Contains("cmp failed"));
}
