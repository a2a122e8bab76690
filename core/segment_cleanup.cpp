// A SegmentAllocator's proactive cleanup (seed 002): when a class's pool
// passes its free-slice threshold, one async task per class drops the
// physical memory of the class's fully-returned regions and queues them for
// reuse.
#include "core/assert.h"
#include "core/fault_point.h"
#include "core/mutants/sites.h"
#include "core/mutants.h"
#include "core/platform/clock.h"
#include "core/probe.h"
#include "core/segment_allocator_impl.h"

namespace segsim {

using detail::ClassPool;
using detail::Region;
using detail::RegionState;

namespace {

// How many times a firing "alloc.cleanup.delay" may yield before the cleanup runs.
constexpr int kMaxCleanupDelayYields = 8;

}  // namespace

void SegmentAllocator::Impl::maybe_start_cleanup(int c) {
  if (SEGSIM_MUTANT(BudgetOnlyFreeing)) return;  // regions freed only under budget pressure
  ClassPool& pool = pool_of(c);
  bool idle = false;
  if (!pool.cleanup_in_progress.compare_exchange_strong(idle, true)) {  // one per class
    SEGSIM_PROBE("cleanup.already_running");
    return;
  }
  // Counted before the spawn: the task may finish before try_spawn returns,
  // and stats() must never show more cleanups finished than started.
  pool.cleanups_started.bump();
  if (executor.try_spawn([this, c] { run_cleanup(c); })) {
    SEGSIM_PROBE("cleanup.started");
  } else {
    pool.cleanups_started.undo_bump();
    pool.cleanup_in_progress.store(false);
    SEGSIM_PROBE("cleanup.queue_full");
    pool.cleanups_refused.bump();
  }
}

void SegmentAllocator::Impl::run_cleanup(int c) {
  ClassPool& pool = pool_of(c);
  ReleaseOutcome outcome;
  try {
    for (int i = 0; i < kMaxCleanupDelayYields && SEGSIM_FAULT_POINT("alloc.cleanup.delay"); ++i) {
      SEGSIM_PROBE("cleanup.delayed");
      platform::yield();
    }
    outcome = release_regions(c);
  } catch (...) {
    // The executor survives a throwing task: the guard must not stay set, and
    // a cleanup that ended by a throw has finished (stats() must not show it
    // in flight for good).
    pool.cleanups_finished.bump();
    pool.cleanup_in_progress.store(false);
    throw;
  }
  pool.cleanups_finished.bump();
  // The historical cleanup cleared its guard only when it succeeded.
  if (outcome.failed == 0 || !SEGSIM_MUTANT(CleanupGuardStuck)) pool.cleanup_in_progress.store(false);
}

std::size_t SegmentAllocator::Impl::release_unused_regions(int c) {
  return release_regions(c).released;
}

SegmentAllocator::Impl::ReleaseOutcome SegmentAllocator::Impl::release_regions(int c) {
  flush_caches_for_reclaim();  // a cached slice keeps its region from being fully returned
  if (SEGSIM_MUTANT(CleanupRace)) return mutants::release_regions_racy(*this, c);
  ClassPool& pool = pool_of(c);
  std::vector<std::uint32_t> detached;
  {
    platform::LockGuard guard(pool.mu);
    for (std::uint32_t region_id : pool.regions) {
      if (detach_if_all_free(pool, region_id, RegionState::Releasing)) detached.push_back(region_id);
    }
  }
  ReleaseOutcome outcome;
  for (std::size_t i = 0; i < detached.size(); ++i) {
    const std::uint32_t region_id = detached[i];
    Region& region = table.at(region_id);
    SEGSIM_ASSERT(region.size_class == c && !region.in_partial_list, "a detached region of another class or listed");
    bool dropped = false;
    try {
      dropped = region.release_physical(os).ok();
    } catch (...) {
      // An Os that throws (or a simulation cancelled at the advise's
      // scheduling point): the regions not yet released go to the freed queue
      // as they are, resident, so none is lost to a Releasing state for good.
      SEGSIM_PROBE("cleanup.advise_threw");
      platform::LockGuard guard(pool.mu);
      for (std::size_t j = i; j < detached.size(); ++j) {
        table.at(detached[j]).state = RegionState::Freed;
        pool.freed_queue.push_back(detached[j]);
      }
      throw;
    }
    platform::LockGuard guard(pool.mu);
    SEGSIM_ASSERT(region.state == RegionState::Releasing && region.all_free(),
                  "a detached region changed while released");
    if (dropped) {
      SEGSIM_ASSERT(pool.touched_slices >= region.touched_count(), "touched count underflow");
      pool.touched_slices -= region.touched_count();
      SEGSIM_PROBE("cleanup.region_released");
      region.mark_physical_released();
      regions_released.bump();
      ++outcome.released;
    } else {
      SEGSIM_PROBE("cleanup.madvise_failed");
      // Kept resident; its slices keep their real zero/dirty state.
      madvise_failures.bump();
      ++outcome.failed;
    }
    region.state = RegionState::Freed;
    pool.freed_queue.push_back(region_id);
  }
  return outcome;
}

}  // namespace segsim
