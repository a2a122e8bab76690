// A SegmentAllocator's per-thread caches: a few free slices per class in
// front of the class lock (core/thread_cache.h finds the caller's cache).
//
// Exactness without the lock: a cached slice has generation 0, like a pooled
// one, so a release of it (a double free) fails the compare-exchange on its
// generation and goes to the locked path, which diagnoses it as before.
// Generations stay unique per class: a cache hands out generations it reserved
// from the class under the lock, in blocks.
#include <algorithm>

#include "core/asan.h"
#include "core/assert.h"
#include "core/fault_point.h"
#include "core/probe.h"
#include "core/segment_allocator_impl.h"
#include "core/segment_fast_path.h"

namespace segsim {

using detail::CachedSlice;
using detail::ClassPool;
using detail::ClassSliceCache;
using detail::Region;
using detail::SegmentCache;
using detail::kCacheGrantBytes;

namespace {

// Under a simulation, a scheduling point before a cache operation touches a
// slice's generation (shared with racing releases of stale handles).
void cache_point(const ClassPool& pool, platform::AtomicOp op) {
  if (platform::Runtime* rt = platform::current_runtime(); rt != nullptr) [[unlikely]] {
    rt->atomic_access(pool.cache_tag, op);
  }
}

}  // namespace

std::shared_ptr<SegmentCache> SegmentAllocator::Impl::new_cache(std::uint32_t cache_id) {
  if (platform::current_runtime() != nullptr) SEGSIM_PROBE("tcache.new_fiber");
  auto cache = std::make_shared<SegmentCache>(this, id, cache_id);
  cache->seen_flush_epoch = flush_epoch.load(std::memory_order_relaxed);
  return cache;
}

// The cache-hit path of allocate: pop, stamp a reserved generation, hand out.
bool SegmentAllocator::Impl::allocate_cached(int c, bool zero, Result<Segment>& out) {
  if (SEGSIM_FAULT_POINT("alloc.tcache.bypass")) return false;
  SegmentCache* cache = cache_for_caller();
  if (cache == nullptr) [[unlikely]] return false;  // past its thread-locals: the pool serves
  if (cache->seen_flush_epoch != flush_epoch.load(std::memory_order_relaxed)) [[unlikely]] {
    SEGSIM_PROBE("tcache.flush.requested");
    flush_cache(*cache);
  }
  ClassPool& pool = classes[c];
  ClassSliceCache& cc = cache->classes[c];
  if (cc.count == 0 || cc.generation_next == cc.generation_end) {
    Status status;
    if (!refill(*cache, c, status)) {
      if (status.ok()) return false;
      out = status.error();
      return true;
    }
  } else {
    SEGSIM_PROBE("tcache.alloc.hit");
  }
  cache_point(pool, platform::AtomicOp::Store);
  // Under a simulation another fiber's reclaim may have emptied the cache at
  // that scheduling point: the pool serves.
  if (cc.count == 0) [[unlikely]] return false;
  const CachedSlice entry = cc.slots[cc.count - 1];
  cc.set_count(cc.count - 1);
  SEGSIM_ASSERT(cache->held_bytes >= pool.slice_bytes, "cache held bytes underflow");
  cache->held_bytes -= pool.slice_bytes;
  SEGSIM_ASSERT(cc.generation_next != cc.generation_end && cc.generation_next != 0,
                "handing out a generation the cache has not reserved");
  const std::uint32_t generation = cc.generation_next++;
  Region& region = table.at(entry.region);
  SEGSIM_ASSERT(region.size_class == c && entry.state == &region.slice(entry.slice) &&
                    entry.data == region.slice_data(entry.slice),
                "a cached slice that is not the slice it names");
  detail::SliceState& state = region.slice(entry.slice);
  state.owner_cache = static_cast<std::uint16_t>(cache->id);
  state.generation.store(generation, std::memory_order_release);
  cache->hits.add(1);
  const Segment segment = make_handle(c, entry.region, entry.slice, generation);
  if (config.observer != nullptr) config.observer->handing_out(segment);
  asan::unpoison(segment.data(), pool.slice_bytes);
  if (zero && !entry.zero) zero_memory(segment.data(), pool.slice_bytes);
  if (zero && entry.zero) SEGSIM_PROBE("alloc.zero.fresh_slice_skipped");
  if (config.observer != nullptr) config.observer->handed_out(segment, zero);
  out = segment;
  return true;
}

namespace {
// Only a controller that may fire a fault point sends a simulated hit to the full path, which asks it.
bool simulated_hits_quiet() {
  const fault_points::Controller* controller = fault_points::detail::g_controller.load(std::memory_order_relaxed);
  return controller == nullptr || !controller->may_fire();
}
}  // namespace

Segment SegmentAllocator::Impl::allocate_hit_observed(int c, bool zero, HitEnd& end) {
  platform::Runtime* runtime = platform::current_runtime();
  if (quiet() || runtime == nullptr || !caches_enabled || !simulated_hits_quiet()) return Segment();
  return allocate_hit_simulated(*runtime, c, zero, end);
}

bool SegmentAllocator::Impl::release_hit_observed(const Segment& segment, HitEnd& end) {
  platform::Runtime* runtime = platform::current_runtime();
  if (quiet() || runtime == nullptr || !caches_enabled || !simulated_hits_quiet()) return false;
  return release_hit_simulated(*runtime, segment, end);
}

// allocate_hit under a simulation (segment_fast_path.h): the fiber's cache
// by key, allocate_cached's checks and its scheduling point, then its
// hand-out.
Segment SegmentAllocator::Impl::allocate_hit_simulated(platform::Runtime& runtime, int c, bool zero,
                                                       HitEnd& end) {
  SegmentCache* cache = caches.existing_fiber_cache(runtime.thread_key());
  if (cache == nullptr || !can_hand_out(*cache, c)) [[unlikely]] return Segment();
  SEGSIM_PROBE("tcache.alloc.hit");
  // The slice's generation is shared with racing releases of stale handles.
  runtime.atomic_access(classes[c].cache_tag, platform::AtomicOp::Store);
  // Another fiber's reclaim may have emptied the cache at that point.
  if (cache->classes[c].count == 0) [[unlikely]] {
    end = HitEnd::Pool;
    return Segment();
  }
  return hand_out_cached<true>(*cache, c, zero);
}

// release_hit under a simulation: the fiber's cache by key, the checks, then
// release_cached's order — the generation read (not live: the full path
// refuses it), its scheduling point, then the grant and the
// compare-exchange, either of which may fail now that other fibers have run
// (the locked path finishes the release then).
bool SegmentAllocator::Impl::release_hit_simulated(platform::Runtime& runtime, const Segment& segment,
                                                   HitEnd& end) {
  SegmentCache* cache = caches.existing_fiber_cache(runtime.thread_key());
  if (cache == nullptr) [[unlikely]] return false;
  detail::SliceState* state = fits_cache(*cache, segment);
  if (state == nullptr) [[unlikely]] return false;
  std::uint32_t expected = segment.generation();
  if (state->generation.load(std::memory_order_acquire) != expected) [[unlikely]] return false;
  const ClassPool& pool = classes[segment.size_class()];
  runtime.atomic_access(pool.cache_tag, platform::AtomicOp::CompareExchange);
  // fits_cache saw the grant cover the slice; another fiber's reclaim may
  // have trimmed it since, and others taken the limit's room.
  if (!grant(*cache, cache->held_bytes + pool.slice_bytes)) [[unlikely]] {
    SEGSIM_PROBE("tcache.limit.release_hit_refused");
    end = HitEnd::Locked;
    return false;
  }
  if (!state->generation.compare_exchange_strong(expected, 0, std::memory_order_acq_rel)) [[unlikely]] {
    SEGSIM_PROBE("tcache.release.hit_lost_exchange");
    trim_grant(*cache);
    end = HitEnd::Locked;
    return false;
  }
  // The slice is ours alone from here, as on the locked path's.
  if (config.observer != nullptr) config.observer->released(segment);
  park_released(*cache, segment, *state);
  return true;
}

// Under the class lock: up to half the cache's capacity from the pool (growing
// it only when it has nothing; at most one fresh slice), and a fresh block of
// generations. The slices
// go straight into the cache under the lock, so at no scheduling point is a
// slice in neither the pool nor a cache (the simulator's budget oracle counts
// on it). False with an ok `status` when the caller should use the pool path.
bool SegmentAllocator::Impl::refill(SegmentCache& cache, int c, Status& status) {
  ClassPool& pool = classes[c];
  ClassSliceCache& cc = cache.classes[c];
  platform::UniqueLock lock(pool.mu);
  if (cc.generation_next == cc.generation_end) {
    bool wrapped = false;
    cc.generation_next = pool.generations.take_block(detail::kCacheGenerationBlock, wrapped);
    if (wrapped) SEGSIM_PROBE("tcache.generation.wrapped");
    cc.generation_end = cc.generation_next + detail::kCacheGenerationBlock;
    SEGSIM_ASSERT(cc.generation_next != 0 && cc.generation_next < cc.generation_end, "a generation block that wrapped");
  }
  if (cc.count > 0) return true;  // only the generations ran out
  if (pool.partial.empty()) {
    status = grow(c, lock);
    if (!status.ok()) return false;
  }
  // Past the last scheduling point (grow may drop the lock, and another
  // fiber may flush this cache meanwhile). The batch within the limit on all
  // caches: half the capacity, else one slice, else none (the pool serves
  // this allocation directly, from what grow found).
  SEGSIM_ASSERT(cc.count == 0 && pool.cache_capacity >= 1 && pool.cache_capacity <= detail::kMaxCachedSlices,
                "refilling a class cache that holds slices or has no capacity");
  std::uint32_t want = std::max<std::uint32_t>(1, pool.cache_capacity / 2);
  if (!grant(cache, cache.held_bytes + want * pool.slice_bytes)) {
    want = 1;
    if (!grant(cache, cache.held_bytes + pool.slice_bytes)) {
      SEGSIM_PROBE("tcache.limit.refill_refused");
      return false;
    }
  }
  // Used slices come in a batch; a fresh one (known zero, never touched) ends
  // the batch on top, so it is handed out now: the resident estimate never
  // counts a slice that only sits in a cache.
  std::uint32_t n = 0;
  while (n < want && !pool.partial.empty()) {
    SEGSIM_ASSERT(n < cc.slots.size(), "a refill batch past the cache's slots");
    const TakenSlice slice = take_slice(c);
    Region& region = table.at(slice.region);
    cc.slots[n++] = CachedSlice{&region.slice(slice.slice), region.slice_data(slice.slice), slice.region,
                                static_cast<std::uint16_t>(slice.slice), slice.zero};
    if (slice.zero) break;
  }
  // set_count checks its bound in debug builds only (it is on the hit path);
  // the refill is a slow path, under the class lock: always checked here.
  SEGSIM_ASSERT(n <= want, "a refill batch past what it asked for");
  cc.set_count(n);
  cache.held_bytes += n * pool.slice_bytes;
  trim_grant(cache);  // a batch cut short by a fresh slice
  SEGSIM_PROBE("tcache.alloc.refill");
  cache_refills.bump();
  return true;
}

// The release fast path: validate without the lock, free the slice with one
// compare-exchange on its generation, park it in the caller's cache.
bool SegmentAllocator::Impl::release_cached(const Segment& segment) {
  const int c = segment.size_class();
  Region* region = table.get(segment.region_id());
  if (segment.allocator_id() != id || region == nullptr || region->size_class != c ||
      segment.slice_index() >= region->slice_count() || segment.generation() == 0 ||
      region->slice_data(segment.slice_index()) != segment.data()) [[unlikely]] {
    return false;  // not plainly live: the locked path diagnoses it
  }
  if (region->slice(segment.slice_index()).generation.load(std::memory_order_acquire) != segment.generation())
      [[unlikely]] {
    // Free, cached or reallocated: refused on the locked path, before this
    // call has flushed anything (a refused release changes nothing).
    SEGSIM_PROBE("tcache.release.not_live");
    return false;
  }
  if (SEGSIM_FAULT_POINT("release.tcache.bypass")) return false;
  SegmentCache* cache = cache_for_caller();
  if (cache == nullptr) [[unlikely]] return false;
  if (cache->seen_flush_epoch != flush_epoch.load(std::memory_order_relaxed)) [[unlikely]] {
    SEGSIM_PROBE("tcache.flush.requested");
    flush_cache(*cache);
  }
  ClassPool& pool = classes[c];
  ClassSliceCache& cc = cache->classes[c];
  const bool overflow = cc.count >= pool.cache_capacity || SEGSIM_FAULT_POINT("tcache.flush.early");
  // A full cache spills under the class lock, taken before the slice is
  // freed: from the swap to the cache it is never in neither place.
  platform::UniqueLock lock(pool.mu, std::defer_lock);
  if (overflow) {
    lock.lock();
  } else {
    cache_point(pool, platform::AtomicOp::CompareExchange);
  }
  // Past the last scheduling point: the cache is this thread's alone until
  // the release is done. Its grant must cover the slice (after the spill):
  // beyond the limit on all caches the slice goes to the pool, locked path.
  const std::uint32_t spill_count = overflow ? cc.count - cc.count / 2 : 0;
  SEGSIM_ASSERT(spill_count <= cc.count, "spilling more slices than the cache holds");
  if (!grant(*cache, cache->held_bytes - spill_count * pool.slice_bytes + pool.slice_bytes)) {
    SEGSIM_PROBE("tcache.limit.release_refused");
    return false;
  }
  detail::SliceState& state = region->slice(segment.slice_index());
  std::uint32_t expected = segment.generation();
  if (!state.generation.compare_exchange_strong(expected, 0, std::memory_order_acq_rel)) [[unlikely]] {
    SEGSIM_PROBE("tcache.release.lost_exchange");
    trim_grant(*cache);
    return false;  // free, cached or reallocated: refused exactly on the locked path
  }
  // The slice is ours alone from here: no other handle of it is live.
  if (state.owner_cache != 0 && state.owner_cache != static_cast<std::uint16_t>(cache->id)) {
    SEGSIM_PROBE("tcache.release.remote");
    cache->remote_releases.add(1);
  }
  if (config.observer != nullptr) config.observer->released(segment);
  asan::poison(segment.data(), pool.slice_bytes);
  bool start_cleanup = false;
  if (overflow) {
    // The older half goes back to the pool (a reclaim may have emptied the
    // cache while this thread waited for the lock).
    SEGSIM_PROBE("tcache.release.overflow");
    start_cleanup = spill(*cache, c, spill_count);
  }
  SEGSIM_ASSERT(cc.count < pool.cache_capacity, "parking a slice in a full class cache");
  cc.slots[cc.count] = CachedSlice{&state, segment.data(), segment.region_id(),
                                   static_cast<std::uint16_t>(segment.slice_index()), false};
  cc.set_count(cc.count + 1);
  cache->held_bytes += pool.slice_bytes;
  if (overflow) trim_grant(*cache);
  if (lock.owns_lock()) lock.unlock();
  if (start_cleanup) {  // off the lock, as in release()
    SEGSIM_PROBE("release.cleanup_threshold");
    maybe_start_cleanup(c);
  }
  return true;
}

// With the class locked: the `n` oldest slices of `cc` back into the pool.
// True when the class's free count crossed a cleanup threshold meanwhile.
bool SegmentAllocator::Impl::spill(SegmentCache& cache, int c, std::uint32_t n) {
  ClassPool& pool = classes[c];
  ClassSliceCache& cc = cache.classes[c];
  SEGSIM_ASSERT(n <= cc.count, "spilling more slices than the cache holds");
  SEGSIM_ASSERT(cache.held_bytes >= n * pool.slice_bytes, "cache held bytes underflow");
  bool start_cleanup = false;
  for (std::uint32_t i = 0; i < n; ++i) {
    const CachedSlice& entry = cc.slots[i];
    // Never handed out since it read zero: it still does.
    if (entry.zero) table.at(entry.region).slice(entry.slice).zero = true;
    start_cleanup = return_slice(pool, entry.region, entry.slice) || start_cleanup;
  }
  // The slices kept move to the front, oldest first (std::copy: the ranges
  // overlap only with the destination first).
  if (n != 0) std::copy(cc.slots.begin() + n, cc.slots.begin() + cc.count, cc.slots.begin());
  cc.set_count(cc.count - n);
  cache.held_bytes -= n * pool.slice_bytes;
  return start_cleanup;
}

bool SegmentAllocator::Impl::flush_cache_class(SegmentCache& cache, int c) {
  ClassSliceCache& cc = cache.classes[c];
  if (cc.count == 0) {  // another thread's reclaim got here first: nothing returned, no cleanup due
    SEGSIM_PROBE("tcache.flush.class_emptied_meanwhile");
    return false;
  }
  SEGSIM_PROBE("tcache.flush.class");
  const bool start_cleanup = spill(cache, c, cc.count);
  trim_grant(cache);
  return start_cleanup;
}

void SegmentAllocator::Impl::flush_cache(SegmentCache& cache, bool start_cleanups) {
  cache.seen_flush_epoch = flush_epoch.load(std::memory_order_relaxed);
  for (int c = 0; c < static_cast<int>(kSizeClassCount); ++c) {
    if (cache.classes[c].count == 0) continue;
    bool start_cleanup = false;
    {
      platform::LockGuard guard(classes[c].mu);
      start_cleanup = flush_cache_class(cache, c);
    }
    if (start_cleanup && start_cleanups) {
      SEGSIM_PROBE("release.cleanup_threshold");
      maybe_start_cleanup(c);
    }
  }
  trim_grant(cache);  // empty now: the whole grant goes back
  cache_flushes.bump();
}

void SegmentAllocator::Impl::flush_class_for_growth(int c) {
  if (platform::current_runtime() == nullptr) {
    // Production: the caller's whole cache now, every other thread's at its
    // next call (its slices of this class cannot be reached from here).
    flush_epoch.fetch_add(1, std::memory_order_relaxed);
    if (SegmentCache* cache = caches.existing_for_caller(); cache != nullptr) flush_cache(*cache);
    return;
  }
  // One OS thread runs every fiber, and no owner holds a cache across a
  // scheduling point: any fiber may empty any fiber's class cache.
  for (const auto& cache : caches.all()) {
    if (cache->classes[c].count == 0) continue;
    bool start_cleanup = false;
    {
      platform::LockGuard guard(classes[c].mu);
      start_cleanup = flush_cache_class(*cache, c);
    }
    if (start_cleanup) {
      SEGSIM_PROBE("release.cleanup_threshold");
      maybe_start_cleanup(c);
    }
  }
}

bool SegmentAllocator::Impl::grant(SegmentCache& cache, std::size_t held_bytes) {
  const std::size_t granted = cache.granted_bytes.load(std::memory_order_relaxed);
  if (held_bytes <= granted) return true;
  const std::size_t missing = held_bytes - granted;
  // Whole grant units when the limit has room (fewer trips here), else
  // exactly what is missing.
  const std::size_t rounded = (missing + kCacheGrantBytes - 1) / kCacheGrantBytes * kCacheGrantBytes;
  std::size_t total = caches_granted_bytes.load(std::memory_order_relaxed);
  for (;;) {
    std::size_t ask = rounded;
    if (total + ask > caches_max_bytes) ask = missing;
    if (total + ask > caches_max_bytes) return false;
    if (caches_granted_bytes.compare_exchange_weak(total, total + ask, std::memory_order_relaxed)) {
      cache.granted_bytes.store(granted + ask, std::memory_order_relaxed);
      return true;
    }
  }
}

void SegmentAllocator::Impl::trim_grant(SegmentCache& cache) {
  const std::size_t keep = (cache.held_bytes + kCacheGrantBytes - 1) / kCacheGrantBytes * kCacheGrantBytes;
  const std::size_t granted = cache.granted_bytes.load(std::memory_order_relaxed);
  if (granted <= keep) return;
  cache.granted_bytes.store(keep, std::memory_order_relaxed);
  caches_granted_bytes.fetch_sub(granted - keep, std::memory_order_relaxed);
}

void SegmentAllocator::Impl::flush_caller_cache() {
  if (!caches_enabled) return;
  if (SegmentCache* cache = caches.existing_for_caller(); cache != nullptr) flush_cache(*cache);
}

void SegmentAllocator::Impl::flush_caches_for_reclaim(bool start_cleanups) {
  if (!caches_enabled) return;
  if (platform::current_runtime() != nullptr) {
    // One OS thread runs every fiber, and no owner holds a cache across a
    // scheduling point: any fiber may empty any fiber's cache.
    for (const auto& cache : caches.all()) flush_cache(*cache, start_cleanups);
    return;
  }
  flush_epoch.fetch_add(1, std::memory_order_relaxed);
  if (SegmentCache* cache = caches.existing_for_caller(); cache != nullptr) flush_cache(*cache, start_cleanups);
}

void SegmentAllocator::Impl::retire_cache(tcache::CacheLink& link) {
  SEGSIM_PROBE("tcache.thread_exit.flush");
  auto& cache = static_cast<SegmentCache&>(link);
  flush_cache(cache);
  caches.retire(link, [&] {
    retired_cache_hits.value.fetch_add(cache.hits.get(), std::memory_order_relaxed);
    retired_remote_releases.value.fetch_add(cache.remote_releases.get(), std::memory_order_relaxed);
  });
}

void SegmentAllocator::flush_thread_cache() { impl_->flush_caller_cache(); }

}  // namespace segsim
