#include "shared/process_figures.h"

#include <time.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>

#include "common/file_util.h"

namespace shadowai::bench {
namespace {

// The number after "KEY" in a "Key:   value ..." line of TEXT.
std::optional<uint64_t> procField(const std::string& text, const std::string& key) {
  size_t at = text.rfind("\n" + key, std::string::npos);
  if (at == std::string::npos) {
    if (text.rfind(key, 0) != 0) return std::nullopt;
    at = 0;
  } else {
    ++at;
  }
  return std::strtoull(text.c_str() + at + key.size(), nullptr, 10);
}

}  // namespace

Result<MemoryFigures> readMemoryFigures(pid_t pid) {
  const std::string base = "/proc/" + std::to_string(pid);
  auto status = readFile(base + "/status");
  if (!status) return status.error();
  auto rollup = readFile(base + "/smaps_rollup");
  if (!rollup) return rollup.error();
  MemoryFigures figures;
  figures.rssKiB = procField(*status, "VmRSS:").value_or(0);
  figures.threads = procField(*status, "Threads:").value_or(0);
  figures.pssKiB = procField(*rollup, "Pss:").value_or(0);
  std::error_code error;
  for (auto it = std::filesystem::directory_iterator(base + "/fd", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++figures.openFiles;
  }
  if (error) return makeError("cannot list " + base + "/fd: " + error.message());
  return figures;
}

Result<OpenFileLimit> readOpenFileLimit(pid_t pid) {
  auto limits = readFile("/proc/" + std::to_string(pid) + "/limits");
  if (!limits) return limits.error();
  const size_t at = limits->find("Max open files");
  if (at == std::string::npos) return makeError("no \"Max open files\" in /proc/PID/limits");
  std::istringstream line(limits->substr(at + std::strlen("Max open files")));
  std::string soft;
  std::string hard;
  line >> soft >> hard;
  auto number = [](const std::string& text) {
    return text == "unlimited" ? std::numeric_limits<uint64_t>::max() : std::strtoull(text.c_str(), nullptr, 10);
  };
  return OpenFileLimit{number(soft), number(hard)};
}

Result<uint64_t> processCpuNs(pid_t pid) {
  clockid_t clock;
  if (int error = ::clock_getcpuclockid(pid, &clock); error != 0) {
    return makeError("no CPU clock for process " + std::to_string(pid), error);
  }
  timespec ts{};
  if (::clock_gettime(clock, &ts) != 0) return errnoError("cannot read the CPU clock of " + std::to_string(pid));
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace shadowai::bench
