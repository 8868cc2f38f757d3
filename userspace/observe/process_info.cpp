#include "observe/process_info.h"

#include <pwd.h>
#include <unistd.h>

#include <charconv>
#include <vector>

#include "cgroup/cgroup_fs.h"
#include "common/file_util.h"
#include "observe/detection.h"

namespace shadowai {
namespace {

constexpr std::string_view kEllipsis = "...";

std::string_view trimNewline(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.remove_suffix(1);
  return text;
}

// The effective uid from "Uid:\treal\teffective\tsaved\tfs" in /proc/PID/status.
std::optional<uint32_t> effectiveUidFromStatus(std::string_view status) {
  size_t at = status.starts_with("Uid:") ? 0 : status.find("\nUid:");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view line = status.substr(at + (status[at] == '\n' ? 5 : 4));
  line = line.substr(0, line.find('\n'));
  std::optional<uint32_t> field;
  for (int index = 0; index < 2; ++index) {
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos) return std::nullopt;
    line.remove_prefix(start);
    uint32_t value = 0;
    auto [end, error] = std::from_chars(line.data(), line.data() + line.size(), value);
    if (error != std::errc{}) return std::nullopt;
    field = value;
    line.remove_prefix(static_cast<size_t>(end - line.data()));
  }
  return field;
}

}  // namespace

std::string formatCmdline(std::string_view raw, size_t maxBytes) {
  while (!raw.empty() && raw.back() == '\0') raw.remove_suffix(1);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : raw) {
    if (out.size() > maxBytes) break;  // enough to know it is cut; cmdline can be megabytes
    const auto byte = static_cast<unsigned char>(c);
    if (byte == '\0') {
      out.push_back(' ');
    } else if (byte < 0x20 || byte >= 0x7f || byte == '\\') {
      out += {'\\', 'x', kHex[byte >> 4], kHex[byte & 0xf]};
    } else {
      out.push_back(c);
    }
  }
  if (out.size() <= maxBytes) return out;
  if (maxBytes < kEllipsis.size()) return {};
  size_t cut = maxBytes - kEllipsis.size();
  // Every backslash in `out` starts a four-byte escape; never leave half of one.
  size_t escape = out.rfind('\\', cut == 0 ? 0 : cut - 1);
  if (escape != std::string::npos && escape + 4 > cut) cut = escape;
  out.resize(cut);
  out += kEllipsis;
  return out;
}

std::string userNameOf(uint32_t uid) {
  long suggested = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(suggested > 0 ? static_cast<size_t>(suggested) : 4096);
  for (int attempt = 0; attempt < 6; ++attempt) {
    struct passwd entry {};
    struct passwd* found = nullptr;
    int error = ::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found);
    if (error == ERANGE) {
      buffer.resize(buffer.size() * 4);
      continue;
    }
    if (error == 0 && found != nullptr && found->pw_name != nullptr) return found->pw_name;
    break;
  }
  return std::to_string(uid);
}

Result<ProcessInfo> readProcessInfo(int pid, const std::string& procRoot) {
  const std::string dir = procRoot + "/" + std::to_string(pid);
  ProcessInfo info;
  info.pid = pid;

  auto status = readFile(dir + "/status");
  if (!status) return status.error();
  auto uid = effectiveUidFromStatus(*status);
  if (!uid) return makeError("no Uid line in " + dir + "/status");
  info.uid = *uid;
  info.userName = userNameOf(info.uid);

  auto comm = readFile(dir + "/comm");
  if (!comm) return comm.error();
  info.comm = std::string(trimNewline(*comm));

  auto cmdline = readFile(dir + "/cmdline");
  if (!cmdline) return cmdline.error();
  info.cmdline = formatCmdline(*cmdline);

  auto cgroup = cgroupPathOfProcess(pid, procRoot);
  if (!cgroup) return cgroup.error();
  info.cgroupPath = std::move(*cgroup);

  // Kernel threads have no exe, and without CAP_SYS_PTRACE other users' links are unreadable;
  // neither makes the rest of what we know wrong.
  std::string target(4096, '\0');
  ssize_t length = ::readlink((dir + "/exe").c_str(), target.data(), target.size());
  if (length > 0) {
    target.resize(static_cast<size_t>(length));
    info.exe = std::move(target);
  }
  return info;
}

ProcessIdentity readProcessIdentity(uint32_t pid, uint64_t cgroupId) {
  ProcessIdentity identity;
  identity.pid = static_cast<int>(pid);
  identity.cgroupId = cgroupId;
  if (pid == 0) return identity;
  if (auto info = readProcessInfo(static_cast<int>(pid))) {
    identity.uid = info->uid;
    identity.userName = info->userName;
    identity.comm = info->comm;
    identity.exe = info->exe;
    identity.cgroupPath = info->cgroupPath;
  }
  return identity;
}

}  // namespace shadowai
