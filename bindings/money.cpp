// Lua module `money`: checked arithmetic on integer pence. Lua integers wrap silently on
// overflow; these raise instead, and refuse floats.
#include "bindings/modules.hpp"

namespace casekit::lua {
namespace {

int w_add(Args& a) {
  const Pence x = a.pence(1, "a");
  lua_pushinteger(a.L, money::add(x, a.pence(2, "b")));
  return 1;
}

int w_sub(Args& a) {
  const Pence x = a.pence(1, "a");
  lua_pushinteger(a.L, money::sub(x, a.pence(2, "b")));
  return 1;
}

int w_mul(Args& a) {
  const Pence x = a.pence(1, "amount");
  lua_pushinteger(a.L, money::mul(x, a.integer(2, "factor")));
  return 1;
}

int w_sum(Args& a) {
  if (lua_type(a.L, 1) != LUA_TTABLE) a.fail(1, "amounts", "table expected");
  const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(a.L, 1));
  Pence total = 0;
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(a.L, 1, i);
    if (!lua_isinteger(a.L, -1)) {
      a.fail(1, "amounts", "element " + std::to_string(i) + " is not integer pence");
    }
    total = money::add(total, lua_tointeger(a.L, -1));
    lua_pop(a.L, 1);
  }
  lua_pushinteger(a.L, total);
  return 1;
}

int w_div_ceil(Args& a) {
  const Pence x = a.pence(1, "amount");
  const std::int64_t d = a.integer(2, "divisor");
  if (d <= 0) a.fail(2, "divisor", "must be positive");
  lua_pushinteger(a.L, money::div_ceil(x, d));
  return 1;
}

int w_format(Args& a) {
  push_string(a.L, money::format(a.pence(1, "amount")));
  return 1;
}

const Function kFunctions[] = {
    {"add", entry<w_add>, "money.add(a, b) -> integer", "a + b in pence; error on overflow.",
     Replay::pure},
    {"sub", entry<w_sub>, "money.sub(a, b) -> integer", "a - b in pence; error on overflow.",
     Replay::pure},
    {"mul", entry<w_mul>, "money.mul(amount, factor) -> integer",
     "amount * factor (an integer); error on overflow.", Replay::pure},
    {"sum", entry<w_sum>, "money.sum({amounts}) -> integer", "Sum of a list of pence.",
     Replay::pure},
    {"div_ceil", entry<w_div_ceil>, "money.div_ceil(amount, divisor) -> integer",
     "amount / divisor rounded up (e.g. the number of periods to clear arrears).", Replay::pure},
    {"format", entry<w_format>, "money.format(amount) -> string", "125050 -> '£1,250.50'.",
     Replay::pure},
};

}  // namespace

const Module kMoneyModule{"money", "Checked arithmetic on integer pence.", kFunctions, {}};

}  // namespace casekit::lua
