#include "support/test_namespace.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "common/fd.h"
#include "common/file_util.h"
#include "net/ip_address.h"
#include "support/netlink_address.h"

namespace shadowai::test {
namespace {

bool entered = false;
bool hostsMounted = false;
bool resolvConfMounted = false;

constexpr const char* kHostIpv4Address = "127.0.1.1";

// The namespace's own scratch space: a private tmpfs on /tmp/shadowai-ns-PID. Not on /tmp itself,
// which would hide a checkout (and its binaries) that lives under /tmp, as a CI clone may.
constexpr const char* kScratchPrefix = "/tmp/shadowai-ns-";
std::string scratchRoot;

std::string etcOverrideDir() { return scratchRoot + "/etc"; }

Result<int> threadCount() {
  auto status = readFile("/proc/self/status");
  if (!status) return status.error();
  auto at = status->find("\nThreads:");
  if (at == std::string::npos) return makeError("no Threads: line in /proc/self/status");
  return std::atoi(status->c_str() + at + 9);
}

Status writeInPlace(const std::string& path, const std::string& content) {
  // In place (not write-and-rename): a bind mount pins the inode, so the file must stay the same one.
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) return errnoError("cannot write " + path);
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoError("cannot write " + path);
    }
    written += static_cast<size_t>(n);
  }
  return {};
}

Result<std::string> resolvedPath(const std::string& path) {
  std::unique_ptr<char, decltype(&::free)> resolved(::realpath(path.c_str(), nullptr), &::free);
  if (!resolved) {
    return errnoError(path + " does not resolve to an existing file (a dangling symlink?); cannot "
                      "bind-mount over it");
  }
  return std::string(resolved.get());
}

Status overrideEtcFile(const std::string& etcPath, const std::string& overrideName, const std::string& content,
                       bool& mounted) {
  if (!entered) return makeError("refusing to replace " + etcPath + " outside the test namespaces");
  const std::string source = etcOverrideDir() + "/" + overrideName;
  if (auto written = writeInPlace(source, content); !written) return written;
  if (mounted) return {};
  auto target = resolvedPath(etcPath);
  if (!target) return target.error();
  if (::mount(source.c_str(), target->c_str(), nullptr, MS_BIND, nullptr) != 0) {
    return errnoError("cannot bind-mount " + source + " over " + *target);
  }
  mounted = true;
  return {};
}

}  // namespace

std::string testIpv6Address(int n) { return "fd5a::" + std::to_string(n); }

bool insideTestNamespaces() { return entered; }

Status enterTestNamespaces() {
  if (entered) return {};
  auto threads = threadCount();
  if (!threads) return threads.error();
  if (*threads != 1) {
    return makeError("enterTestNamespaces must run before any thread starts (" + std::to_string(*threads) +
                     " threads)");
  }
  if (::unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) return errnoError("cannot unshare net and mount namespaces");
  // First of all: nothing mounted from here on may propagate to the host's mount namespace.
  if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return errnoError("cannot make / recursively private in the test mount namespace");
  }
  entered = true;

  scratchRoot = kScratchPrefix + std::to_string(::getpid());
  if (::mkdir(scratchRoot.c_str(), 01777) != 0 && errno != EEXIST) return errnoError("cannot create " + scratchRoot);
  if (auto mounted = mountPrivateFilesystem("tmpfs", scratchRoot); !mounted) return mounted;
  if (::chmod(scratchRoot.c_str(), 01777) != 0) return errnoError("cannot chmod " + scratchRoot);
  // Children (and std::filesystem::temp_directory_path) put their temporary files there too.
  ::setenv("TMPDIR", scratchRoot.c_str(), 1);
  if (::mkdir(etcOverrideDir().c_str(), 0755) != 0) return errnoError("cannot create " + etcOverrideDir());

  if (auto up = setLinkUp("lo"); !up) return up;
  // glibc's getaddrinfo(AI_ADDRCONFIG) (getent ahosts, Node, ...) returns nothing for IPv4 unless an
  // IPv4 address other than 127.0.0.1 exists; Debian hosts have 127.0.1.1, so the test world does too.
  // IPv6 is covered by the fd5a:: addresses.
  if (auto added = addTestAddress(kHostIpv4Address); !added) return added;
  for (int n = 1; n <= kTestIpv6AddressCount; ++n) {
    if (auto added = addTestAddress(testIpv6Address(n)); !added) return added;
  }
  return {};
}

Status addTestAddress(const std::string& address) {
  if (!entered) return makeError("refusing to add " + address + " outside the test namespaces");
  auto parsed = IpAddress::parse(address);
  if (!parsed) return makeError("not an IP address: " + address);
  return addInterfaceAddress("lo", *parsed, parsed->isV4() ? 32 : 128);
}

Status setHostsFile(const std::string& content) { return overrideEtcFile("/etc/hosts", "hosts", content, hostsMounted); }

Status setResolvConf(const std::string& content) {
  return overrideEtcFile("/etc/resolv.conf", "resolv.conf", content, resolvConfMounted);
}

Status mountPrivateFilesystem(const std::string& type, const std::string& directory) {
  if (!entered) return makeError("refusing to mount " + type + " on " + directory + " outside the test namespaces");
  if (::mount(type.c_str(), directory.c_str(), type.c_str(), MS_NOSUID | MS_NODEV, nullptr) != 0) {
    return errnoError("cannot mount " + type + " on " + directory);
  }
  return {};
}

const std::string& testScratchRoot() { return scratchRoot; }

void leaveTestScratch() {
  if (scratchRoot.empty()) return;
  ::umount2(scratchRoot.c_str(), MNT_DETACH);
  ::rmdir(scratchRoot.c_str());
}

void removeStaleTestScratch() {
  // Left by a test binary killed before leaveTestScratch(): empty directories of dead pids.
  for (const auto& entry : std::filesystem::directory_iterator("/tmp", std::filesystem::directory_options::skip_permission_denied)) {
    const std::string path = entry.path().string();
    if (path.rfind(kScratchPrefix, 0) != 0) continue;
    const std::string pid = path.substr(std::string(kScratchPrefix).size());
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (::kill(std::stoi(pid), 0) == 0 || errno != ESRCH) continue;
    ::rmdir(path.c_str());  // only if empty: it is, in the host's view, unless someone else used it
  }
}

}  // namespace shadowai::test
