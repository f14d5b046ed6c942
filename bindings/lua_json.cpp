#include "bindings/lua_json.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>

#include "bindings/modules.hpp"

namespace casekit::lua {

namespace {

constexpr int kMaxDepth = 32;

[[noreturn]] void unrecordable(const std::string& what) {
  throw Error(ErrorCode::bad_argument, "cannot record " + what +
                                           " in a procedure's history (use strings, numbers, "
                                           "booleans, tables of them, and engine objects)");
}

bool is_error_table(lua_State* L, int index) {
  if (!lua_getmetatable(L, index)) return false;
  luaL_getmetatable(L, kErrorMetatable);
  const bool same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same;
}

nlohmann::json encode(lua_State* L, int index, int depth);

// The type and id of the engine object (an SR, a Casegroup, ...) at `index`; any other
// userdata cannot be recorded.
std::pair<const Type*, Id> engine_object(lua_State* L, int index) {
  if (lua_getmetatable(L, index)) {
    lua_getfield(L, -1, "__name");
    size_t len = 0;
    const char* name = lua_tolstring(L, -1, &len);
    const Type* type = name ? find_type(std::string_view(name, len)) : nullptr;
    lua_pop(L, 2);
    if (type) return {type, *static_cast<Id*>(lua_touserdata(L, index))};
  }
  unrecordable("a userdata");
}

// One pass over a table's keys, so that it is then recorded in a deterministic order: as a
// list (keys exactly 1..n: list_length is n), an object (all keys strings) or pairs.
struct TableShape {
  std::size_t count = 0;
  bool all_strings = true;
  lua_Integer list_length = 0;
};

TableShape shape_of(lua_State* L, int t) {
  TableShape shape;
  lua_Integer max_int = 0;
  bool all_positive_ints = true;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    ++shape.count;
    if (lua_type(L, -1) != LUA_TSTRING) shape.all_strings = false;
    if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0) {
      max_int = std::max(max_int, lua_tointeger(L, -1));
    } else {
      all_positive_ints = false;
    }
  }
  if (all_positive_ints && static_cast<std::size_t>(max_int) == shape.count) {
    shape.list_length = max_int;
  }
  return shape;
}

nlohmann::json encode_table(lua_State* L, int t, int depth) {
  if (depth > kMaxDepth) unrecordable("a table nested more than 32 deep (or a cycle)");
  luaL_checkstack(L, 6, "recording a table");
  if (is_error_table(L, t)) {
    lua_getfield(L, t, "code");
    lua_getfield(L, t, "message");
    nlohmann::json e = {{"code", lua_tostring(L, -2) ? lua_tostring(L, -2) : "SCRIPT"},
                        {"message", lua_tostring(L, -1) ? lua_tostring(L, -1) : ""}};
    lua_pop(L, 2);
    return {{"$error", std::move(e)}};
  }
  const auto [count, all_strings, list_length] = shape_of(L, t);
  if (count == 0) return nlohmann::json::object();
  if (list_length) {
    auto out = nlohmann::json::array();
    for (lua_Integer i = 1; i <= list_length; ++i) {
      lua_rawgeti(L, t, i);
      out.push_back(encode(L, -1, depth + 1));
      lua_pop(L, 1);
    }
    return out;
  }
  if (all_strings) {
    auto out = nlohmann::json::object();  // std::map: keys come out sorted
    lua_pushnil(L);
    while (lua_next(L, t)) {
      size_t len = 0;
      const char* k = lua_tolstring(L, -2, &len);
      out[std::string(k, len)] = encode(L, -1, depth + 1);
      lua_pop(L, 1);
    }
    return out;
  }
  std::vector<std::pair<std::string, nlohmann::json>> pairs;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    nlohmann::json key = encode(L, -2, depth + 1);
    pairs.emplace_back(dump(key), nlohmann::json::array({key, encode(L, -1, depth + 1)}));
    lua_pop(L, 1);
  }
  std::sort(pairs.begin(), pairs.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  auto list = nlohmann::json::array();
  for (auto& p : pairs) list.push_back(std::move(p.second));
  return {{"$pairs", std::move(list)}};
}

nlohmann::json encode(lua_State* L, int index, int depth) {
  index = lua_absindex(L, index);
  switch (lua_type(L, index)) {
    case LUA_TNIL:
    case LUA_TNONE:
      return nullptr;
    case LUA_TBOOLEAN:
      return lua_toboolean(L, index) != 0;
    case LUA_TNUMBER:
      if (lua_isinteger(L, index)) return static_cast<std::int64_t>(lua_tointeger(L, index));
      return lua_tonumber(L, index);
    case LUA_TSTRING: {
      size_t len = 0;
      const char* s = lua_tolstring(L, index, &len);
      return std::string(s, len);
    }
    case LUA_TTABLE:
      return encode_table(L, index, depth);
    case LUA_TUSERDATA: {
      const auto [type, id] = engine_object(L, index);
      return {{"$object", type->name}, {"id", static_cast<std::int64_t>(id)}};
    }
    default:
      unrecordable(std::string("a ") + luaL_typename(L, index));
  }
}

}  // namespace

