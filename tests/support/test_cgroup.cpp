#include "support/test_cgroup.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <thread>
#include <utility>

#include "cgroup/cgroup_fs.h"
#include "common/file_util.h"

namespace shadowai::test {
namespace {

constexpr const char* kPrefix = "shadowai-test-";
constexpr auto kEmptyTimeout = std::chrono::seconds(10);

Status writeControlFile(const std::string& path, const std::string& value) {
  FILE* file = std::fopen(path.c_str(), "we");
  if (file == nullptr) return errnoError("cannot open " + path);
  // Kernel control files take one write; report the errno of that write, not of fclose.
  const bool written = std::fputs(value.c_str(), file) >= 0 && std::fflush(file) == 0;
  const int saved = errno;
  std::fclose(file);
  if (!written) return makeError("cannot write " + value + " to " + path, saved);
  return {};
}

bool isPopulated(const std::string& cgroupPath) {
  auto events = readFile(cgroupPath + "/cgroup.events");
  if (!events) return false;  // gone
  return events->find("populated 1") != std::string::npos;
}

std::vector<std::string> subdirectories(const std::string& path) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
    std::error_code ignored;
    if (entry.is_directory(ignored) && !entry.is_symlink(ignored)) names.push_back(entry.path().string());
  }
  return names;
}

// Children first: rmdir of a cgroup fails while it has child cgroups.
void removeTree(const std::string& path) {
  for (const auto& child : subdirectories(path)) removeTree(child);
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return;
    if (errno != EBUSY) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::fprintf(stderr, "TestCgroup: cannot remove %s: %s\n", path.c_str(), std::strerror(errno));
}

// Without cgroup.kill (kernels before 5.14): SIGKILL every pid listed in the subtree. These cgroups
// only ever hold processes the test itself put there.
void killListedProcesses(const std::string& path) {
  for (const auto& child : subdirectories(path)) killListedProcesses(child);
  auto procs = readFile(path + "/cgroup.procs");
  if (!procs) return;
  size_t at = 0;
  while (at < procs->size()) {
    size_t end = procs->find('\n', at);
    if (end == std::string::npos) end = procs->size();
    pid_t pid = static_cast<pid_t>(std::atoi(procs->substr(at, end - at).c_str()));
    if (pid > 0) ::kill(pid, SIGKILL);
    at = end + 1;
  }
}

}  // namespace

TestCgroup::TestCgroup(std::string root, std::string relativePath, uint64_t id)
    : root_(std::move(root)), relativePath_(std::move(relativePath)), path_(root_ + relativePath_), id_(id) {}

Result<TestCgroup> TestCgroup::create(const std::string& name) {
  auto root = findCgroup2Mount();
  if (!root) return root.error();
  const std::string base = std::string("/") + kPrefix + std::to_string(::getpid()) + "-" + name;
  std::string relative = base;
  for (int suffix = 2; ::mkdir((*root + relative).c_str(), 0755) != 0; ++suffix) {
    if (errno != EEXIST || suffix > 1000) return errnoError("cannot create cgroup " + *root + relative);
    relative = base + "-" + std::to_string(suffix);
  }
  auto id = cgroupIdOfPath(*root + relative);
  if (!id) {
    ::rmdir((*root + relative).c_str());
    return id.error();
  }
  return TestCgroup(*root, relative, *id);
}

Result<TestCgroup> TestCgroup::createChild(const std::string& name) const {
  const std::string relative = relativePath_ + "/" + name;
  if (::mkdir((root_ + relative).c_str(), 0755) != 0) return errnoError("cannot create cgroup " + root_ + relative);
  auto id = cgroupIdOfPath(root_ + relative);
  if (!id) {
    ::rmdir((root_ + relative).c_str());
    return id.error();
  }
  return TestCgroup(root_, relative, *id);
}

TestCgroup::TestCgroup(TestCgroup&& other) noexcept
    : root_(std::move(other.root_)),
      relativePath_(std::move(other.relativePath_)),
      path_(std::exchange(other.path_, {})),
      id_(other.id_) {}

TestCgroup& TestCgroup::operator=(TestCgroup&& other) noexcept {
  if (this != &other) {
    remove();
    root_ = std::move(other.root_);
    relativePath_ = std::move(other.relativePath_);
    path_ = std::exchange(other.path_, {});
    id_ = other.id_;
  }
  return *this;
}

TestCgroup::~TestCgroup() { remove(); }

Status TestCgroup::addProcess(pid_t pid) const {
  return writeControlFile(path_ + "/cgroup.procs", std::to_string(pid));
}

Result<std::vector<pid_t>> TestCgroup::processes() const {
  auto procs = readFile(path_ + "/cgroup.procs");
  if (!procs) return procs.error();
  std::vector<pid_t> pids;
  size_t at = 0;
  while (at < procs->size()) {
    size_t end = procs->find('\n', at);
    if (end == std::string::npos) end = procs->size();
    if (end > at) pids.push_back(static_cast<pid_t>(std::atoi(procs->substr(at, end - at).c_str())));
    at = end + 1;
  }
  return pids;
}

void TestCgroup::remove() {
  if (path_.empty()) return;
  if (isPopulated(path_)) {
    if (!writeControlFile(path_ + "/cgroup.kill", "1")) killListedProcesses(path_);
    const auto deadline = std::chrono::steady_clock::now() + kEmptyTimeout;
    while (isPopulated(path_) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  removeTree(path_);
  path_.clear();
}

void removeStaleTestCgroups() {
  auto root = findCgroup2Mount();
  if (!root) return;
  for (const auto& path : subdirectories(*root)) {
    const std::string name = std::filesystem::path(path).filename().string();
    if (name.rfind(kPrefix, 0) != 0) continue;
    const pid_t owner = static_cast<pid_t>(std::atoi(name.c_str() + std::strlen(kPrefix)));
    if (owner <= 0 || ::kill(owner, 0) == 0 || errno != ESRCH) continue;  // owner alive (or unknown)
    if (isPopulated(path)) {
      std::fprintf(stderr, "leaving stale cgroup %s: it still holds processes\n", path.c_str());
      continue;
    }
    removeTree(path);
  }
}

}  // namespace shadowai::test
