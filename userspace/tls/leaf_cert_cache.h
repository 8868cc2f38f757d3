// LeafCertCache: the leaf certificate for each server name the proxy terminates, minted on first
// use and kept in a bounded LRU so a busy host signs once per name per day, not once per connection.
//
// All leaves share one ECDSA P-256 key, generated in memory when the cache is made and never
// written anywhere. A per-leaf key would isolate nothing: every leaf key lives in this process next
// to the CA key, which can mint any leaf anyway. Sharing it makes a miss cost one signature instead
// of a key generation plus a signature, and keeps the cached state small.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"
#include "tls/leaf_cert.h"
#include "tls/local_ca.h"

namespace shadowai {

class LeafCertCache {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  // CA must outlive the cache. CAPACITY is at least 1.
  explicit LeafCertCache(const LocalCa& ca, size_t capacity = 1024,
                         std::chrono::hours validity = std::chrono::hours(24));

  // The leaf for SERVER_NAME (an SNI, or an IP literal), cached by its lower-cased spelling. An
  // entry within an hour of its notAfter is minted again, so a handshake never gets a certificate
  // that expires during a long-lived connection's first hour. Safe to call from any thread.
  Result<std::shared_ptr<const LeafCert>> certificateFor(std::string_view serverName);

  size_t size() const;

  // Replaces the wall clock, so a test can move time past the re-mint threshold.
  void setClockForTest(Clock clock);

 private:
  struct Entry {
    std::string name;
    std::shared_ptr<const LeafCert> leaf;
  };

  bool isFresh(const LeafCert& leaf, std::chrono::system_clock::time_point when) const;
  std::shared_ptr<const LeafCert> lookupLocked(const std::string& name, std::chrono::system_clock::time_point when);
  // Returns the leaf now cached for NAME: LEAF, or a fresh one another thread inserted first.
  std::shared_ptr<const LeafCert> insertLocked(const std::string& name, std::shared_ptr<const LeafCert> leaf,
                                               std::chrono::system_clock::time_point when);

  const LocalCa& ca_;
  const size_t capacity_;
  const std::chrono::seconds validity_;
  const std::chrono::seconds remintMargin_;

  mutable std::mutex mutex_;
  EvpPkeyPtr leafKey_;  // made on first use: a constructor has no way to report a failure
  Clock clock_;
  std::list<Entry> recency_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> byName_;
};

}  // namespace shadowai
