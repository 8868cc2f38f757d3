// Finding and reading catalog files: the shipped file, then the operator's drop-in directories.
#include <algorithm>
#include <filesystem>
#include <system_error>

#include "catalog/catalog.h"
#include "common/file_util.h"

namespace shadowai {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCatalogFileName = "endpoints.json";

// Every *.json in DIR, sorted by name. Hidden files are skipped: editors leave ".#x.json" and
// ".x.json.swp"-style files behind, and a half-written file must not break the daemon.
Result<std::vector<std::string>> catalogFilesIn(const std::string& dir) {
  std::error_code error;
  fs::file_status status = fs::status(dir, error);
  if (status.type() == fs::file_type::not_found) return std::vector<std::string>{};
  if (error) return makeError("cannot read directory " + dir, error.value());
  if (!fs::is_directory(status)) return makeError(dir + " is not a directory");

  std::vector<std::string> files;
  fs::directory_iterator it(dir, error);
  for (; !error && it != fs::directory_iterator(); it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with('.') || !name.ends_with(".json")) continue;
    // A directory named x.json is skipped; anything else (a file, a dangling link) is read and
    // reports its own error.
    std::error_code typeError;
    if (it->is_directory(typeError)) continue;
    files.push_back(it->path().string());
  }
  if (error) return makeError("cannot read directory " + dir, error.value());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

Result<Catalog> Catalog::load(const std::string& shippedFile, const std::vector<std::string>& extraDirs) {
  Catalog catalog;
  auto addFile = [&catalog](const std::string& path) -> Status {
    auto text = readFile(path);
    if (!text) return text.error();
    return catalog.addDocument(*text, path);
  };
  if (auto shipped = addFile(shippedFile); !shipped) return shipped.error();
  for (const std::string& dir : extraDirs) {
    auto files = catalogFilesIn(dir);
    if (!files) return files.error();
    for (const std::string& file : *files) {
      if (auto added = addFile(file); !added) return added.error();
    }
  }
  return catalog;
}

std::string Catalog::defaultShippedFile() {
  const std::string installed = std::string(SHADOWAI_INSTALLED_RULES_DIR) + "/" + kCatalogFileName;
  std::error_code error;
  if (fs::exists(installed, error)) return installed;
  return std::string(SHADOWAI_SOURCE_RULES_DIR) + "/" + kCatalogFileName;
}

std::string Catalog::defaultExtraDir() { return "/etc/shadowai/endpoints.d"; }

}  // namespace shadowai
