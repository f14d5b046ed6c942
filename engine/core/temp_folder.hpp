// A folder of its own under the system's temporary directory, removed with everything in it
// when the object goes: a scenario's database (casekit test), a test's files.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

#include "engine/core/error.hpp"

namespace casekit {

class TempFolder {
 public:
  TempFolder() {
    std::string pattern = (std::filesystem::temp_directory_path() / "casekit-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw Error(ErrorCode::io, "cannot make a temporary folder");
    path_ = pattern;
  }
  ~TempFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace casekit
