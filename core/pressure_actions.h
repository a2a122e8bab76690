// StackPressureActions: the pressure loop's graduated actions on the real
// stack (seed 004 M002):
//   gentle:     the page cache shrinks by gentle_pages (unpinned, LRU first);
//               large ranges idle for their decommit time are decommitted.
//   aggressive: the cache shrinks by aggressive_pages; every free large range
//               is decommitted; the segment allocator unmaps its fully
//               returned regions; wholly free large spans are unmapped.
//   emergency:  everything above with the whole cache, and new arenas above
//               a profile are refused (the refuse_arenas hook: TxnArenaManager).
// Every part is optional (null pointer / empty hook). Pinned pages are never
// evicted: the cache's shrink skips them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "core/large_object_allocator.h"
#include "core/page_cache.h"
#include "core/pressure_loop.h"
#include "core/segment_allocator.h"

namespace segsim {

struct StackPressureActionsConfig {
  std::size_t gentle_pages = 4;
  std::size_t aggressive_pages = 32;
};

struct StackPressureTargets {
  PageCache* cache = nullptr;
  SegmentAllocator* segments = nullptr;
  LargeObjectAllocator* large = nullptr;
  std::function<void(bool refuse)> refuse_arenas;  // e.g. TxnArenaManager's profile gate
};

class StackPressureActions final : public PressureActions {
 public:
  StackPressureActions(StackPressureTargets targets, StackPressureActionsConfig config = {})
      : targets_(std::move(targets)), config_(config) {}

  void gentle_eviction() override;
  void aggressive_eviction() override;
  void emergency_cleanup() override;
  void refuse_new_arenas(bool refuse) override;
  // Cached page bytes plus free large-object bytes (an upper estimate).
  std::size_t reclaimable_bytes() const override;

  std::uint64_t pages_evicted() const noexcept { return pages_evicted_; }

 private:
  void shrink_cache(std::size_t pages);
  void release_regions_and_spans();

  const StackPressureTargets targets_;
  const StackPressureActionsConfig config_;
  std::uint64_t pages_evicted_ = 0;  // only the loop's calls touch it (tick / reclaim)
};

}  // namespace segsim
