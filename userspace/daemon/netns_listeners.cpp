#include "daemon/netns_listeners.h"

#include <algorithm>
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

NetnsListeners::NetnsListeners(ProxyServer& proxy, FailureSink onFailure, LogSink log, StateSink onState)
    : proxy_(proxy), onFailure_(std::move(onFailure)), log_(std::move(log)), onState_(std::move(onState)) {}

void NetnsListeners::sync(const std::map<uint64_t, EnforcedNamespace>& wanted) {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  for (auto it = listening_.begin(); it != listening_.end();) {
    if (auto still = wanted.find(it->first); still != wanted.end()) {
      it->second.where = still->second;  // the representative may have changed
      ++it;
      continue;
    }
    proxy_.stopListeningIn(it->first);
    if (it->second.cookie != 0) onState_(it->second.cookie, std::nullopt);
    log_("proxy stopped listening in " + it->second.netns->describe() + ": no enforced process is left there");
    it = listening_.erase(it);
  }
  for (auto it = failed_.begin(); it != failed_.end();) {
    auto next = std::next(it);
    if (auto still = wanted.find(it->first); still != wanted.end()) {
      it->second.where = still->second;
    } else {
      forgetFailed(it);
    }
    it = next;
  }
  for (const auto& [key, where] : wanted) {
    if (listening_.count(key)) continue;
    auto failed = failed_.find(key);
    if (failed != failed_.end() && now < failed->second.retryAt) continue;
    open(key, where, now, failed != failed_.end() ? failed->second.cookie : std::nullopt);
  }
}

void NetnsListeners::serve(uint64_t key, const EnforcedNamespace& where, uint64_t cookie) {
  std::lock_guard lock(mutex_);
  if (listening_.count(key)) return;
  const auto now = std::chrono::steady_clock::now();
  auto failed = failed_.find(key);
  if (failed != failed_.end() && now < failed->second.retryAt) {
    // Known not to work: refuse its connects at once rather than hold them.
    if (failed->second.cookie != cookie) {
      failed->second.cookie = cookie;
      onState_(cookie, State::kCannotServe);
    }
    return;
  }
  open(key, where, now, cookie);
}

void NetnsListeners::retryFailed() {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::pair<uint64_t, Failed>> due;
  for (const auto& entry : failed_) {
    if (now >= entry.second.retryAt) due.push_back(entry);
  }
  for (const auto& [key, failed] : due) open(key, failed.where, now, failed.cookie);
}

bool NetnsListeners::representativeGone(const Check& stillThere) const {
  std::vector<EnforcedNamespace> representatives;
  {
    // Checked outside the lock: the check takes the daemon's, which is held around sync().
    std::lock_guard lock(mutex_);
    for (const auto& [key, entry] : listening_) representatives.push_back(entry.where);
    for (const auto& [key, entry] : failed_) representatives.push_back(entry.where);
  }
  return std::ranges::any_of(representatives, [&stillThere](const auto& where) { return !stillThere(where); });
}

void NetnsListeners::forgetFailed(std::map<uint64_t, Failed>::iterator failed) {
  if (failed->second.cookie) onState_(*failed->second.cookie, std::nullopt);
  failed_.erase(failed);
}

void NetnsListeners::open(uint64_t key, const EnforcedNamespace& where, std::chrono::steady_clock::time_point now,
                          std::optional<uint64_t> cookie) {
  auto fail = [&](const std::string& reason) {
    const bool first = !failed_.count(key);
    failed_[key] = Failed{where, reason, now + kRetryInterval, cookie};
    if (cookie) onState_(*cookie, State::kCannotServe);
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
  // The process exited (or moved) meanwhile: the next event or walk sees what is there now.
  if (!netns || (*netns)->inode() != where.inode) return;
  auto listeners = proxy_.listenIn(*netns);
  if (!listeners) {
    fail(listeners.error().describe());
    return;
  }
  std::string line = "proxy listening in " + describe(where) + " on " + joined(listeners->addresses);
  if (!listeners->skipped.empty()) line += " (not on " + joined(listeners->skipped) + ")";
  log_(line);
  auto listenedCookie = (*netns)->cookie();
  if (!listenedCookie) log_("cannot read the cookie of " + describe(where) + ": " + listenedCookie.error().describe());
  if (auto failed = failed_.find(key); failed != failed_.end()) {
    if (failed->second.cookie && (!listenedCookie || *failed->second.cookie != *listenedCookie)) {
      onState_(*failed->second.cookie, std::nullopt);
    }
    failed_.erase(failed);
  }
  const uint64_t served = listenedCookie ? *listenedCookie : cookie.value_or(0);
  if (served != 0) onState_(served, State::kServed);
  listening_[key] = Listening{std::move(*netns), where, std::move(*listeners), served};
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
