// AddressNames: which host names an IP address stands for, learned either from DNS answers seen on
// the wire or from resolving catalog names ourselves. Entries expire: a TTL is kept per name, plus
// a grace period because clients keep pooled connections (and their own DNS cache) open well past
// the TTL of the answer that produced them.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/ip_address.h"

namespace shadowai {

class AddressNames {
 public:
  using Clock = std::chrono::steady_clock;

  explicit AddressNames(std::chrono::seconds grace = std::chrono::minutes(10)) : grace_(grace) {}

  void learn(const IpAddress& address, const std::vector<std::string>& names, uint32_t ttlSeconds,
             Clock::time_point now = Clock::now());
  // Names for the address that have not expired, most recently learned first.
  std::vector<std::string> namesOf(const IpAddress& address, Clock::time_point now = Clock::now()) const;
  // Every address with at least one name that has not expired.
  std::vector<IpAddress> addresses(Clock::time_point now = Clock::now()) const;
  // Drops expired entries; returns how many addresses remain.
  size_t prune(Clock::time_point now = Clock::now());
  size_t size() const;

 private:
  struct Learned {
    Clock::time_point expires;
    Clock::time_point learned;
  };
  const std::chrono::seconds grace_;
  mutable std::mutex mutex_;  // learned from the resolver thread, read from the event loop
  std::unordered_map<IpAddress, std::map<std::string, Learned>, IpAddressHash> names_;
};

}  // namespace shadowai
