// Replay needs a script to make the same calls in the same order every time it runs, in
// any process. Two things in stock Lua break that:
//  - pairs()/next() visit string keys in hash order, and string hashes are seeded per
//    state (from the time and addresses), so the order changes from run to run;
//  - table.sort is not stable, and for arrays over 100 elements picks pivots at random.
// The sandbox replaces them with versions whose order depends only on the table's content:
// keys in a canonical order (numbers ascending, then strings bytewise, then false, true,
// then engine objects by type and id), and a stable merge sort. Keys of any other type
// (tables, functions) have no such order, so iterating over them is an error.
#pragma once

#include <lua.hpp>

namespace casekit {

// pairs(t): honours __pairs (the sandbox's read-only tables use it), else iterates a
// snapshot of t's keys in canonical order.
int ordered_pairs(lua_State* L);
// next(t, k): the key after k in canonical order (a scan per call; prefer pairs).
int ordered_next(lua_State* L);
// Pushes the iterator triple for t (at index t) in canonical order.
int push_ordered_iteration(lua_State* L, int t);
// table.sort(t [, less]): stable, deterministic.
int stable_sort(lua_State* L);

}  // namespace casekit
