#include "bindings/journal.hpp"

#include <algorithm>
#include <cstring>

#include "bindings/modules.hpp"

namespace casekit::lua {

Journal::Journal(std::vector<Command> history, bool verify_only)
    : history_(std::move(history)), unsaved_from_(history_.size()), verify_only_(verify_only) {}

std::string Journal::halt_message() const {
  if (divergence_) return "instance stopped: " + divergence_->message;
  return "instance stopped: end of the recorded history";
}

namespace {

std::string describe(const std::string& name, const std::string& args) {
  return name + " " + args;
}

}  // namespace

const Command* Journal::match(const std::string& name, const std::string& args,
                              const std::string& line) {
  const Command& recorded = history_[cursor_];
  if (recorded.name == name && recorded.args == args) {
    ++cursor_;
    return &recorded;
  }
  Divergence d;
  d.position = recorded.seq;
  d.expected = describe(recorded.name, recorded.args);
  d.found = describe(name, args);
  d.line = line;
  d.message = "replay diverged at command " + std::to_string(recorded.seq) + ": expected " +
              d.expected + " (recorded at " + recorded.line + "), found " + d.found + " at " + line;
  divergence_ = std::move(d);
  return nullptr;
}

void Journal::check_consumed(const std::string& how_it_ended) {
  if (divergence_ || cursor_ >= history_.size()) return;
  const Command& next = history_[cursor_];
  Divergence d;
  d.position = next.seq;
  d.expected = describe(next.name, next.args);
  d.found = how_it_ended;
  d.line = next.line;
  d.message = "replay diverged at command " + std::to_string(next.seq) + ": expected " +
              d.expected + " (recorded at " + next.line + "), but " + how_it_ended;
  divergence_ = std::move(d);
}

void Journal::record(std::string name, std::string args, std::optional<std::string> result,
                     std::string line) {
  const std::int64_t seq = history_.empty() ? 1 : history_.back().seq + 1;
  history_.push_back({seq, std::move(name), std::move(args), std::move(result), std::move(line)});
  cursor_ = history_.size();
}

void Journal::resolve_last(std::string result) {
  history_.back().result = std::move(result);
}

std::span<const Command> Journal::unsaved() const {
  return std::span(history_).subspan(unsaved_from_);
}

// ---- values ---------------------------------------------------------------------------------

namespace {

constexpr int kMaxDepth = 32;

[[noreturn]] void unrecordable(const std::string& what) {
  throw Error(ErrorCode::bad_argument, "cannot record " + what +
                                           " in a procedure's history (use strings, numbers, "
                                           "booleans, tables of them, and engine objects)");
}

bool is_error_table(lua_State* L, int index) {
  if (!lua_getmetatable(L, index)) return false;
  luaL_getmetatable(L, "casekit.error");
  const bool same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same;
}

nlohmann::json encode(lua_State* L, int index, int depth);

// The type name and id of the engine object (an SR, a Casegroup, ...) at `index`; any other
// userdata cannot be recorded.
std::pair<std::string, Id> engine_object(lua_State* L, int index) {
  if (lua_getmetatable(L, index)) {
    lua_getfield(L, -1, "__name");
    size_t len = 0;
    const char* type = lua_tolstring(L, -1, &len);
    std::string name = type ? std::string(type, len) : std::string();
    lua_pop(L, 2);
    if (find_type(name)) return {std::move(name), *static_cast<Id*>(lua_touserdata(L, index))};
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
      return {{"$object", type}, {"id", static_cast<std::int64_t>(id)}};
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

// A string as dump() writes it. Printable ASCII without quotes or backslashes, which is
// nearly every string a procedure passes, is written as it is; anything else goes through
// the JSON library, so escapes and invalid UTF-8 come out exactly as they always have.
void write_string(const char* s, std::size_t len, std::string& out) {
  for (std::size_t i = 0; i < len; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') {
      out += dump(nlohmann::json(std::string(s, len)));
      return;
    }
  }
  out += '"';
  out.append(s, len);
  out += '"';
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
    out += '[';
    for (lua_Integer i = 1; i <= list_length; ++i) {
      if (i > 1) out += ',';
      lua_rawgeti(L, t, i);
      write_value(L, -1, depth + 1, out);
      lua_pop(L, 1);
    }
    out += ']';
  } else if (all_strings) {
    // Keys sorted bytewise, as the tree's std::map orders them.
    std::vector<std::pair<std::string, std::string>> fields;
    fields.reserve(count);
    lua_pushnil(L);
    while (lua_next(L, t)) {
      size_t len = 0;
      const char* k = lua_tolstring(L, -2, &len);
      std::string value;
      write_value(L, -1, depth + 1, value);
      fields.emplace_back(std::string(k, len), std::move(value));
      lua_pop(L, 1);
    }
    std::sort(fields.begin(), fields.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    out += '{';
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) out += ',';
      write_string(fields[i].first.data(), fields[i].first.size(), out);
      out += ':';
      out += fields[i].second;
    }
    out += '}';
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
        out += std::to_string(lua_tointeger(L, index));
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
      write_string(type.data(), type.size(), out);
      out += ",\"id\":";
      out += std::to_string(id);
      out += '}';
      return;
    }
    default:
      unrecordable(std::string("a ") + luaL_typename(L, index));
  }
}

}  // namespace

std::string values_to_text(lua_State* L, int first) {
  std::string out = "[";
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

void push_json(lua_State* L, const nlohmann::json& v) {
  luaL_checkstack(L, 4, "replaying a result");
  switch (v.type()) {
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      lua_pushnil(L);
      return;
    case nlohmann::json::value_t::boolean:
      lua_pushboolean(L, v.get<bool>());
      return;
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      lua_pushinteger(L, v.get<std::int64_t>());
      return;
    case nlohmann::json::value_t::number_float:
      lua_pushnumber(L, v.get<double>());
      return;
    case nlohmann::json::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      lua_pushlstring(L, s.data(), s.size());
      return;
    }
    case nlohmann::json::value_t::array: {
      lua_createtable(L, static_cast<int>(v.size()), 0);
      lua_Integer i = 0;
      for (const auto& item : v) {
        push_json(L, item);
        lua_rawseti(L, -2, ++i);
      }
      return;
    }
    case nlohmann::json::value_t::object: {
      if (auto it = v.find("$object"); it != v.end() && v.size() == 2) {
        const Type* type = find_type(it->get<std::string>());
        if (!type) throw Error(ErrorCode::internal, "history names unknown type " + it->dump());
        push_object(L, *type, v.at("id").get<Id>());
        return;
      }
      if (auto it = v.find("$error"); it != v.end() && v.size() == 1) {
        push_error(L, it->value("code", "SCRIPT").c_str(), it->value("message", ""));
        return;
      }
      if (auto it = v.find("$pairs"); it != v.end() && v.size() == 1) {
        lua_createtable(L, 0, static_cast<int>(it->size()));
        for (const auto& kv : *it) {
          push_json(L, kv.at(0));
          push_json(L, kv.at(1));
          lua_rawset(L, -3);
        }
        return;
      }
      lua_createtable(L, 0, static_cast<int>(v.size()));
      for (const auto& [key, value] : v.items()) {
        lua_pushlstring(L, key.data(), key.size());
        push_json(L, value);
        lua_rawset(L, -3);
      }
      return;
    }
    default:
      lua_pushnil(L);
  }
}

std::string dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace casekit::lua
