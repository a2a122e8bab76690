// cleanup-race, only in the mutants build (core/mutants/sites.h).
#include "core/mutants/sites.h"
#include "core/platform/clock.h"
#include "core/segment_allocator_impl.h"

namespace segsim::mutants {

using detail::ClassPool;
using detail::Region;
using detail::RegionState;

template <class AllocatorImpl>
typename AllocatorImpl::ReleaseOutcome release_regions_racy(AllocatorImpl& allocator, int c) {
  ClassPool& pool = allocator.classes[c];
  std::vector<std::uint32_t> candidates;
  {
    platform::LockGuard guard(pool.mu);
    for (std::uint32_t region_id : pool.regions) {
      const Region& region = allocator.table.at(region_id);
      if (region.state == RegionState::Active && region.all_free()) candidates.push_back(region_id);
    }
  }
  typename AllocatorImpl::ReleaseOutcome outcome;
  for (std::uint32_t region_id : candidates) {
    platform::yield();  // the window: allocations may take slices of the region now
    Region& region = allocator.table.at(region_id);
    const bool dropped = region.release_physical(allocator.os).ok();
    platform::LockGuard guard(pool.mu);
    if (region.state != RegionState::Active) continue;
    allocator.detach_from_partial(pool, region, region_id);
    pool.free_slices -= region.free_count();
    if (dropped) {
      allocator.regions_released.bump();
      ++outcome.released;
    }
    region.state = RegionState::Freed;
    pool.freed_queue.push_back(region_id);
  }
  return outcome;
}

// Access checking does not apply to the names of an explicit instantiation.
template SegmentAllocator::Impl::ReleaseOutcome release_regions_racy(SegmentAllocator::Impl&, int);

}  // namespace segsim::mutants
