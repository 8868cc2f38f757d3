#include "observe/env_keys.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <memory>

#include "cgroup/cgroup_fs.h"
#include "common/fd.h"

namespace shadowai {
namespace {

constexpr size_t kFingerprintHexDigits = 12;
constexpr size_t kInitialEnvironBytes = 16 * 1024;
// The kernel bounds a process's arguments and environment by a quarter of its stack limit; past
// this we stop reading rather than follow a pathological process.
constexpr size_t kMaxEnvironBytes = 32 * 1024 * 1024;

// Holds a copy of another process's environment, secrets included. It is wiped when it grows and when
// it dies, so no key outlives the call in our heap. (readFile would leave copies in the buffers a
// std::string discards as it grows.)
class WipedBuffer {
 public:
  WipedBuffer() = default;
  WipedBuffer(const WipedBuffer&) = delete;
  WipedBuffer& operator=(const WipedBuffer&) = delete;
  ~WipedBuffer() { release(); }

  char* data() { return bytes_.get(); }
  size_t size() const { return size_; }
  size_t spare() const { return capacity_ - size_; }
  char* end() { return bytes_.get() + size_; }
  void grew(size_t count) { size_ += count; }

  bool reserveMore() {
    if (capacity_ >= kMaxEnvironBytes) return false;
    size_t capacity = capacity_ == 0 ? kInitialEnvironBytes : std::min(capacity_ * 2, kMaxEnvironBytes);
    auto bytes = std::make_unique_for_overwrite<char[]>(capacity);
    if (size_ > 0) std::copy_n(bytes_.get(), size_, bytes.get());
    release();
    bytes_ = std::move(bytes);
    capacity_ = capacity;
    return true;
  }

 private:
  void release() {
    if (bytes_) OPENSSL_cleanse(bytes_.get(), capacity_);
    bytes_.reset();
  }

  std::unique_ptr<char[]> bytes_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

Status readEnviron(const std::string& path, WipedBuffer& buffer) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return errnoError("cannot open " + path);
  for (;;) {
    if (buffer.spare() == 0 && !buffer.reserveMore()) return {};
    ssize_t n = ::read(fd.get(), buffer.end(), buffer.spare());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoError("cannot read " + path);
    }
    if (n == 0) return {};
    buffer.grew(static_cast<size_t>(n));
  }
}

std::optional<int> pidOfName(std::string_view name) {
  int pid = 0;
  auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), pid);
  if (error != std::errc{} || end != name.data() + name.size() || pid <= 0) return std::nullopt;
  return pid;
}

}  // namespace

std::string keyFingerprint(std::string_view value) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digestLength = 0;
  if (EVP_Digest(value.data(), value.size(), digest, &digestLength, EVP_sha256(), nullptr) != 1) {
    return "sha256:unavailable";  // only when OpenSSL itself is broken; never the value
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (size_t i = 0; i < kFingerprintHexDigits / 2; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  OPENSSL_cleanse(digest, sizeof(digest));
  return out;
}

Result<std::vector<EnvKeyFinding>> findEnvKeys(int pid, const std::set<std::string>& names,
                                               const std::string& procRoot) {
  WipedBuffer buffer;
  if (auto read = readEnviron(procRoot + "/" + std::to_string(pid) + "/environ", buffer); !read) {
    return read.error();
  }
  size_t longestName = 0;
  for (const auto& name : names) longestName = std::max(longestName, name.size());

  std::vector<EnvKeyFinding> findings;
  std::string_view rest(buffer.data(), buffer.size());
  while (!rest.empty()) {
    size_t end = rest.find('\0');
    std::string_view entry = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);

    size_t equals = entry.find('=');
    if (equals == std::string_view::npos || equals == 0 || equals > longestName) continue;
    std::string name(entry.substr(0, equals));
    std::string_view value = entry.substr(equals + 1);
    if (value.empty() || !names.contains(name)) continue;
    EnvKeyFinding finding{pid, std::move(name), keyFingerprint(value)};
    bool seen = std::any_of(findings.begin(), findings.end(), [&](const EnvKeyFinding& other) {
      return other.variable == finding.variable && other.fingerprint == finding.fingerprint;
    });
    if (!seen) findings.push_back(std::move(finding));
  }
  return findings;
}

EnvScanResult scanEnvKeys(const std::set<std::string>& names, std::optional<std::string> cgroupFilter,
                          const std::string& procRoot) {
  EnvScanResult result;
  std::error_code error;
  std::filesystem::directory_iterator entries(procRoot, error);
  if (error) return result;
  for (; entries != std::filesystem::directory_iterator(); entries.increment(error)) {
    if (error) break;
    const std::string name = entries->path().filename().string();
    auto parsedPid = pidOfName(name);
    if (!parsedPid) continue;
    const int pid = *parsedPid;
    if (cgroupFilter) {
      auto cgroup = cgroupPathOfProcess(pid, procRoot);
      if (!cgroup) {
        ++result.processesSkipped;
        continue;
      }
      if (!isCgroupPathWithin(*cgroup, *cgroupFilter)) continue;
    }
    auto findings = findEnvKeys(pid, names, procRoot);
    if (!findings) {
      ++result.processesSkipped;
      continue;
    }
    ++result.processesScanned;
    for (auto& finding : *findings) result.findings.push_back(std::move(finding));
  }
  return result;
}

}  // namespace shadowai
