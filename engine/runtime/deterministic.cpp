#include "engine/runtime/deterministic.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace casekit {
namespace {

// A key reduced to what the canonical order compares. String views point into strings the
// table (or the snapshot) keeps alive.
struct Key {
  int rank = 0;  // 0 number, 1 string, 2 boolean, 3 engine object
  bool is_int = false;
  lua_Integer i = 0;
  lua_Number f = 0;
  std::string_view s;   // string key, or an object's type name
  std::int64_t id = 0;  // object id; boolean value
  int slot = 0;         // position in the snapshot
};

Key key_at(lua_State* L, int index) {
  Key k;
  switch (lua_type(L, index)) {
    case LUA_TNUMBER:
      k.rank = 0;
      k.is_int = lua_isinteger(L, index);
      k.i = lua_tointeger(L, index);
      k.f = lua_tonumber(L, index);
      return k;
    case LUA_TSTRING: {
      size_t len = 0;
      const char* s = lua_tolstring(L, index, &len);
      k.rank = 1;
      k.s = {s, len};
      return k;
    }
    case LUA_TBOOLEAN:
      k.rank = 2;
      k.id = lua_toboolean(L, index);
      return k;
    case LUA_TUSERDATA:
      if (lua_getmetatable(L, index)) {
        lua_getfield(L, -1, "__name");
        const char* name = lua_tostring(L, -1);
        lua_pop(L, 2);  // the name lives on in the registry's metatable
        if (name && lua_rawlen(L, index) == sizeof(std::int64_t)) {
          k.rank = 3;
          k.s = name;
          k.id = *static_cast<std::int64_t*>(lua_touserdata(L, index));
          return k;
        }
      }
      break;
    default:
      break;
  }
  luaL_error(L,
             "cannot iterate over a table keyed by a %s: its order would differ between runs, "
             "and a procedure must replay identically (key it by a string or number)",
             luaL_typename(L, index));
  return k;
}

bool before(const Key& a, const Key& b) {
  if (a.rank != b.rank) return a.rank < b.rank;
  switch (a.rank) {
    case 0:
      if (a.is_int && b.is_int) return a.i < b.i;
      return a.f < b.f;
    case 1:
      return a.s < b.s;  // bytewise, whatever the locale
    case 2:
      return a.id < b.id;
    default:
      return a.s != b.s ? a.s < b.s : a.id < b.id;
  }
}

// Upvalues: 1 the sorted key array, 2 the position reached.
int snapshot_iterator(lua_State* L) {
  lua_Integer i = lua_tointeger(L, lua_upvalueindex(2));
  const lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, lua_upvalueindex(1)));
  while (++i <= n) {
    lua_rawgeti(L, lua_upvalueindex(1), i);
    lua_pushvalue(L, -1);
    if (lua_rawget(L, 1) != LUA_TNIL) {  // skip keys removed during the traversal
      lua_pushinteger(L, i);
      lua_replace(L, lua_upvalueindex(2));
      return 2;
    }
    lua_pop(L, 2);
  }
  lua_pushinteger(L, n);
  lua_replace(L, lua_upvalueindex(2));
  lua_pushnil(L);
  return 1;
}

}  // namespace

int push_ordered_iteration(lua_State* L, int t) {
  t = lua_absindex(L, t);
  // Snapshot the keys into an array, then sort the array's positions by key.
  lua_newtable(L);
  const int keys = lua_gettop(L);
  lua_Integer n = 0;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_rawseti(L, keys, ++n);
  }
  std::vector<Key> order;
  order.reserve(static_cast<size_t>(n));
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, keys, i);
    Key k = key_at(L, -1);
    k.slot = static_cast<int>(i);
    order.push_back(k);
    lua_pop(L, 1);  // the key stays alive in `keys`, so its string view does too
  }
  std::sort(order.begin(), order.end(), before);
  lua_createtable(L, static_cast<int>(n), 0);
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, keys, order[static_cast<size_t>(i - 1)].slot);
    lua_rawseti(L, -2, i);
  }
  lua_remove(L, keys);
  lua_pushinteger(L, 0);
  lua_pushcclosure(L, snapshot_iterator, 2);
  lua_pushvalue(L, t);
  lua_pushnil(L);
  return 3;
}

int ordered_pairs(lua_State* L) {
  luaL_checkany(L, 1);
  if (luaL_getmetafield(L, 1, "__pairs") != LUA_TNIL) {
    lua_pushvalue(L, 1);
    lua_call(L, 1, 3);
    return 3;
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  return push_ordered_iteration(L, 1);
}

int ordered_next(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 3);  // slot 3: the best key so far
  const bool from_start = lua_isnil(L, 2);
  Key after;
  if (!from_start) after = key_at(L, 2);
  bool found = false;
  Key best;
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    lua_pop(L, 1);
    Key k = key_at(L, -1);
    if ((from_start || before(after, k)) && (!found || before(k, best))) {
      lua_pushvalue(L, -1);
      lua_replace(L, 3);  // slot 3 keeps the best key alive, so its string view stays valid
      best = key_at(L, 3);
      found = true;
    }
  }
  if (!found) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushvalue(L, 3);
  lua_pushvalue(L, 3);
  lua_rawget(L, 1);
  return 2;
}

namespace {

// a[i] < a[j] by the comparator at index 2, or by Lua's `<`.
bool less(lua_State* L, bool has_cmp, int a, lua_Integer i, int b, lua_Integer j) {
  if (has_cmp) lua_pushvalue(L, 2);
  lua_rawgeti(L, a, i);
  lua_rawgeti(L, b, j);
  if (has_cmp) {
    lua_call(L, 2, 1);
    const bool r = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return r;
  }
  const bool r = lua_compare(L, -2, -1, LUA_OPLT);
  lua_pop(L, 2);
  return r;
}

}  // namespace

int stable_sort(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  const lua_Integer n = luaL_len(L, 1);
  const bool has_cmp = !lua_isnoneornil(L, 2);
  if (has_cmp) luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_settop(L, 2);
  if (n < 2) return 0;
  luaL_argcheck(L, n < (lua_Integer{1} << 26), 1, "array too big");
  // Bottom-up merge sort between two scratch arrays: stable, and the comparisons it makes
  // depend only on the elements, never on chance.
  lua_createtable(L, static_cast<int>(n), 0);
  int src = lua_gettop(L);
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_geti(L, 1, i);
    lua_rawseti(L, src, i);
  }
  lua_createtable(L, static_cast<int>(n), 0);
  int dst = lua_gettop(L);
  for (lua_Integer width = 1; width < n; width *= 2) {
    for (lua_Integer lo = 1; lo <= n; lo += 2 * width) {
      const lua_Integer mid = std::min(lo + width, n + 1);
      const lua_Integer hi = std::min(lo + 2 * width, n + 1);
      lua_Integer i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        // Take from the right only when strictly less: equal elements keep their order.
        const bool right = less(L, has_cmp, src, j, src, i);
        lua_rawgeti(L, src, right ? j++ : i++);
        lua_rawseti(L, dst, k++);
      }
      while (i < mid) {
        lua_rawgeti(L, src, i++);
        lua_rawseti(L, dst, k++);
      }
      while (j < hi) {
        lua_rawgeti(L, src, j++);
        lua_rawseti(L, dst, k++);
      }
    }
    std::swap(src, dst);
  }
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, src, i);
    lua_seti(L, 1, i);
  }
  return 0;
}

}  // namespace casekit