nlohmann::json to_json(lua_State* L, int index) {
  return encode(L, index, 0);
}

namespace {

void write_value(lua_State* L, int index, int depth, std::string& out);

// Whether any of the eight bytes in `w` is outside printable ASCII or is a quote or a
// backslash: the bit tricks of "Determine if a word has a byte less than n" (Bit Twiddling
// Hacks), which are exact for the question "any?". Eight bytes a step, since recording a
// call scans every string it passes.
bool needs_escaping(std::uint64_t w) {
  constexpr std::uint64_t ones = 0x0101010101010101, highs = 0x8080808080808080;
  const auto has_zero_byte = [&](std::uint64_t x) { return ((x - ones) & ~x & highs) != 0; };
  return (w & highs) != 0 || ((w - ones * 0x20) & ~w & highs) != 0 ||
         has_zero_byte(w ^ (ones * '"')) || has_zero_byte(w ^ (ones * '\\'));
}

bool needs_escaping(unsigned char c) {
  return c < 0x20 || c >= 0x80 || c == '"' || c == '\\';
}

// A string as dump() writes it. Printable ASCII without quotes or backslashes, which is
// nearly every string a procedure passes, is written as it is; anything else goes through
// the JSON library, so escapes and invalid UTF-8 come out exactly as they always have.
void write_string(const char* s, std::size_t len, std::string& out) {
  std::size_t i = 0;
  bool plain = true;
  for (; plain && i + 8 <= len; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s + i, 8);
    plain = !needs_escaping(w);
  }
  for (; plain && i < len; ++i) plain = !needs_escaping(static_cast<unsigned char>(s[i]));
  if (!plain) {
    out += dump(nlohmann::json(std::string(s, len)));
    return;
  }
  out += '"';
  out.append(s, len);
  out += '"';
}

void write_integer(std::int64_t n, std::string& out) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, end);
}

// The members of a table whose keys are all strings, sorted bytewise as the tree's std::map
// orders them. The key views stay valid: the table holds its keys while it is written.
void write_sorted_members(lua_State* L, int t, std::size_t count, int depth, std::string& out) {
  std::vector<std::string_view> keys;
  keys.reserve(count);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    size_t len = 0;
    const char* k = lua_tolstring(L, -1, &len);
    keys.emplace_back(k, len);
  }
  std::sort(keys.begin(), keys.end());
  out += '{';
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) out += ',';
    write_string(keys[i].data(), keys[i].size(), out);
    out += ':';
    lua_pushlstring(L, keys[i].data(), keys[i].size());
    lua_rawget(L, t);
    write_value(L, -1, depth + 1, out);
    lua_pop(L, 1);
  }
  out += '}';
}

// Writes the list t[1..n].
void write_list(lua_State* L, int t, lua_Integer n, int depth, std::string& out) {
  out += '[';
  for (lua_Integer i = 1; i <= n; ++i) {
    if (i > 1) out += ',';
    lua_rawgeti(L, t, i);
    write_value(L, -1, depth + 1, out);
    lua_pop(L, 1);
  }
  out += ']';
}

// Error tables and tables with keys of mixed kinds are rare: they take the tree's path.
void write_table(lua_State* L, int t, int depth, std::string& out) {
  if (depth > kMaxDepth) unrecordable("a table nested more than 32 deep (or a cycle)");
  luaL_checkstack(L, 6, "recording a table");
  if (is_error_table(L, t)) {
    out += dump(encode_table(L, t, depth));
    return;
  }
  const auto [count, all_strings, list_length] = shape_of(L, t);
  if (count == 0) {
    out += "{}";
  } else if (list_length) {
    write_list(L, t, list_length, depth, out);
  } else if (all_strings) {
    write_sorted_members(L, t, count, depth, out);
  } else {
    out += dump(encode_table(L, t, depth));
  }
}

