#include "bindings/modules.hpp"

namespace casekit::lua {
namespace {

const Module* const kAll[] = {
    &kCaseModule, &kSrModule,    &kPaymentModule,    &kMoneyModule,      &kLetterModule,
    &kTaskModule, &kEventModule, &kProceduresModule, &kExceptionsModule, &kBancsModule,
    &kCisModule,  &kCraModule,   &kClockModule,      &kLogModule};

}  // namespace

std::span<const Module* const> all_modules() {
  return kAll;
}

const Type* find_type(std::string_view name) {
  for (const Module* m : all_modules()) {
    for (const Type* t : m->types) {
      if (name == t->name) return t;
    }
  }
  return nullptr;
}

void open_modules(lua_State* L) {
  for (const Module* m : all_modules()) {
    push_module(L, *m);
    lua_setglobal(L, m->name);
  }
}

}  // namespace casekit::lua
