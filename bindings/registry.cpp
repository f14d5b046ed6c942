#include "bindings/modules.hpp"

namespace casekit::lua {
namespace {

const Module* const kAll[] = {&kCaseModule,   &kSrModule,    &kPaymentModule, &kMoneyModule,
                              &kLetterModule, &kClockModule, &kLogModule};

}  // namespace

std::span<const Module* const> all_modules() {
  return kAll;
}

void open_modules(lua_State* L) {
  for (const Module* m : all_modules()) {
    push_module(L, *m);
    lua_setglobal(L, m->name);
  }
}

}  // namespace casekit::lua
