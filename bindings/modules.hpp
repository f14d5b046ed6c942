// Every Lua module and object type the engine exposes. Each is defined in its own file
// (bindings/<module>.cpp); registry.cpp lists them in the order scripts see them.
#pragma once

#include <span>

#include "bindings/support.hpp"

namespace casekit::lua {

// Object types, shared across modules (sr.create takes a Casegroup, ...).
extern const Type kCasegroupType;
extern const Type kCaseType;
extern const Type kClientType;
extern const Type kSrType;
extern const Type kAccountType;
extern const Type kLetterType;

extern const Module kCaseModule;
extern const Module kSrModule;
extern const Module kPaymentModule;
extern const Module kMoneyModule;
extern const Module kLetterModule;
extern const Module kClockModule;
extern const Module kLogModule;
extern const Module kTaskModule;
extern const Module kEventModule;
extern const Module kProceduresModule;
extern const Module kExceptionsModule;
extern const Module kBancsModule;
extern const Module kCisModule;
extern const Module kCraModule;

std::span<const Module* const> all_modules();
// The object type with this metatable name, or nullptr.
const Type* find_type(std::string_view name);

// Sets the globals `procedure` and `wait` in the environment table at `env`.
void open_procedure_globals(lua_State* L, int env);

// Installs every module as a global of the state (the sandbox then freezes them).
void open_modules(lua_State* L);

}  // namespace casekit::lua
