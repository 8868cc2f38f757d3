#include "tls/leaf_cert_cache.h"

#include <algorithm>

#include "tls/certificate_builder.h"

namespace shadowai {
namespace {

using namespace std::chrono_literals;

// Re-mint this long before notAfter. With a validity of two hours or less that would re-mint on
// every call, so the margin is then half the validity instead.
std::chrono::seconds remintMarginFor(std::chrono::seconds validity) {
  return std::min<std::chrono::seconds>(1h, validity / 2);
}

}  // namespace

LeafCertCache::LeafCertCache(const LocalCa& ca, size_t capacity, std::chrono::hours validity)
    : ca_(ca),
      capacity_(std::max<size_t>(capacity, 1)),
      validity_(validity),
      remintMargin_(remintMarginFor(validity)) {}

bool LeafCertCache::isFresh(const LeafCert& leaf, std::chrono::system_clock::time_point when) const {
  return when + remintMargin_ < leaf.notAfter;
}

std::shared_ptr<const LeafCert> LeafCertCache::lookupLocked(const std::string& name,
                                                            std::chrono::system_clock::time_point when) {
  auto found = byName_.find(name);
  if (found == byName_.end() || !isFresh(*found->second->leaf, when)) return nullptr;
  recency_.splice(recency_.begin(), recency_, found->second);
  return found->second->leaf;
}

std::shared_ptr<const LeafCert> LeafCertCache::insertLocked(const std::string& name,
                                                            std::shared_ptr<const LeafCert> leaf,
                                                            std::chrono::system_clock::time_point when) {
  if (auto found = byName_.find(name); found != byName_.end()) {
    // Another thread minted this name while we signed: hand out its leaf so every caller of one
    // name sees one certificate.
    if (!isFresh(*found->second->leaf, when)) found->second->leaf = std::move(leaf);
    recency_.splice(recency_.begin(), recency_, found->second);
    return found->second->leaf;
  }
  recency_.push_front(Entry{name, leaf});
  byName_.emplace(name, recency_.begin());
  while (recency_.size() > capacity_) {
    byName_.erase(recency_.back().name);
    recency_.pop_back();
  }
  return leaf;
}

Result<std::shared_ptr<const LeafCert>> LeafCertCache::certificateFor(std::string_view serverName) {
  auto name = parseCertificateName(serverName);
  if (!name) return name.error();

  EvpPkeyPtr key;
  std::chrono::system_clock::time_point when;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    when = clock_ ? clock_() : std::chrono::system_clock::now();
    if (auto cached = lookupLocked(name->text, when)) return cached;
    if (!leafKey_) {
      auto generated = generateP256Key();
      if (!generated) return generated.error();
      leafKey_ = std::move(*generated);
    }
    // Our own reference, so signing happens outside the lock without leafKey_ being touched.
    if (EVP_PKEY_up_ref(leafKey_.get()) != 1) return makeError("cannot reference the leaf key");
    key.reset(leafKey_.get());
  }

  // Signing is the slow part, so it runs unlocked and other names keep being served meanwhile.
  // Two threads missing on one name both sign; the first insert wins and the other copy is dropped.
  auto minted = mintLeafCert(ca_, key.get(), *name, when, validity_);
  if (!minted) return minted.error();

  std::lock_guard<std::mutex> guard(mutex_);
  return insertLocked(name->text, std::make_shared<const LeafCert>(std::move(*minted)), when);
}

size_t LeafCertCache::size() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return recency_.size();
}

void LeafCertCache::setClockForTest(Clock clock) {
  std::lock_guard<std::mutex> guard(mutex_);
  clock_ = std::move(clock);
}

}  // namespace shadowai
