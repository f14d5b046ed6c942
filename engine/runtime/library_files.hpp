// The library folders procedures and scripts require modules from, and what they hold at
// one moment. No Lua here: the durable store keeps these files for the instances pinned
// to them.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace casekit {

// Where `require "x.y"` may look: dir/x/y.lua, shown in errors as display/x/y.lua.
struct LibraryDir {
  std::filesystem::path dir;
  std::string display;
};

// Every library module a require could load at one moment: each .lua file under the
// library folders by the name errors show ("procedures/lib/arrears/common.lua"), with its
// text. A durable instance is pinned to the files as they were when it started (see
// ProcedureRuntime), and its sandbox requires from them instead of the folders
// (Sandbox::pin_libraries).
using LibraryFiles = std::map<std::string, std::string, std::less<>>;

// Reads every .lua file under `libraries` (a folder that does not exist holds none). More
// than kMaxLibraryFiles files, or one that read_script refuses, is an error.
constexpr std::size_t kMaxLibraryFiles = 1000;
LibraryFiles read_library_files(const std::vector<LibraryDir>& libraries);

}  // namespace casekit
