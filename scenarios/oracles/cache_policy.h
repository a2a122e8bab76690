// cache-policy: a thread cache takes and gives slices when the header says it
// must (core/segment_allocator.h, "Per-thread caches"), not merely correctly.
//
// A cache that declines a release it had room for, refills without handing
// the refill's slice out, spills the wrong half or forgets to count a hit
// returns right results to every caller: only speed is lost, and no other
// oracle sees it. This model follows one fiber's cache on an allocator that
// only it (and helpers that flush before they end) uses, under a simulation
// (in production a growth also empties the caller's whole cache), with no
// fault point able to fire, and predicts each call exactly:
//  * a release of a live handle parks the slice on top of its class cache when
//    the caches' limit covers it — first spilling the older half to the pool
//    when the class cache is full; over the limit the slice goes to the pool;
//  * an allocation from a class cache holding a slice hands out the top one
//    (a hit); an empty class cache is refilled from the pool with up to half
//    its capacity (one slice when only that fits the limit) and the refill's
//    top slice is handed out; with no room for one slice the pool serves;
//  * a flush empties the caller's cache, a reclaim every cache; each cache
//    emptied is one cache flush;
//  * a release is remote exactly when another thread's cache handed the slice out.
// Checked after every call against stats(): cached slices per class, hits,
// refills, flushes, remote releases, live slices, the caches' grant of the
// limit (at least their cached bytes; at most the limit, and at most the
// bytes the cache asked to hold since it was last emptied rounded up to whole
// grant units); and the handle a hit gives.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/allocator_stats.h"
#include "core/segment.h"
#include "core/segment_allocator.h"
#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

class CachePolicyModel {
 public:
  CachePolicyModel(Oracles& oracles, const SegmentAllocatorConfig& config);

  // An allocation of class `size_class` that returned `got` (the caller's cache).
  void allocated(int size_class, const Segment& got, const AllocatorStats& after);
  // A release of a live handle that succeeded; `other_cache` when another
  // fiber's cache handed it out.
  void released(const Segment& segment, bool other_cache, const AllocatorStats& after);
  // A release the allocator refused (stale handle): nothing may change, and
  // the caches' grant of the limit (thread_cache_granted_bytes) not grow.
  void refused(const AllocatorStats& before, const AllocatorStats& after);
  void flushed(const AllocatorStats& after);  // flush_thread_cache()
  // free_unused_regions / release_unused_regions: `emptied` when the call
  // must empty every cache (a reclaim that had to unmap, or always).
  void reclaimed(bool emptied, const AllocatorStats& before, const AllocatorStats& after);
  // After another fiber used the allocator (and flushed its cache): its hits
  // and refills are taken as counted; the caller's cache may have lost whole
  // classes to a growth's flush, nothing else.
  // `handed_over` of their allocations are the caller's now (live).
  void others_ran(const AllocatorStats& after, std::size_t handed_over);

  // Slices a cache keeps of class `c` (the header's rule).
  std::uint32_t capacity(int c) const noexcept { return capacity_[static_cast<std::size_t>(c)]; }

 private:
  struct Slot {
    std::uint32_t region = 0;
    std::uint32_t slice = 0;
    bool operator==(const Slot&) const = default;
  };
  // The class caches, oldest slice first; unknown identity after a refill.
  using ClassCache = std::vector<std::optional<Slot>>;

  std::size_t held_bytes() const;
  // A release or refill that fits the limit asks the grant to cover `bytes`.
  void asked(std::size_t bytes);
  void check(const char* call, const AllocatorStats& after);
  [[noreturn]] void fail(const char* call, const std::string& what);

  Oracles& oracles_;
  std::size_t caches_max_bytes_;
  std::array<std::uint32_t, kSizeClassCount> capacity_{};
  std::array<ClassCache, kSizeClassCount> cached_{};
  std::array<std::uint32_t, kSizeClassCount> generations_left_{};  // reserved, not yet handed out
  bool has_cache_ = false;
  std::uint64_t hits_ = 0, refills_ = 0, flushes_ = 0, remote_ = 0;
  std::size_t live_ = 0;
  std::size_t most_asked_bytes_ = 0;  // the most a grant was asked to cover since the cache was emptied
  std::uint64_t calls_ = 0;
};

}  // namespace segsim::scenarios