void write_value(lua_State* L, int index, int depth, std::string& out) {
  index = lua_absindex(L, index);
  switch (lua_type(L, index)) {
    case LUA_TNIL:
    case LUA_TNONE:
      out += "null";
      return;
    case LUA_TBOOLEAN:
      out += lua_toboolean(L, index) ? "true" : "false";
      return;
    case LUA_TNUMBER:
      if (lua_isinteger(L, index)) {
        write_integer(lua_tointeger(L, index), out);
      } else {
        out += dump(nlohmann::json(lua_tonumber(L, index)));
      }
      return;
    case LUA_TSTRING: {
      size_t len = 0;
      const char* s = lua_tolstring(L, index, &len);
      write_string(s, len, out);
      return;
    }
    case LUA_TTABLE:
      write_table(L, index, depth, out);
      return;
    case LUA_TUSERDATA: {
      const auto [type, id] = engine_object(L, index);
      out += "{\"$object\":";
      write_string(type->name, std::strlen(type->name), out);
      out += ",\"id\":";
      write_integer(id, out);
      out += '}';
      return;
    }
    default:
      unrecordable(std::string("a ") + luaL_typename(L, index));
  }
}

}  // namespace

std::string values_to_text(lua_State* L, int first) {
  std::string out;
  out.reserve(64);
  out += '[';
  for (int i = first; i <= lua_gettop(L); ++i) {
    if (i > first) out += ',';
    write_value(L, i, 0, out);
  }
  out += ']';
  return out;
}

nlohmann::json values_to_json(lua_State* L, int first) {
  auto out = nlohmann::json::array();
  for (int i = first; i <= lua_gettop(L); ++i) out.push_back(encode(L, i, 0));
  return out;
}

namespace {

// Builds Lua values straight from JSON text, one SAX event at a time: no tree is built.
// Containers are open tables on the Lua stack; each finished value goes into the one
// below it. Objects in one of the recorded forms ($object, $error, $pairs) are turned back
// into what was recorded when they close.
class LuaBuilder {
 public:
  using json = nlohmann::json;
  explicit LuaBuilder(lua_State* L) : L_(L) {}

  bool null() {
    lua_pushnil(L_);
    return finish_value();
  }
  bool boolean(bool b) {
    lua_pushboolean(L_, b);
    return finish_value();
  }
  bool number_integer(json::number_integer_t n) {
    lua_pushinteger(L_, n);
    return finish_value();
  }
  bool number_unsigned(json::number_unsigned_t n) {
    lua_pushinteger(L_, static_cast<lua_Integer>(n));
    return finish_value();
  }
  bool number_float(json::number_float_t d, const json::string_t&) {
    lua_pushnumber(L_, d);
    return finish_value();
  }
  bool string(json::string_t& s) { return text(s); }
  bool text(std::string_view s) {
    lua_pushlstring(L_, s.data(), s.size());
    return finish_value();
  }
  bool binary(json::binary_t&) {
    lua_pushnil(L_);
    return finish_value();
  }
  bool start_object(std::size_t) { return open(false); }
  bool key(json::string_t& k) { return key_text(k); }
  bool key_text(std::string_view k) {
    lua_pushlstring(L_, k.data(), k.size());
    return true;
  }
  bool end_object() {
    closed_count_ = open_.back().count;
    const Open object = open_.back();
    open_.pop_back();
    restore_recorded_form(object);
    return finish_value();
  }
  bool start_array(std::size_t) { return open(true); }
  bool end_array() {
    closed_count_ = open_.back().count;
    open_.pop_back();
    return finish_value();
  }
  bool parse_error(std::size_t at, const std::string&, const nlohmann::detail::exception& e) {
    throw Error(ErrorCode::internal,
                "stored JSON is malformed at byte " + std::to_string(at) + ": " + e.what());
  }

 private:
  struct Open {
    int index;  // the table's stack slot
    bool array;
    lua_Integer count = 0;  // elements, or keys
  };

  bool open(bool array) {
    luaL_checkstack(L_, 4, "building a value from JSON");
    // JSON text does not say how large a container is; room for a few saves the first
    // rehashes of the small objects rows are made of.
    if (array) {
      lua_createtable(L_, 4, 0);
    } else {
      lua_createtable(L_, 0, 8);
    }
    open_.push_back({lua_gettop(L_), array});
    return true;
  }

  // The value on top is complete: it goes into the open container, if any (after its key,
  // for an object).
  bool finish_value() {
    if (open_.empty()) return true;
    Open& c = open_.back();
    ++c.count;
    if (c.array) {
      lua_rawseti(L_, c.index, c.count);
    } else {
      lua_rawset(L_, c.index);
    }
    return true;
  }

