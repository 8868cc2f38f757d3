// CatalogResolver: resolves the catalog's exact host names (A and AAAA) in the background, at
// start-up and again when each answer's TTL runs out, and records the addresses in AddressNames.
// This is the weakest evidence (CDN addresses are shared), used only when a flow has neither an SNI
// nor a DNS answer seen on the wire.
//
// It uses the system resolver configuration (/etc/resolv.conf) through res_nquery so TTLs are
// known, with a short per-query timeout: on a host without outside DNS the pass simply finds
// nothing, and never delays the scan.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "observe/address_names.h"

namespace shadowai {

class CatalogResolver {
 public:
  CatalogResolver(std::vector<std::string> hosts, AddressNames& target, unsigned workers = 8);
  ~CatalogResolver();
  CatalogResolver(const CatalogResolver&) = delete;
  CatalogResolver& operator=(const CatalogResolver&) = delete;

  void start();
  void stop();

  size_t addressesLearned() const { return addressesLearned_.load(); }
  size_t namesAttempted() const { return namesAttempted_.load(); }

 private:
  using Clock = std::chrono::steady_clock;
  struct Due {
    Clock::time_point when;
    std::string host;
    bool operator>(const Due& other) const { return when > other.when; }
  };

  void work();
  // Resolves one name; returns the smallest TTL seen (or a retry delay when nothing came back).
  std::chrono::seconds resolve(const std::string& host);

  std::vector<std::string> hosts_;
  AddressNames& target_;
  unsigned workerCount_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> queue_;
  bool stopping_ = false;
  std::atomic<size_t> addressesLearned_{0};
  std::atomic<size_t> namesAttempted_{0};
};

}  // namespace shadowai
