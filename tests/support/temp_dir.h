// TempDir: a directory under $TMPDIR (or /tmp) that exists for as long as its owner and is removed
// with all its contents when the owner goes, so a failing assertion never leaves files behind.
#pragma once

#include <string>

#include "common/result.h"

namespace shadowai::test {

class TempDir {
 public:
  // mkdtemp("$TMPDIR/<prefix>-XXXXXX"), or an error saying why it could not be made.
  static Result<TempDir> create(const std::string& prefix = "shadowai-test");

  // The same for a member or a local that a test cannot do without: throws std::runtime_error with
  // mkdtemp's reason when the directory cannot be made (gtest reports it as the test's failure), so
  // nothing ever runs with an empty path.
  explicit TempDir(const std::string& prefix = "shadowai-test");

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  ~TempDir();

  const std::string& path() const { return path_; }
  // path() + "/" + name; does not create anything.
  std::string filePath(const std::string& name) const { return path_ + "/" + name; }

 private:
  struct Made {
    std::string path;
  };
  explicit TempDir(Made made) : path_(std::move(made.path)) {}
  static Result<std::string> makeDirectory(const std::string& prefix);
  void remove();

  std::string path_;
};

}  // namespace shadowai::test
