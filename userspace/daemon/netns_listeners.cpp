#include "daemon/netns_listeners.h"

#include <cerrno>

namespace shadowai {
namespace {

std::string joined(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

std::string describe(const EnforcedNamespace& where) {
  return "net:[" + std::to_string(where.inode) + "] (pid " + std::to_string(where.pid) + ", cgroup " +
         where.cgroupPath + ")";
}

}  // namespace

NetnsListeners::NetnsListeners(ProxyServer& proxy, FailureSink onFailure, LogSink log)
    : proxy_(proxy), onFailure_(std::move(onFailure)), log_(std::move(log)) {}

void NetnsListeners::sync(const std::map<uint64_t, EnforcedNamespace>& wanted) {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  for (auto it = listening_.begin(); it != listening_.end();) {
    if (wanted.count(it->first)) {
      ++it;
      continue;
    }
    proxy_.stopListeningIn(it->first);
    log_("proxy stopped listening in " + it->second.netns->describe() + ": no enforced process is left there");
    it = listening_.erase(it);
  }
  std::erase_if(failed_, [&wanted](const auto& entry) { return !wanted.count(entry.first); });
  for (const auto& [key, where] : wanted) {
    if (listening_.count(key)) continue;
    auto failed = failed_.find(key);
    if (failed != failed_.end() && now < failed->second.retryAt) continue;
    open(key, where, now);
  }
}

void NetnsListeners::open(uint64_t key, const EnforcedNamespace& where, std::chrono::steady_clock::time_point now) {
  auto fail = [&](const std::string& reason) {
    const bool first = !failed_.count(key);
    failed_[key] = Failed{where, reason, now + kRetryInterval};
    if (first) onFailure_(where, reason);
  };
  if (where.inode == 0) {
    fail(where.unreadable);
    return;
  }
  auto netns = NetworkNamespace::ofProcess(where.pid);
  if (!netns && netns.error().errnum != ENOENT) {
    fail(netns.error().describe());
    return;
  }
  // The process exited (or moved) since the walk: the next walk sees what is there now.
  if (!netns || (*netns)->inode() != where.inode) return;
  auto listeners = proxy_.listenIn(*netns);
  if (!listeners) {
    fail(listeners.error().describe());
    return;
  }
  std::string line = "proxy listening in " + describe(where) + " on " + joined(listeners->addresses);
  if (!listeners->skipped.empty()) line += " (not on " + joined(listeners->skipped) + ")";
  log_(line);
  failed_.erase(key);
  listening_[key] = Listening{std::move(*netns), where, std::move(*listeners)};
}

nlohmann::json NetnsListeners::status() const {
  std::lock_guard lock(mutex_);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [inode, entry] : listening_) {
    list.push_back({{"netns", inode},
                    {"pid", entry.where.pid},
                    {"cgroup", entry.where.cgroupPath},
                    {"listening", entry.listeners.addresses},
                    {"skipped", entry.listeners.skipped}});
  }
  for (const auto& [key, entry] : failed_) {
    list.push_back({{"netns", entry.where.inode != 0 ? nlohmann::json(entry.where.inode) : nlohmann::json(nullptr)},
                    {"pid", entry.where.pid},
                    {"cgroup", entry.where.cgroupPath},
                    {"error", entry.reason}});
  }
  return list;
}

}  // namespace shadowai