  // Replaces the object on top with the engine object, error or pairs table it records.
  void restore_recorded_form(const Open& object) {
    const int t = object.index;
    if (object.count == 2 && lua_getfield(L_, t, "$object") == LUA_TSTRING) {
      const Type* type = find_type(lua_tostring(L_, -1));
      if (!type) {
        throw Error(ErrorCode::internal,
                    std::string("history names unknown type ") + lua_tostring(L_, -1));
      }
      lua_getfield(L_, t, "id");
      const Id id = lua_tointeger(L_, -1);
      lua_pop(L_, 3);
      push_object(L_, *type, id);
      return;
    }
    lua_settop(L_, t);
    if (object.count != 1) return;
    if (lua_getfield(L_, t, "$error") == LUA_TTABLE) {
      lua_getfield(L_, -1, "code");
      lua_getfield(L_, -2, "message");
      const std::string code = lua_type(L_, -2) == LUA_TSTRING ? lua_tostring(L_, -2) : "SCRIPT";
      const std::string message = lua_type(L_, -1) == LUA_TSTRING ? lua_tostring(L_, -1) : "";
      lua_settop(L_, t - 1);
      push_error(L_, code.c_str(), message);
      return;
    }
    lua_settop(L_, t);
    if (lua_getfield(L_, t, "$pairs") == LUA_TTABLE) {
      const int list = lua_gettop(L_);
      const auto n = static_cast<lua_Integer>(lua_rawlen(L_, list));
      lua_createtable(L_, 0, static_cast<int>(n));
      for (lua_Integer i = 1; i <= n; ++i) {
        lua_rawgeti(L_, list, i);
        lua_rawgeti(L_, -1, 1);
        lua_rawgeti(L_, -2, 2);
        lua_rawset(L_, -4);
        lua_pop(L_, 1);
      }
      lua_replace(L_, t);
    }
    lua_settop(L_, t);
  }

  lua_State* L_;
  std::vector<Open> open_;
  lua_Integer closed_count_ = 0;

 public:
  // How many elements or keys the container closed last had: once parsing is done, the
  // outermost one's.
  lua_Integer closed_count() const { return closed_count_; }
};

}  // namespace

void push_json_text(lua_State* L, std::string_view text) {
  luaL_checkstack(L, 4, "building a value from JSON");
  LuaBuilder builder(L);
  nlohmann::json::sax_parse(text, &builder);
}

namespace {

// A tree deeper than this is left to the text path (whose parser does not recurse).
constexpr int kMaxTreeDepth = 256;

// Walks a tree as the parser walks text, so that the builder does exactly what it does
// for push_json_text. False, having stopped part way, for a tree nested too deep.
bool feed(LuaBuilder& b, const nlohmann::ordered_json& v, int depth) {
  if (depth > kMaxTreeDepth) return false;
  using Kind = nlohmann::ordered_json::value_t;
  switch (v.type()) {
    case Kind::null:
    case Kind::discarded:
    case Kind::binary:  // never parsed from JSON text; the builder makes it nil
      return b.null();
    case Kind::boolean:
      return b.boolean(v.get<bool>());
    case Kind::number_integer:
      return b.number_integer(v.get<nlohmann::json::number_integer_t>());
    case Kind::number_unsigned:
      return b.number_unsigned(v.get<nlohmann::json::number_unsigned_t>());
    case Kind::number_float:
      return b.number_float(v.get<double>(), {});
    case Kind::string:
      return b.text(v.get_ref<const std::string&>());
    case Kind::object:
      b.start_object(v.size());
      for (auto it = v.begin(); it != v.end(); ++it) {
        b.key_text(it.key());
        if (!feed(b, it.value(), depth + 1)) return false;
      }
      return b.end_object();
    case Kind::array:
      b.start_array(v.size());
      for (const auto& element : v) {
        if (!feed(b, element, depth + 1)) return false;
      }
      return b.end_array();
  }
  return false;
}

}  // namespace

bool push_json_tree(lua_State* L, const nlohmann::ordered_json& value) {
  luaL_checkstack(L, 4, "building a value from JSON");
  const int top = lua_gettop(L);
  LuaBuilder builder(L);
  if (feed(builder, value, 0)) return true;
  lua_settop(L, top);
  return false;
}

int push_json_values(lua_State* L, std::string_view text) {
  // Results are recorded compactly, by values_to_text.
  if (!text.starts_with('[')) throw Error(ErrorCode::internal, "recorded results are not a list");
  luaL_checkstack(L, 4, "building a value from JSON");
  LuaBuilder builder(L);
  nlohmann::json::sax_parse(text, &builder);
  const lua_Integer n = builder.closed_count();
  luaL_checkstack(L, static_cast<int>(n) + 2, "replaying results");
  const int array = lua_gettop(L);
  for (lua_Integer i = 1; i <= n; ++i) lua_rawgeti(L, array, i);
  lua_remove(L, array);
  return static_cast<int>(n);
}

void push_json(lua_State* L, const nlohmann::json& v) {
  push_json_text(L, dump(v));
}

std::string dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace casekit::lua
