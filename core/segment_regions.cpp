// A SegmentAllocator's regions: growth (reuse a freed region, or reserve
// budget and map a new one), the budget (unmapping fully-returned regions
// when growth would pass it), the one way a fully free region is detached
// from its pool, and the address index that lookup() reads.
#include <algorithm>

#include "core/asan.h"
#include "core/assert.h"
#include "core/fault_point.h"
#include "core/flight_recorder_regions.h"
#include "core/mutants.h"
#include "core/platform/clock.h"
#include "core/probe.h"
#include "core/segment_allocator_impl.h"

namespace segsim {

using detail::ClassPool;
using detail::Region;
using detail::RegionState;

namespace {

// How often growth over budget frees regions again after another thread took
// the budget it had freed, before it refuses.
constexpr int kMaxBudgetRetries = 64;

}  // namespace

// ---------------------------------------------------------------------------
// growth

bool SegmentAllocator::Impl::reuse_freed_region(ClassPool& pool) {
  if (pool.freed_queue.empty() || SEGSIM_MUTANT(BudgetOnlyFreeing)) return false;
  const std::uint32_t region_id = pool.freed_queue.front();
  pool.freed_queue.pop_front();
  Region& region = table.at(region_id);
  SEGSIM_ASSERT(region.state == RegionState::Freed && region.all_free(), "bad freed region");
  SEGSIM_ASSERT(region.mapped() && !region.in_partial_list, "a freed region unmapped or still on the partial list");
  region.state = RegionState::Active;
  region.in_partial_list = true;
  pool.partial.push_back(region_id);
  pool.free_slices += region.slice_count();
  SEGSIM_PROBE("alloc.grow.reused_freed_region");
  regions_reused.bump();
  return true;
}

bool SegmentAllocator::Impl::reserve_virtual(std::size_t bytes) {
  SEGSIM_ASSERT(bytes == config.region_bytes, "virtual bytes are reserved a region at a time");
  platform::LockGuard guard(regions_mu);
  SEGSIM_ASSERT(virtual_bytes <= config.budget_bytes, "virtual bytes over the budget");
  if (virtual_bytes + bytes > config.budget_bytes) return false;
  virtual_bytes += bytes;
  peak_virtual_bytes = std::max(peak_virtual_bytes, virtual_bytes);
  return true;
}

void SegmentAllocator::Impl::unreserve_virtual(std::size_t bytes) {
  platform::LockGuard guard(regions_mu);
  SEGSIM_ASSERT(virtual_bytes >= bytes, "virtual bytes underflow");
  virtual_bytes -= bytes;
}

std::size_t SegmentAllocator::Impl::current_virtual_bytes() const {
  platform::LockGuard guard(regions_mu);
  return virtual_bytes;
}

// Called with `lock` holding the class's mutex; returns holding it. On
// success the class has a free slice in an Active region.
Status SegmentAllocator::Impl::grow(int c, platform::UniqueLock& lock) {
  ClassPool& pool = pool_of(c);
  SEGSIM_ASSERT(lock.owns_lock(), "grow without the class lock");
  if (caches_enabled && pool.partial.empty()) {
    // A class grows only after the thread caches gave their free slices of
    // it back (under a simulation all of them now; in production the caller's
    // now and every other thread's at its next call): no thread hoards while
    // its class maps new regions, so growth stays bounded however many threads
    // there are.
    lock.unlock();
    flush_class_for_growth(c);
    lock.lock();
    if (!pool.partial.empty()) {
      SEGSIM_PROBE("alloc.grow.served_by_caches");
      return {};
    }
  }
  // Only a forced slow path (alloc.pool.slow_path) grows a class that has free slices.
  const bool had_free_slices = !pool.partial.empty();
  if (SEGSIM_FAULT_POINT("alloc.freed_queue.skip")) {
    SEGSIM_PROBE("alloc.grow.freed_queue_skipped");
  } else if (reuse_freed_region(pool)) {
    return {};
  }
  bool served = false;
  Status reserved = reserve_region_budget(c, lock, had_free_slices, served);
  if (!reserved.ok() || served) return reserved;

  SEGSIM_ASSERT(had_free_slices || pool.partial.empty(),
                "growth maps a new region though the class has free slices (a reused freed region not reported?)");
  OsResult<std::byte*> mapped = os.map(config.region_bytes);
  if (!mapped.ok()) {
    SEGSIM_PROBE("alloc.grow.map_failed");
    unreserve_virtual(config.region_bytes);
    map_failures.bump();
    Error error = make_error(Errc::OutOfMemory, "mmap of a new region failed");
    error.os_errno = mapped.error().errno_value;
    error.size_class = static_cast<std::int16_t>(c);
    return error;
  }
  SEGSIM_ASSERT(mapped.value() != nullptr, "the Os mapped a region at null");
  install_region(c, mapped.value());
  SEGSIM_ASSERT(!pool.partial.empty(), "a new region not on the partial list");
  return {};
}

// Reserves one region's virtual bytes for grow(). Over budget it unmaps
// fully-returned regions of any class. That locks other classes one at a
// time, so this class's lock is dropped meanwhile — and another thread may
// take the budget just freed (or already free), or grow this class: then
// `served` is set and nothing is reserved. Tries again while there was room
// or something was freed: OutOfBudget means no region could be freed and no
// room was left. `forced`: the class had free slices before (a forced slow
// path), so free slices found after the unlock are no sign that another
// thread grew it; the forced growth goes on, and over budget its caller
// serves from the pool.
Status SegmentAllocator::Impl::reserve_region_budget(int c, platform::UniqueLock& lock, bool forced,
                                                     bool& served) {
  ClassPool& pool = pool_of(c);
  const std::size_t region_bytes = config.region_bytes;
  for (int attempt = 0; !reserve_virtual(region_bytes); ++attempt) {
    SEGSIM_ASSERT(attempt <= kMaxBudgetRetries, "budget retries past their limit");
    SEGSIM_PROBE("alloc.grow.over_budget");
    if (attempt > 0) SEGSIM_PROBE("alloc.grow.over_budget_retried");
    const std::size_t target = config.budget_bytes - region_bytes;
    bool room = false;
    lock.unlock();
    const std::size_t unmapped = free_unused_regions(target, &room);
    lock.lock();
    if (!forced && !pool.partial.empty()) {  // another thread grew this class meanwhile
      SEGSIM_PROBE("alloc.grow.grown_meanwhile");
      served = true;
      return {};
    }
    if (reuse_freed_region(pool)) {
      SEGSIM_PROBE("alloc.grow.reused_after_budget");
      served = true;
      return {};
    }
    room = room || current_virtual_bytes() <= target;
    if ((unmapped == 0 && !room) || attempt >= kMaxBudgetRetries) {
      if (reserve_virtual(region_bytes)) break;
      SEGSIM_PROBE("alloc.grow.out_of_budget");
      Error error = make_error(Errc::OutOfBudget, "every region holds a live slice");
      error.size_class = static_cast<std::int16_t>(c);
      return error;
    }
  }
  return {};
}

// With the class locked: a fresh mapping at `base` joins the class's pool,
// in a reused slot of the class when it has one.
void SegmentAllocator::Impl::install_region(int c, std::byte* base) {
  ClassPool& pool = pool_of(c);
  const std::size_t region_bytes = config.region_bytes;
  std::uint32_t region_id;
  if (!pool.unused_slots.empty()) {
    region_id = pool.unused_slots.back();
    SEGSIM_PROBE("alloc.grow.reused_region_slot");
    pool.unused_slots.pop_back();
    SEGSIM_ASSERT(table.at(region_id).state == RegionState::Unused, "an unused slot of the class is in use");
  } else {
    platform::LockGuard guard(regions_mu);
    region_id = table.append(c, pool.slice_bytes, region_bytes);
    // Each class owns at most budget/region slots at once and reuses its own.
    SEGSIM_ASSERT(region_id != UINT32_MAX, "region table full");
    pool.regions.push_back(region_id);
  }
  Region& region = table.at(region_id);
  SEGSIM_ASSERT(region.size_class == c, "a class reused another class's slot");
  SEGSIM_ASSERT(region.bytes() == region_bytes && !region.in_partial_list, "a slot installed with another size or listed");
  region.install(base);
  // Where a report finds the address of this region's slices (a compact event has none).
  flight_recorder::detail::note_region_mapped(id, region_id, reinterpret_cast<std::uintptr_t>(base));
  if (config.observer != nullptr) config.observer->region_mapped(id, region_id, base, c);
  asan::poison(base, region_bytes);  // every slice is free
  {
    platform::LockGuard guard(regions_mu);
    SEGSIM_ASSERT(by_address.count(base) == 0, "a new mapping over an indexed region");
    by_address[base] = region_id;
  }
  regions_mapped.bump();
  region.in_partial_list = true;
  pool.partial.push_back(region_id);
  pool.free_slices += region.slice_count();
}

// ---------------------------------------------------------------------------
// detaching a fully free region (cleanup and budget alike)

bool SegmentAllocator::Impl::detach_if_all_free(ClassPool& pool, std::uint32_t region_id,
                                                RegionState new_state) {
  SEGSIM_ASSERT(new_state == RegionState::Releasing || new_state == RegionState::Unmapping,
                "a detached region is released or unmapped");
  Region& region = table.at(region_id);
  if (region.state != RegionState::Active || !region.all_free()) return false;
  // Detached under the class lock: no allocation can take a slice while the
  // caller works on the region outside it.
  detach_from_partial(pool, region, region_id);
  region.state = new_state;
  SEGSIM_ASSERT(pool.free_slices >= region.slice_count(), "free slice count underflow");
  pool.free_slices -= region.slice_count();
  return true;
}

void SegmentAllocator::Impl::detach_from_partial(ClassPool& pool, Region& region,
                                                 std::uint32_t region_id) {
  if (!region.in_partial_list) return;
  auto it = std::find(pool.partial.begin(), pool.partial.end(), region_id);
  SEGSIM_ASSERT(it != pool.partial.end(), "partial flag without list entry");
  pool.partial.erase(it);
  region.in_partial_list = false;
}

// ---------------------------------------------------------------------------
// budget: unmapping fully-returned regions

bool SegmentAllocator::Impl::unmap_region(int c, std::uint32_t region_id) {
  ClassPool& pool = pool_of(c);
  Region& region = table.at(region_id);
  SEGSIM_ASSERT(region.state == RegionState::Unmapping, "unmap of an attached region");
  SEGSIM_ASSERT(region.size_class == c && !region.in_partial_list && region.all_free(),
                "unmapping a region of another class, listed, or with live slices");
  std::byte* base = region.base();
  SEGSIM_ASSERT(base != nullptr, "unmapping a region without a mapping");
  // Out of the address index before munmap: once the addresses are the Os's
  // again, another thread's mmap may return them and index a new region there.
  {
    platform::LockGuard regions_guard(regions_mu);
    const std::size_t erased = by_address.erase(base);
    SEGSIM_ASSERT(erased == 1, "an unmapped region was not in the address index");
  }
  // Shadow memory outlives a mapping: clear it so the next user of these
  // addresses does not inherit our poison.
  asan::unpoison(base, region.bytes());
  const bool unmapped = os.unmap(base, region.bytes()).ok();
  platform::LockGuard guard(pool.mu);
  if (!unmapped) {
    SEGSIM_PROBE("unmap.failed");
    asan::poison(base, region.bytes());
    unmap_failures.bump();
    {
      platform::LockGuard regions_guard(regions_mu);
      by_address[base] = region_id;  // still mapped: indexed again
    }
    region.state = RegionState::Freed;  // reusable
    pool.freed_queue.push_back(region_id);
    return false;
  }
  SEGSIM_ASSERT(pool.touched_slices >= region.touched_count(), "touched count underflow");
  pool.touched_slices -= region.touched_count();
  region.uninstall();
  pool.unused_slots.push_back(region_id);
  {
    platform::LockGuard regions_guard(regions_mu);
    SEGSIM_ASSERT(virtual_bytes >= region.bytes(), "virtual bytes underflow");
    virtual_bytes -= region.bytes();
  }
  regions_unmapped.bump();
  return true;
}

std::size_t SegmentAllocator::Impl::free_unused_regions(std::size_t target_virtual_bytes,
                                                        bool* reached_target) {
  std::size_t unmapped = 0;
  // A cached slice keeps its region from being fully returned.
  if (current_virtual_bytes() > target_virtual_bytes) flush_caches_for_reclaim();
  // Pass 0 takes regions whose physical memory is already released (cheapest
  // to lose), pass 1 fully-returned active regions.
  for (int pass = 0; pass < 2; ++pass) {
    for (int c = 0; c < static_cast<int>(kSizeClassCount); ++c) {
      const std::size_t now = current_virtual_bytes();
      if (now <= target_virtual_bytes) {
        if (reached_target != nullptr) *reached_target = true;
        return unmapped;
      }
      std::vector<std::uint32_t> detached;
      detach_for_unmapping(c, pass, now - target_virtual_bytes, detached);
      for (std::uint32_t region_id : detached) {
        if (unmap_region(c, region_id)) ++unmapped;
      }
    }
  }
  return unmapped;
}

// Under the class lock, detaches regions of class `c` covering up to
// `excess_bytes`: on pass 0 Freed regions from the queue, on pass 1 fully
// free Active ones.
void SegmentAllocator::Impl::detach_for_unmapping(int c, int pass, std::size_t excess_bytes,
                                                  std::vector<std::uint32_t>& detached) {
  ClassPool& pool = pool_of(c);
  platform::LockGuard guard(pool.mu);
  if (pass == 0) {
    while (!pool.freed_queue.empty() && excess_bytes > 0) {
      const std::uint32_t region_id = pool.freed_queue.front();
      pool.freed_queue.pop_front();
      SEGSIM_PROBE("free_unused.freed_region");
      Region& region = table.at(region_id);
      SEGSIM_ASSERT(region.state == RegionState::Freed && region.all_free(), "bad freed region");
      SEGSIM_ASSERT(region.size_class == c, "a freed region queued on another class");
      region.state = RegionState::Unmapping;
      detached.push_back(region_id);
      excess_bytes -= std::min(excess_bytes, config.region_bytes);
    }
    return;
  }
  for (std::uint32_t region_id : pool.regions) {
    if (excess_bytes == 0) break;
    if (!detach_if_all_free(pool, region_id, RegionState::Unmapping)) continue;
    SEGSIM_PROBE("free_unused.active_region");
    detached.push_back(region_id);
    excess_bytes -= std::min(excess_bytes, config.region_bytes);
  }
}

// ---------------------------------------------------------------------------
// the address index

Result<Segment> SegmentAllocator::Impl::lookup(const std::byte* address) const {
  Error error = make_error(Errc::InvalidPointer, "not inside any region of this allocator");
  error.address = reinterpret_cast<std::uintptr_t>(address);
  std::uint32_t region_id;
  const std::byte* base;
  {
    platform::LockGuard guard(regions_mu);
    auto it = by_address.upper_bound(address);
    if (it == by_address.begin() || address >= std::prev(it)->first + config.region_bytes) {
      SEGSIM_PROBE("lookup.refused.outside");
      return refuse(error);
    }
    --it;
    base = it->first;
    region_id = it->second;
  }
  SEGSIM_ASSERT(base != nullptr && address >= base, "the address index gave a region above the address");
  // Off every lock: a free_unused_regions() may unmap the region now.
  if (SEGSIM_FAULT_POINT("lookup.index.yield")) platform::yield();
  const Region& region = table.at(region_id);
  SEGSIM_ASSERT(region.size_class >= 0 && region.size_class < static_cast<int>(kSizeClassCount),
                "an indexed region without a size class");
  const ClassPool& pool = classes[region.size_class];
  platform::LockGuard guard(pool.mu);
  error.size_class = static_cast<std::int16_t>(region.size_class);
  if (region.base() != base) {  // unmapped meanwhile
    SEGSIM_PROBE("lookup.refused.unmapped_meanwhile");
    error.detail = "its region was unmapped while the lookup ran";
    return refuse(error);
  }
  const std::int64_t slice = region.slice_of(address);
  if (slice < 0) {
    SEGSIM_PROBE("lookup.refused.inside_slice");
    error.detail = "points inside a slice, not at its start";
    return refuse(error);
  }
  SEGSIM_ASSERT(slice >= 0 && slice < static_cast<std::int64_t>(region.slice_count()),
                "a looked-up slice outside its region (a refused slice_of used as an index)");
  const std::uint32_t generation =
      region.slice(static_cast<std::uint32_t>(slice)).generation.load(std::memory_order_relaxed);
  if (generation == 0) {
    SEGSIM_PROBE("lookup.refused.free_slice");
    error.code = Errc::DoubleFree;
    error.detail = "slice is free";
    return refuse(error);
  }
  SEGSIM_PROBE("lookup.found");
  return Segment(const_cast<std::byte*>(address), id, generation, region_id,
                 static_cast<std::uint32_t>(slice), static_cast<std::uint8_t>(region.size_class));
}

}  // namespace segsim
