// A snapshot of the SegmentAllocator's accounting.
//
// Taken class by class: exact when the allocator is quiescent, and each class's
// figures are consistent with themselves at any time. The counts (the
// uint64 fields) are cumulative: a thread's exit hands its cache's counts on,
// and a snapshot counts each cache once, so no count is lower than in a
// snapshot the same thread took earlier.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/size_class.h"

namespace segsim {

struct SizeClassStats {
  std::size_t slice_bytes = 0;
  std::size_t live_slices = 0;      // handed out
  std::size_t free_slices = 0;      // free slices of active regions: in the pool or a thread cache
  std::size_t cached_slices = 0;    // of which in threads' caches
  std::size_t active_regions = 0;   // regions whose slices are in use or pooled
  std::size_t freed_regions = 0;    // physical memory released, queued for reuse
  std::uint64_t cleanups_started = 0;
  std::uint64_t cleanups_finished = 0;
  std::uint64_t cleanups_refused = 0;  // guard won but the executor refused the task
};

struct AllocatorStats {
  std::size_t budget_bytes = 0;
  std::size_t region_bytes = 0;
  std::size_t virtual_bytes = 0;             // mapped (or reserved for mapping) now
  std::size_t peak_virtual_bytes = 0;
  std::size_t resident_estimate_bytes = 0;   // slices touched since mapped / last DONTNEED

  std::uint64_t regions_mapped = 0;     // mmap calls that succeeded
  std::uint64_t regions_unmapped = 0;   // munmap calls that succeeded
  std::uint64_t regions_released = 0;   // physical memory dropped, region queued for reuse
  std::uint64_t regions_reused = 0;     // growth served from the freed-region queue

  std::uint64_t resets_memset = 0;      // zeroings done with memset (allocate and reset)
  std::uint64_t resets_madvise = 0;     // zeroings done with madvise(DONTNEED)
  std::uint64_t madvise_failures = 0;   // failed madvise calls (reset fell back / region kept)
  std::uint64_t map_failures = 0;
  std::uint64_t unmap_failures = 0;
  std::uint64_t double_frees = 0;       // releases / resets / lookups refused as DoubleFree
  std::uint64_t invalid_pointers = 0;   // releases / resets / lookups refused as InvalidPointer
  std::uint64_t cache_hits = 0;         // allocations served by a thread cache without the class lock
  std::uint64_t cache_refills = 0;      // thread caches refilled from a class's pool
  std::uint64_t cache_flushes = 0;      // thread caches emptied into the pools
  std::uint64_t remote_releases = 0;    // cached releases by another thread cache than the allocating one
  std::size_t thread_caches = 0;        // caches alive now (threads and fibers)
  // The share of thread_caches_max_bytes granted to caches now: it covers
  // their cached slices, and a cache's share is at most what it asked to cache
  // since it was last emptied, rounded up to whole 256 KiB grant units (the
  // room above its slices); a refused release or reset never grows it.
  std::size_t thread_cache_granted_bytes = 0;

  std::array<SizeClassStats, kSizeClassCount> classes{};

  // The sum of one per-class figure over every class.
  template <class PerClass>
  auto over_classes(PerClass per_class) const noexcept {
    decltype(per_class(classes[0])) sum = 0;
    for (const auto& c : classes) sum += per_class(c);
    return sum;
  }

  std::size_t live_slices() const noexcept { return over_classes([](const auto& c) { return c.live_slices; }); }
  std::size_t free_slices() const noexcept { return over_classes([](const auto& c) { return c.free_slices; }); }
  std::size_t cached_slices() const noexcept { return over_classes([](const auto& c) { return c.cached_slices; }); }
  std::size_t live_bytes() const noexcept {
    return over_classes([](const auto& c) { return c.live_slices * c.slice_bytes; });
  }
  std::uint64_t cleanups_started() const noexcept {
    return over_classes([](const auto& c) { return c.cleanups_started; });
  }
  std::uint64_t cleanups_finished() const noexcept {
    return over_classes([](const auto& c) { return c.cleanups_finished; });
  }
};

}  // namespace segsim
