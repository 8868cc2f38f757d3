#include "observe/catalog_resolver.h"

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>

#include <algorithm>
#include <cstring>

#include "net/dns_message.h"

namespace shadowai {
namespace {

// Re-resolve no more often than this even for tiny TTLs, and retry failures after it.
constexpr std::chrono::seconds kMinimumRefresh{60};
constexpr std::chrono::seconds kMaximumRefresh{3600};

}  // namespace

CatalogResolver::CatalogResolver(std::vector<std::string> hosts, AddressNames& target, unsigned workers)
    : hosts_(std::move(hosts)), target_(target), workerCount_(std::max(1u, workers)) {}

CatalogResolver::~CatalogResolver() { stop(); }

void CatalogResolver::start() {
  {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    for (const auto& host : hosts_) queue_.push(Due{now, host});
  }
  for (unsigned i = 0; i < workerCount_; ++i) workers_.emplace_back([this] { work(); });
}

void CatalogResolver::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  workers_.clear();
}

void CatalogResolver::work() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (queue_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const auto when = queue_.top().when;
    if (when > Clock::now()) {
      wake_.wait_until(lock, when);
      continue;
    }
    std::string host = queue_.top().host;
    queue_.pop();
    lock.unlock();
    auto refresh = resolve(host);
    lock.lock();
    queue_.push(Due{Clock::now() + refresh, std::move(host)});
    wake_.notify_one();
  }
}

std::chrono::seconds CatalogResolver::resolve(const std::string& host) {
  ++namesAttempted_;
  struct __res_state state;
  std::memset(&state, 0, sizeof(state));
  if (res_ninit(&state) != 0) return kMinimumRefresh;
  // One try of one second per server: a host without outside DNS must not hold the scan up.
  state.retrans = 1;
  state.retry = 1;

  uint32_t smallestTtl = static_cast<uint32_t>(kMaximumRefresh.count());
  bool any = false;
  for (int type : {ns_t_a, ns_t_aaaa}) {
    unsigned char answer[4096];
    int length = res_nquery(&state, host.c_str(), ns_c_in, type, answer, sizeof(answer));
    if (length <= 0) continue;
    auto message = parseDnsMessage(std::span<const uint8_t>(answer, static_cast<size_t>(length)));
    if (!message) continue;
    for (const auto& learned : learnedAddresses(*message)) {
      // The catalog name is what we asked for; CNAME targets (CDN names) are not catalog names.
      target_.learn(learned.address, {host}, learned.ttl);
      smallestTtl = std::min(smallestTtl, learned.ttl);
      any = true;
      ++addressesLearned_;
    }
  }
  res_nclose(&state);
  if (!any) return kMinimumRefresh;
  return std::clamp(std::chrono::seconds(smallestTtl), kMinimumRefresh, kMaximumRefresh);
}

}  // namespace shadowai
