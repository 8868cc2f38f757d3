#include "support/temp_dir.h"

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

namespace shadowai::test {

Result<std::string> TempDir::makeDirectory(const std::string& prefix) {
  // TMPDIR is the test namespace's private scratch tmpfs when the tests run inside one.
  const char* base = ::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) return errnoError("cannot create a directory like " + pattern);
  return std::string(buffer.data());
}

Result<TempDir> TempDir::create(const std::string& prefix) {
  auto path = makeDirectory(prefix);
  if (!path) return path.error();
  return TempDir(Made{std::move(*path)});
}

TempDir::TempDir(const std::string& prefix) {
  auto path = makeDirectory(prefix);
  if (!path) throw std::runtime_error(path.error().describe());
  path_ = std::move(*path);
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::exchange(other.path_, {});
  }
  return *this;
}

TempDir::~TempDir() { remove(); }

void TempDir::remove() {
  if (path_.empty()) return;
  // remove_all does not follow symlinks, so a link a test left here never takes anything outside with it.
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
  path_.clear();
}

}  // namespace shadowai::test
