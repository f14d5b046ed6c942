// require and its chunk cache: library modules are read from the sandbox's library
// folders as source text (never bytecode from outside), compiled once per runtime, and
// loaded afresh in each environment.
#include <fstream>

#include "engine/runtime/sandbox_internal.hpp"

namespace casekit {
namespace {

constexpr std::size_t kMaxScriptBytes = 4u << 20;

}  // namespace

namespace sandbox {
namespace {

bool valid_module_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || name.front() == '.' || name.back() == '.') return false;
  char prev = '.';
  for (char c : name) {
    const bool word = std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    if (!word && c != '.') return false;
    if (c == '.' && prev == '.') return false;
    prev = c;
  }
  return true;
}

// Pushes the compiled module, or its error message and returns false. A module found in
// the cache is loaded from the bytecode our own compiler made of the same text.
bool load_module(lua_State* L, ChunkCache* cache, const std::string& source,
                 const std::string& chunkname) {
  if (const std::string* bytecode = cache ? cache->find(source) : nullptr) {
    return load_bytecode(L, *bytecode, chunkname);
  }
  if (luaL_loadbufferx(L, source.data(), source.size(), chunkname.c_str(), "t") != LUA_OK)
    return false;
  if (cache) cache->keep(source, bytecode_of_top(L));
  return true;
}

// The text of a library file, or nullopt if there is none; through the runtime's cache
// when there is one.
std::optional<std::string> library_text(ChunkCache* cache, const std::filesystem::path& file) {
  if (cache) {
    const std::string* text = cache->read(file);
    return text ? std::optional(*text) : std::nullopt;
  }
  if (!std::filesystem::is_regular_file(file)) return std::nullopt;
  return read_script(file);
}

std::optional<std::string> pinned_text(const LibraryFiles& files, const std::string& file) {
  const auto it = files.find(file);
  return it == files.end() ? std::nullopt : std::optional(it->second);
}

// Pushes the module's chunk, loaded before by this state from the same text, pointed at the
// current environment; false, pushing nothing, if there is none. A chunk run again makes a
// fresh module, as one loaded afresh would (the instance that ran it before is gone).
bool push_kept_module(lua_State* L, const std::string& chunkname, const std::string& source) {
  auto& kept = budget_of(L).module_texts;
  const auto it = kept.find(chunkname);
  if (it == kept.end() || it->second != source) return false;
  lua_getfield(L, LUA_REGISTRYINDEX, kModuleChunks);
  lua_getfield(L, -1, chunkname.c_str());
  lua_remove(L, -2);
  point_env_at_globals(L);
  return true;
}

// Keeps the chunk on top of the stack (left there) for push_kept_module.
void keep_module(lua_State* L, const std::string& chunkname, std::string source) {
  lua_getfield(L, LUA_REGISTRYINDEX, kModuleChunks);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, chunkname.c_str());
  lua_pop(L, 1);
  budget_of(L).module_texts.insert_or_assign(chunkname, std::move(source));
}

}  // namespace

std::string bytecode_of_top(lua_State* L) {
  std::string out;
  lua_dump(
      L,
      [](lua_State*, const void* p, size_t n, void* ud) {
        static_cast<std::string*>(ud)->append(static_cast<const char*>(p), n);
        return 0;
      },
      &out, 0);
  return out;
}

void point_env_at_globals(lua_State* L) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
}

bool load_bytecode(lua_State* L, std::string_view bytecode, const std::string& chunkname) {
  if (luaL_loadbufferx(L, bytecode.data(), bytecode.size(), chunkname.c_str(), "b") != LUA_OK)
    return false;
  point_env_at_globals(L);
  return true;
}

