// A SegmentAllocator's statistics and its audit: every accounting invariant
// checked against the regions themselves (exact only when quiescent).
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "core/segment_allocator_impl.h"

namespace segsim {

using detail::ClassPool;
using detail::Region;
using detail::RegionState;

AllocatorStats SegmentAllocator::Impl::stats() const {
  AllocatorStats s;
  // One look at the cache registry for the whole call unless it changed (under
  // a simulation its lock is a scheduling point, and the oracles call stats()
  // after every operation). Checked again under each class lock: a cache that
  // joined since may hold slices of the class by then. One retired meanwhile
  // stays readable through the snapshot. The retired caches' counts are read
  // in the same look as the list (ThreadCaches::all): a cache retiring
  // meanwhile is counted once, so no count goes down between snapshots.
  std::vector<std::shared_ptr<detail::SegmentCache>> all;
  std::uint64_t seen_changes = 0;
  std::uint64_t retired_hits = retired_cache_hits.get(), retired_remote = retired_remote_releases.get();
  auto look = [&] {
    seen_changes = caches.changes();
    all = caches.all([&] {
      retired_hits = retired_cache_hits.get();
      retired_remote = retired_remote_releases.get();
    });
  };
  if (caches_enabled) look();
  s.budget_bytes = config.budget_bytes;
  s.region_bytes = config.region_bytes;
  for (std::size_t c = 0; c < kSizeClassCount; ++c) {
    const ClassPool& pool = classes[c];
    SizeClassStats& out = s.classes[c];
    platform::LockGuard guard(pool.mu);
    out.slice_bytes = pool.slice_bytes;
    // The pool counts cached slices live (they left it); they are free. Read
    // under the class lock, which every refill and spill holds: the pair is
    // consistent but for hand-outs and releases in flight.
    // With the caches off none registers: the count never changes.
    if (caches.changes() != seen_changes) look();  // lock order: class mu, then the registry's
    std::size_t cached = 0;
    for (const auto& cache : all) cached += cache->classes[c].published.load(std::memory_order_relaxed);
    out.cached_slices = std::min(cached, pool.live_slices);
    out.live_slices = pool.live_slices - out.cached_slices;
    out.free_slices = pool.free_slices + out.cached_slices;
    out.freed_regions = pool.freed_queue.size();
    for (std::uint32_t region_id : pool.regions) {
      out.active_regions += table.at(region_id).state == RegionState::Active ? 1 : 0;
    }
    // Finished before started: a cleanup is counted started before its task
    // runs, so this order keeps finished <= started in every snapshot.
    out.cleanups_finished = pool.cleanups_finished.get();
    out.cleanups_started = pool.cleanups_started.get();
    out.cleanups_refused = pool.cleanups_refused.get();
    s.resident_estimate_bytes += pool.touched_slices * pool.slice_bytes;
  }
  {
    platform::LockGuard guard(regions_mu);
    s.virtual_bytes = virtual_bytes;
    s.peak_virtual_bytes = peak_virtual_bytes;
  }
  s.regions_mapped = regions_mapped.get();
  s.regions_unmapped = regions_unmapped.get();
  s.regions_released = regions_released.get();
  s.regions_reused = regions_reused.get();
  s.resets_memset = resets_memset.get();
  s.resets_madvise = resets_madvise.get();
  s.madvise_failures = madvise_failures.get();
  s.map_failures = map_failures.get();
  s.unmap_failures = unmap_failures.get();
  s.double_frees = double_frees.get();
  s.invalid_pointers = invalid_pointers.get();
  s.cache_refills = cache_refills.get();
  s.cache_flushes = cache_flushes.get();
  // Retired caches' counts, then the live caches' (one look: each cache once).
  s.cache_hits = retired_hits;
  s.remote_releases = retired_remote;
  if (caches_enabled) {
    s.thread_caches = all.size();
    s.thread_cache_granted_bytes = caches_granted_bytes.load(std::memory_order_relaxed);
    for (const auto& cache : all) {
      s.cache_hits += cache->hits.get();
      s.remote_releases += cache->remote_releases.get();
    }
  }
  return s;
}

namespace {

// What a class's regions add up to, to compare with the pool's counters.
struct ClassTally {
  std::size_t live = 0, free = 0, touched = 0, freed = 0, unused = 0, partial = 0;
};

// One region of a class: its slice states against its counts and free stack,
// and the cached slices of it (free, off the free stack, in one cache once;
// found ones are erased from `cached_by_region`).
template <class Violation>
void audit_region(std::uint32_t region_id, const Region& region, int c,
                  std::map<std::uint32_t, std::vector<std::uint32_t>>& cached_by_region, ClassTally& tally,
                  std::size_t& mapped_regions, Violation&& violation) {
  if (region.size_class != c) violation(fmt::format("region #{} has class {}", region_id, region.size_class));
  if (region.state == RegionState::Unused) {
    ++tally.unused;
    return;
  }
  ++mapped_regions;
  tally.touched += region.touched_count();
  if (region.state == RegionState::Releasing || region.state == RegionState::Unmapping) {
    violation(fmt::format("region #{} is detached at quiescence", region_id));
    return;
  }
  std::uint32_t free_in_states = 0, touched_in_states = 0;
  for (std::uint32_t i = 0; i < region.slice_count(); ++i) {
    free_in_states += region.slice(i).generation.load() == 0 ? 1 : 0;
    touched_in_states += region.slice(i).touched ? 1 : 0;
  }
  std::vector<bool> seen(region.slice_count(), false);
  std::uint32_t cached_here = 0;
  if (auto it = cached_by_region.find(region_id); it != cached_by_region.end()) {
    for (std::uint32_t slice : it->second) {
      if (region.state != RegionState::Active || slice >= region.slice_count() || seen[slice] ||
          region.slice(slice).generation.load() != 0) {
        violation(fmt::format("region #{}: bad cached slice {}", region_id, slice));
        continue;
      }
      seen[slice] = true;
      ++cached_here;
    }
    cached_by_region.erase(it);
  }
  if (free_in_states != region.free_count() + cached_here ||
      region.free_stack().size() != region.free_count()) {
    violation(fmt::format("region #{}: {} free slices by state, free count {} + {} cached, stack {}",
                          region_id, free_in_states, region.free_count(), cached_here,
                          region.free_stack().size()));
  }
  if (touched_in_states != region.touched_count()) {
    violation(fmt::format("region #{}: touched count {} != {}", region_id, region.touched_count(),
                          touched_in_states));
  }
  for (std::uint32_t slice : region.free_stack()) {
    if (slice >= region.slice_count() || seen[slice] || region.slice(slice).generation.load() != 0) {
      violation(fmt::format("region #{}: bad free-stack entry {}", region_id, slice));
      break;
    }
    seen[slice] = true;
  }
  if (region.state == RegionState::Freed) {
    ++tally.freed;
    if (!region.all_free()) violation(fmt::format("freed region #{} has live slices", region_id));
    return;
  }
  tally.live += region.slice_count() - region.free_count();
  tally.free += region.free_count();
  if (region.in_partial_list != (region.free_count() > 0)) {
    violation(fmt::format("region #{}: partial flag {} with {} free", region_id, region.in_partial_list,
                          region.free_count()));
  }
  tally.partial += region.in_partial_list ? 1 : 0;
}

}  // namespace

void SegmentAllocator::Impl::audit_class(int c, const std::vector<detail::CachedSlice>& cached,
                                         std::vector<std::string>& violations,
                                         std::size_t& mapped_regions) const {
  const ClassPool& pool = pool_of(c);
  platform::LockGuard guard(pool.mu);
  auto violation = [&](std::string text) {
    violations.push_back(fmt::format("class {} KiB: {}", pool.slice_bytes / 1024, text));
  };
  std::map<std::uint32_t, std::vector<std::uint32_t>> cached_by_region;
  for (const detail::CachedSlice& entry : cached) cached_by_region[entry.region].push_back(entry.slice);
  ClassTally tally;
  for (std::uint32_t region_id : pool.regions) {
    audit_region(region_id, table.at(region_id), c, cached_by_region, tally, mapped_regions, violation);
  }
  for (const auto& [region_id, slices] : cached_by_region) {
    violation(fmt::format("{} cached slice(s) of region #{}, not a region of the class", slices.size(), region_id));
  }
  if (tally.live != pool.live_slices) violation(fmt::format("live count {} != {} in regions", pool.live_slices, tally.live));
  if (tally.free != pool.free_slices) violation(fmt::format("free count {} != {} in regions", pool.free_slices, tally.free));
  if (tally.touched != pool.touched_slices) violation(fmt::format("touched count {} != {}", pool.touched_slices, tally.touched));
  if (tally.freed != pool.freed_queue.size()) violation(fmt::format("freed queue {} != {} freed regions", pool.freed_queue.size(), tally.freed));
  if (tally.unused != pool.unused_slots.size()) violation(fmt::format("unused slots {} != {}", pool.unused_slots.size(), tally.unused));
  if (tally.partial != pool.partial.size()) violation(fmt::format("partial list {} != {} flagged", pool.partial.size(), tally.partial));
  // At quiescence no cleanup runs, so its guard must be clear (seed 002: a
  // guard left set stops every later cleanup of the class).
  if (pool.cleanup_in_progress.load()) violation("cleanup guard still set with no cleanup running");
}

std::vector<std::string> SegmentAllocator::Impl::audit() const {
  std::vector<std::string> violations;
  std::size_t mapped_regions = 0;
  std::array<std::vector<detail::CachedSlice>, kSizeClassCount> cached;
  if (caches_enabled) {
    std::size_t granted_sum = 0;
    for (const auto& cache : caches.all()) {
      std::size_t held = 0;
      for (std::size_t c = 0; c < kSizeClassCount; ++c) {
        const detail::ClassSliceCache& cc = cache->classes[c];
        const std::uint32_t n = cc.published.load(std::memory_order_relaxed);
        cached[c].insert(cached[c].end(), cc.slots.begin(), cc.slots.begin() + n);
        held += n * classes[c].slice_bytes;
      }
      const std::size_t granted = cache->granted_bytes.load(std::memory_order_relaxed);
      if (held > granted) {
        violations.push_back(fmt::format("thread cache {} holds {} bytes, granted {}", cache->id, held, granted));
      }
      granted_sum += granted;
    }
    // The limit on all caches: their grants add up, within it.
    const std::size_t total = caches_granted_bytes.load(std::memory_order_relaxed);
    if (granted_sum != total || total > caches_max_bytes) {
      violations.push_back(fmt::format("thread caches granted {} bytes, {} counted, limit {}", granted_sum, total,
                                       caches_max_bytes));
    }
  }
  for (int c = 0; c < static_cast<int>(kSizeClassCount); ++c) {
    audit_class(c, cached[static_cast<std::size_t>(c)], violations, mapped_regions);
  }
  platform::LockGuard guard(regions_mu);
  const std::size_t expected_virtual = mapped_regions * config.region_bytes;
  if (virtual_bytes != expected_virtual) {
    violations.push_back(fmt::format("virtual bytes {} != {} mapped regions x {}", virtual_bytes,
                                     mapped_regions, config.region_bytes));
  }
  if (virtual_bytes > config.budget_bytes) {
    violations.push_back(
        fmt::format("virtual bytes {} over budget {}", virtual_bytes, config.budget_bytes));
  }
  if (by_address.size() != mapped_regions) {
    violations.push_back(fmt::format("address index has {} regions, {} mapped", by_address.size(),
                                     mapped_regions));
  }
  for (const auto& [base, region_id] : by_address) {
    if (table.at(region_id).base() != base) {
      violations.push_back(fmt::format("address index entry for region #{} is stale", region_id));
    }
  }
  return violations;
}

}  // namespace segsim
