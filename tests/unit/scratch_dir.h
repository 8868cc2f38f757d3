// ScratchDir: a temporary directory for a unit test, removed with everything in it at scope end.
// (The integration tests' TempDir in tests/support returns a Result; unit tests want it simpler.)
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace shadowai {

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "shadowai-unit-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace shadowai
