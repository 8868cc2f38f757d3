#include "observe/hosts_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>

#include "common/file_util.h"

namespace shadowai {
namespace {

bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

// Splits LINE at blanks.
std::vector<std::string_view> fieldsOf(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t at = 0;
  while (at < line.size()) {
    while (at < line.size() && isBlank(line[at])) ++at;
    const size_t start = at;
    while (at < line.size() && !isBlank(line[at])) ++at;
    if (at > start) fields.push_back(line.substr(start, at - start));
  }
  return fields;
}

}  // namespace

std::vector<HostsEntry> parseHostsFile(std::string_view text) {
  std::vector<HostsEntry> entries;
  size_t lineStart = 0;
  while (lineStart < text.size()) {
    size_t lineEnd = text.find('\n', lineStart);
    if (lineEnd == std::string_view::npos) lineEnd = text.size();
    std::string_view line = text.substr(lineStart, lineEnd - lineStart);
    lineStart = lineEnd + 1;
    if (size_t comment = line.find('#'); comment != std::string_view::npos) line = line.substr(0, comment);
    auto fields = fieldsOf(line);
    if (fields.size() < 2) continue;
    auto address = IpAddress::parse(fields[0]);
    if (!address) continue;
    HostsEntry entry{*address, {}};
    for (size_t i = 1; i < fields.size(); ++i) {
      std::string name(fields[i]);
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      if (!name.empty() && name.back() == '.') name.pop_back();  // "api.openai.com." is the same name
      if (!name.empty()) entry.names.push_back(std::move(name));
    }
    if (!entry.names.empty()) entries.push_back(std::move(entry));
  }
  return entries;
}

size_t learnCatalogHosts(const Catalog& catalog, const std::string& path, AddressNames& target, uint32_t ttlSeconds) {
  struct stat info{};
  if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode) || static_cast<size_t>(info.st_size) > kMaxHostsFileBytes) {
    return 0;
  }
  auto text = readFile(path);
  if (!text) return 0;
  size_t learned = 0;
  for (const auto& entry : parseHostsFile(*text)) {
    std::vector<std::string> llmNames;
    for (const auto& name : entry.names) {
      auto match = catalog.matchHost(name, 443);
      if (match && match->entry->category == EndpointCategory::kHosted) llmNames.push_back(name);
    }
    if (llmNames.empty()) continue;
    target.learn(entry.address, llmNames, ttlSeconds);
    ++learned;
  }
  return learned;
}

}  // namespace shadowai