// require(name): only modules under the sandbox's library folders, as source text.
int require(lua_State* L) {
  const char* name = luaL_checkstring(L, 1);
  if (!valid_module_name(name)) {
    return luaL_error(L, "require: bad module name '%s' (use letters, digits, _ and dots)", name);
  }
  lua_getfield(L, LUA_REGISTRYINDEX, kLoaded);
  if (lua_getfield(L, -1, name) != LUA_TNIL) {
    if (lua_type(L, -1) == LUA_TLIGHTUSERDATA)
      return luaL_error(L, "require: '%s' requires itself", name);
    return 1;
  }
  lua_pop(L, 1);
  const int loaded = lua_gettop(L);
  std::string relative(name);
  for (char& c : relative) {
    if (c == '.') c = '/';
  }
  relative += ".lua";
  auto& b = budget_of(L);
  std::string tried;
  for (const auto& lib : b.libraries) {
    const std::string file = lib.display + "/" + relative;
    std::optional<std::string> source;
    try {
      source = b.pinned ? pinned_text(*b.pinned, file) : library_text(b.chunks, lib.dir / relative);
    } catch (const std::exception& e) {
      return luaL_error(L, "require: %s", e.what());
    }
    if (!source) {
      tried += "\n\tno file " + file;
      continue;
    }
    const std::string chunkname = "@" + file;
    if (!push_kept_module(L, chunkname, *source)) {
      if (!load_module(L, b.chunks, *source, chunkname)) return lua_error(L);
      keep_module(L, chunkname, std::move(*source));
    }
    lua_pushlightuserdata(L, &b);  // a marker: "being loaded", to catch cycles
    lua_setfield(L, loaded, name);
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, loaded, name);
    return 1;
  }
  return luaL_error(L, "require: module '%s' not found:%s", name, tried.c_str());
}

}  // namespace sandbox

std::string read_script(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    throw Error(ErrorCode::not_found, "script not found: " + file.string());
  }
  if (std::filesystem::file_size(file, ec) > kMaxScriptBytes) {
    throw Error(ErrorCode::bad_argument, file.string() + ": script larger than 4 MiB");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorCode::io, "cannot read " + file.string());
  std::string text;
  char buffer[16384];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) text.append(buffer, in.gcount());
  if (in.bad()) throw Error(ErrorCode::io, "cannot read " + file.string());
  return text;
}

const std::string* ChunkCache::read(const std::filesystem::path& path) {
  if (!holding_) {
    unheld_ =
        std::filesystem::is_regular_file(path) ? std::optional(read_script(path)) : std::nullopt;
    return unheld_ ? &*unheld_ : nullptr;
  }
  auto it = files_.find(path.native());
  if (it == files_.end()) {
    std::optional<std::string> text;
    if (std::filesystem::is_regular_file(path)) text = read_script(path);
    it = files_.emplace(path.native(), std::move(text)).first;
  }
  return it->second ? &*it->second : nullptr;
}

void ChunkCache::hold_files(bool hold) {
  holding_ = hold;
  if (!hold) files_.clear();
}

void Sandbox::cache_libraries_in(ChunkCache* cache) {
  budget_->chunks = cache;
}

void Sandbox::pin_libraries(const LibraryFiles* files) {
  budget_->pinned = files;
}

LibraryFiles read_library_files(const std::vector<LibraryDir>& libraries) {
  LibraryFiles out;
  for (const auto& lib : libraries) {
    std::error_code ec;
    if (!std::filesystem::is_directory(lib.dir, ec)) continue;
    std::filesystem::recursive_directory_iterator it(lib.dir, ec), end;
    if (ec) throw Error(ErrorCode::io, "cannot read " + lib.display + ": " + ec.message());
    for (; it != end; it.increment(ec)) {
      if (ec) throw Error(ErrorCode::io, "cannot read " + lib.display + ": " + ec.message());
      if (it->path().extension() != ".lua" || !it->is_regular_file(ec)) continue;
      if (out.size() == kMaxLibraryFiles) {
        throw Error(ErrorCode::limit, "the library folders hold more than " +
                                          std::to_string(kMaxLibraryFiles) + " .lua files");
      }
      const auto relative = it->path().lexically_relative(lib.dir).generic_string();
      out.emplace(lib.display + "/" + relative, read_script(it->path()));
    }
  }
  return out;
}

}  // namespace casekit
