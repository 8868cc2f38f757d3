#include "mask/vectorscan_scratch.h"

#include <algorithm>
#include <atomic>
#include <vector>

#include "mask/vectorscan_handles.h"

namespace shadowai {

namespace {

struct ThreadScratch {
  VectorscanScratchPtr scratch;
  std::vector<uint64_t> fits;  // families this scratch was grown for
};

// Families are few (one per loaded policy generation); forget them all past this many, which only
// costs re-checking sizes with hs_alloc_scratch.
constexpr size_t kRememberedFamilies = 32;

}  // namespace

uint64_t newScratchFamilyId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

hs_scratch_t* threadScratch(uint64_t family, hs_database_t* const* databases, size_t count) {
  thread_local ThreadScratch local;
  if (std::find(local.fits.begin(), local.fits.end(), family) != local.fits.end()) return local.scratch.get();
  for (size_t i = 0; i < count; ++i) {
    if (databases[i] == nullptr) continue;
    // hs_alloc_scratch replaces the scratch it is given by a larger one when needed (null after a
    // failure), so ownership goes through it.
    hs_scratch_t* scratch = local.scratch.release();
    const hs_error_t grown = hs_alloc_scratch(databases[i], &scratch);
    local.scratch.reset(scratch);
    if (grown != HS_SUCCESS) return nullptr;
  }
  if (local.fits.size() >= kRememberedFamilies) local.fits.clear();
  local.fits.push_back(family);
  return local.scratch.get();
}

}  // namespace shadowai
