#include <fstream>
#include <set>

#include "bindings/api_doc.hpp"
#include "bindings/modules.hpp"
#include "engine/scenario/t_module.hpp"
#include "test_support.hpp"

using namespace casekit;

namespace {

// What `casekit api-doc` prints: the engine's modules, then the scenario tests' `t`.
std::string reference() {
  const lua::Module* test_modules[] = {&kScenarioModule};
  return lua::api_reference_markdown(sandbox_globals(), test_modules);
}

std::vector<const lua::Module*> documented_modules() {
  std::vector<const lua::Module*> modules(lua::all_modules().begin(), lua::all_modules().end());
  modules.push_back(&kScenarioModule);
  return modules;
}

}  // namespace

TEST_CASE("docs/lua-api.md matches the binding tables (regenerate with: make docs)") {
  std::ifstream in(casekit::test::kSourceDir / "docs" / "lua-api.md");
  REQUIRE(in);
  const std::string on_disk{std::istreambuf_iterator<char>(in), {}};
  const std::string generated = reference();
  CHECK(on_disk == generated);
}

TEST_CASE("the reference names every module function, method and property") {
  const std::string doc = reference();
  for (const lua::Module* m : documented_modules()) {
    CHECK_THAT(doc, Catch::Contains("## " + std::string(m->name) + "\n"));
    for (const auto& f : m->functions) CHECK_THAT(doc, Catch::Contains(lua::signature_of(f)));
    for (const lua::Type* t : m->types) {
      for (const auto& meth : t->methods) CHECK_THAT(doc, Catch::Contains(lua::signature_of(meth)));
      for (const auto& p : t->properties)
        CHECK_THAT(doc, Catch::Contains("| `" + std::string(p.name) + "` |"));
    }
  }
}

TEST_CASE("a function taking a table shows its declared keys in its signature") {
  for (const lua::Module* m : documented_modules()) {
    for (const auto& f : m->functions) {
      const std::string signature = lua::signature_of(f);
      INFO(signature);
      // "{}" in a declaration is the placeholder for its keys: never left unexpanded.
      if (!f.keys.empty())
        CHECK(signature.find(std::string(m->name) + "." + f.name + "{}") == std::string::npos);
      for (const auto& k : f.keys)
        CHECK_THAT(signature, Catch::Contains(std::string(k.name) + "="));
    }
  }
}

TEST_CASE("fixed properties are the ones the store refuses to change, and ids") {
  // Each is guarded by a trigger of schema 33 (engine/store/schema.cpp): adding one here
  // needs its column added there, or a replay could read a changed value.
  const std::set<std::string> expected = {"Casegroup.id",
                                          "Casegroup.csa_ref",
                                          "Casegroup.paying_parent",
                                          "Case.id",
                                          "Case.casegroup",
                                          "Case.receiving_parent",
                                          "Client.id",
                                          "SR.id",
                                          "SR.process",
                                          "SR.area",
                                          "SR.sub_area",
                                          "SR.created_at",
                                          "SR.casegroup",
                                          "SR.case",
                                          "SR.parent",
                                          "Letter.id",
                                          "Letter.template",
                                          "Letter.recipient",
                                          "Account.id",
                                          "Account.bancs_number",
                                          "Account.client"};
  std::set<std::string> fixed;
  for (const lua::Module* m : lua::all_modules()) {
    for (const lua::Type* t : m->types) {
      for (const auto& p : t->properties) {
        if (p.fixed) fixed.insert(std::string(t->name) + "." + p.name);
      }
    }
  }
  CHECK(fixed == expected);
}

TEST_CASE("object methods are recorded on replay: they read the store") {
  for (const lua::Module* m : lua::all_modules()) {
    for (const lua::Type* t : m->types) {
      for (const auto& meth : t->methods) {
        INFO(t->name << ":" << meth.name);
        CHECK(meth.replay == lua::Replay::record);
      }
    }
  }
}
