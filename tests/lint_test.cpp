#include "engine/runtime/lint.hpp"

#include "bindings/modules.hpp"
#include "test_support.hpp"

using namespace casekit;

namespace {

struct Catalogues {
  SrCatalogue sr =
      SrCatalogue::load(casekit::test::kSourceDir / "procedures" / "sr_catalogue.toml");
  LetterCatalogue letters =
      LetterCatalogue::load(casekit::test::kSourceDir / "procedures" / "letters");
  InboxCatalogue inboxes =
      InboxCatalogue::load(casekit::test::kSourceDir / "procedures" / "inboxes.toml");
};

std::vector<std::string> lint(const std::string& source, const std::string& name = "x.lua") {
  static const Catalogues c;
  std::vector<std::string> out;
  for (const auto& d : lint_source(source, name, {&c.sr, &c.letters, &c.inboxes})) {
    out.push_back(std::to_string(d.line) + ": " + d.message);
  }
  return out;
}

}  // namespace

TEST_CASE("clean scripts pass") {
  CHECK(lint(R"lua(
local M = {}
local function helper(a, b) return a + b end
function M.run(cg, ...)
  for i, v in ipairs({1, 2}) do helper(i, v) end
  for k = 1, 3 do print(k) end
  local t = { name = "x", [1] = 2, nested = { inner = true } }
  if t.name then local y = 1 print(y) elseif t.nested then print(t) else print(3) end
  repeat local z = 1 until z == 1
  while false do end
  local s = sr.create{process = "Arrears", area = "Arrears management",
    sub_area = "Action Missed Payment", casegroup = cg}
  letter.send{template = "CMSL6000", to = cg.paying_parent, fields = { amount = money.format(1) }}
  local text = [[ long string with unknown_name inside ]] -- and a comment: os.exit()
  --[==[ a long comment: io.open() ]==]
  return string.format("%d", 1), math.floor(1.5), self_check
end
return M
)lua") == std::vector<std::string>{"16: unknown global 'self_check'"});
}

TEST_CASE("unknown globals, global assignments and unknown functions are reported by line") {
  CHECK(lint("local x = 1\nprnt(x)\ncount = 2\nfunction helper() end\nos.exit()\n") ==
        std::vector<std::string>{
            "2: unknown global 'prnt'", "3: assignment to global 'count'; declare it local",
            "4: assignment to global 'helper'; declare it with `local function`",
            "5: unknown global 'os'"});
  CHECK(lint("case.gett(1)\nlocal r = math.random(3)\nstring.dump(print)\n") ==
        std::vector<std::string>{"1: unknown function 'case.gett'",
                                 "2: 'math.random' is not available in the sandbox",
                                 "3: 'string.dump' is not available in the sandbox"});
}

TEST_CASE("literal SR types and letter codes are checked against the catalogues") {
  CHECK(lint("sr.create{process = 'Arrears', area = 'Arrears Management',\n"
             "  sub_area = 'Make Tea'}\n") ==
        std::vector<std::string>{"2: unknown SR type 'Arrears / Arrears Management / Make Tea' "
                                 "(not in procedures/sr_catalogue.toml)"});
  CHECK(lint("sr.find{sub_area = 'Teatime'}\nsr.find{sub_area = 'action missed payment'}\n") ==
        std::vector<std::string>{"1: unknown SR sub area 'Teatime'"});
  CHECK(lint("sr.create{process = 'Arrears', area = 'Arrears Management', "
             "sub_area = 'Arrears Review', status = 'Asleep'}\n") ==
        std::vector<std::string>{"1: unknown SR status 'Asleep'"});
  CHECK(lint("letter.send{template = 'CMSL9999', to = 1}\nletter.send{template = 'CMEL7402', to = "
             "1}\n") ==
        std::vector<std::string>{
            "1: unknown letter template 'CMSL9999' (not in procedures/letters/letters.toml)"});
  // A letter signed off before it is sent (letters.toml sign_off) goes only through
  // procedures/lib/free_text_letter.lua, which names it through a variable.
  CHECK(lint("letter.send{template = 'CMEL9271', to = 1}\n") ==
        std::vector<std::string>{"1: letter CMEL9271 is signed off before it is sent: send it "
                                 "with require(\"free_text_letter\").send, not directly"});
  // Values that are not literals cannot be checked statically, and are not reported.
  CHECK(lint("local sub = 'x'\nsr.create{process = 'Arrears', area = 'Arrears Management', "
             "sub_area = sub}\n")
            .empty());
}

TEST_CASE("a syntax error is reported alone, with its line") {
  const auto out = lint("local x = 1\nif x then\n  prnt(x)\n");
  REQUIRE(out.size() == 1);
  CHECK_THAT(out[0], Catch::StartsWith("4: syntax error: 'end' expected"));
}

TEST_CASE("scenario is a known global in scenario test files only") {
  const std::string source = "scenario('x', function(t) t.eq(1, 1) end)\n";
  CHECK(lint(source, "demo_test.lua").empty());
  CHECK(lint(source, "demo.lua") == std::vector<std::string>{"1: unknown global 'scenario'"});
}

TEST_CASE("the shipped scripts lint clean") {
  for (const char* dir : {"scripts", "procedures"}) {
    for (const auto& e :
         std::filesystem::recursive_directory_iterator(casekit::test::kSourceDir / dir)) {
      if (e.path().extension() != ".lua") continue;
      INFO(e.path());
      CHECK(lint(read_script(e.path()), e.path().filename().string()).empty());
    }
  }
}

TEST_CASE("the linter survives any prefix of a real script") {
  const std::string source =
      read_script(casekit::test::kSourceDir / "scripts" / "missed_payment_monitor.lua");
  for (size_t n = 0; n <= source.size(); n += 3) {
    INFO("prefix of " << n << " bytes");
    CHECK_NOTHROW(lint(source.substr(0, n)));
  }
}

TEST_CASE("task.await inboxes written as literals must be in procedures/inboxes.toml") {
  CHECK(
      lint("local d = task.await{inbox = 'team_leader', title = 't', outcomes = {'ok'}}").empty());
  CHECK(
      lint("local d = task.await{inbox = 'team_leaders', title = 't', outcomes = {'ok'}}") ==
      std::vector<std::string>{"1: unknown inbox 'team_leaders' (not in procedures/inboxes.toml)"});
}

TEST_CASE("every key declared with a catalogue has its literals checked") {
  // The checks come from the binding declarations: a key tagged with a catalogue in any
  // module function (task.create as well as task.await) refuses a literal the catalogue lacks.
  for (const lua::Module* m : lua::all_modules()) {
    for (const auto& f : m->functions) {
      for (const auto& k : f.keys) {
        if (k.catalogue == lua::Catalogue::none) continue;
        // A lone process or area is not a type; the sub area is what names one.
        if (k.catalogue == lua::Catalogue::sr_process || k.catalogue == lua::Catalogue::sr_area)
          continue;
        const std::string call =
            std::string(m->name) + "." + f.name + "{" + k.name + " = 'No Such Thing'}\n";
        INFO(call);
        const auto out = lint(call);
        REQUIRE(out.size() == 1);
        CHECK_THAT(out[0], Catch::Contains("'No Such Thing'"));
      }
    }
  }
  CHECK(
      lint("task.create{inbox = 'team_leaders', title = 't', outcomes = {'ok'}}") ==
      std::vector<std::string>{"1: unknown inbox 'team_leaders' (not in procedures/inboxes.toml)"});
}
