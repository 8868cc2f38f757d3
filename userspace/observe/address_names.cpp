#include "observe/address_names.h"

#include <algorithm>

namespace shadowai {

void AddressNames::learn(const IpAddress& address, const std::vector<std::string>& names, uint32_t ttlSeconds,
                         Clock::time_point now) {
  const auto expires = now + std::chrono::seconds(ttlSeconds) + grace_;
  std::lock_guard lock(mutex_);
  auto& entry = names_[address];
  for (const auto& name : names) {
    auto& learned = entry[name];
    learned.expires = std::max(learned.expires, expires);
    learned.learned = now;
  }
}

std::vector<std::string> AddressNames::namesOf(const IpAddress& address, Clock::time_point now) const {
  std::vector<std::pair<Clock::time_point, std::string>> live;
  {
    std::lock_guard lock(mutex_);
    auto it = names_.find(address);
    if (it == names_.end()) return {};
    for (const auto& [name, learned] : it->second) {
      if (learned.expires > now) live.emplace_back(learned.learned, name);
    }
  }
  std::stable_sort(live.begin(), live.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::string> result;
  result.reserve(live.size());
  for (auto& [when, name] : live) result.push_back(std::move(name));
  return result;
}

std::vector<IpAddress> AddressNames::addresses(Clock::time_point now) const {
  std::vector<IpAddress> result;
  std::lock_guard lock(mutex_);
  for (const auto& [address, names] : names_) {
    for (const auto& [name, learned] : names) {
      if (learned.expires > now) {
        result.push_back(address);
        break;
      }
    }
  }
  return result;
}

size_t AddressNames::prune(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  for (auto it = names_.begin(); it != names_.end();) {
    std::erase_if(it->second, [now](const auto& item) { return item.second.expires <= now; });
    it = it->second.empty() ? names_.erase(it) : std::next(it);
  }
  return names_.size();
}

size_t AddressNames::size() const {
  std::lock_guard lock(mutex_);
  return names_.size();
}

}  // namespace shadowai
