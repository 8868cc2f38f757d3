// TempDir: a directory under /tmp that exists for as long as its owner and is removed with all its
// contents when the owner goes, so a failing assertion never leaves files behind.
#pragma once

#include <string>

#include "common/result.h"

namespace shadowai::test {

class TempDir {
 public:
  // mkdtemp("/tmp/<prefix>-XXXXXX").
  static Result<TempDir> create(const std::string& prefix = "shadowai-test");

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  ~TempDir();

  const std::string& path() const { return path_; }
  // path() + "/" + name; does not create anything.
  std::string filePath(const std::string& name) const { return path_ + "/" + name; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  void remove();

  std::string path_;
};

}  // namespace shadowai::test
