// Per-thread Vectorscan scratch space. A scratch may serve any number of databases once grown for
// each (hs_alloc_scratch), but only one scan at a time, so every thread keeps its own; several
// DetectorSets share a thread's scratch, which grows to fit the largest.
#pragma once

#include <hs.h>

#include <cstdint>

namespace shadowai {

// A unique id for each database family (a DetectorSet), never reused, so a thread remembers which
// families its scratch already fits.
uint64_t newScratchFamilyId();

// This thread's scratch, grown to fit DATABASES (count of them) of family FAMILY when this thread
// has not yet seen that family. Null when Vectorscan cannot allocate.
hs_scratch_t* threadScratch(uint64_t family, hs_database_t* const* databases, size_t count);

}  // namespace shadowai
