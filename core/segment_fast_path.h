// The per-thread cache's hit paths, inline into SegmentAllocator's public
// allocate / release (segment_allocator.cpp): an allocation served by the
// caller's cache and a release into it. Internal to the SegmentAllocator.
//
// They run only when nothing listens and nothing can differ: no observer, no
// fault-point controller, the caller's cache found without a search (a
// production thread's: the cache its thread used last; a simulated thread's:
// its fiber's, by key), no reclaim pending (flush epoch), the class cache
// neither empty nor full, the generations reserved, the all-caches grant
// covering a release. Anything else returns "declined" before changing any
// state, and the caller takes the full path, which does every check and
// diagnosis as before. Exactness is the slow path's: a release frees the
// slice with the same compare-exchange on its generation (a cached, free or
// reused slice fails it and is refused on the locked path), and every
// generation handed out was reserved from the class under its lock.
//
// Under a simulation a hit is exactly the cached path of
// segment_thread_cache.cpp (allocate_cached / release_cached) without its
// search and its layers: the same checks before the same one scheduling
// point on the class's cache tag, the same steps after it. Past that point
// the full path must not start again (it would make a second point), so a
// hit that cannot finish there says where the operation continues: the pool
// (an allocation whose class cache another fiber emptied at the point) or
// the locked release (a release whose grant or compare-exchange failed).
#pragma once

#include "core/asan.h"
#include "core/assert.h"
#include "core/fault_point.h"
#include "core/probe.h"
#include "core/segment_allocator_impl.h"

// Force-inlined: they are every cached allocation's and release's whole work
// (issue 17's speed floors). gcc emits no function of its own for an
// always-inline function, so gcov could never count these as reached: the
// coverage build (SEGSIM_COVERAGE, ci/coverage.sh, -O0) makes them plain
// inline functions. Every other build's code is unchanged.
#if defined(SEGSIM_COVERAGE)
#define SEGSIM_HIT_PATH inline
#else
#define SEGSIM_HIT_PATH [[gnu::always_inline]] inline
#endif

namespace segsim {

// Nothing listens and nothing can differ (see above): a hit path may run.
SEGSIM_HIT_PATH bool SegmentAllocator::Impl::quiet() const {
  // A controller may fire fault points on the cache paths: the slow path asks it.
  return fast_path_enabled && fault_points::detail::g_controller.load(std::memory_order_relaxed) == nullptr;
}

// `cache` can hand out a slice of class `c` without the pool.
SEGSIM_HIT_PATH bool SegmentAllocator::Impl::can_hand_out(const detail::SegmentCache& cache,
                                                                       int c) const {
  const detail::ClassSliceCache& cc = cache.classes[static_cast<std::size_t>(c)];
  return cc.count != 0 && cc.generation_next != cc.generation_end &&
         cache.seen_flush_epoch == flush_epoch.load(std::memory_order_relaxed);
}

// A hit's hand-out from a class cache that holds a slice and generations.
template <bool kTellObserver>
SEGSIM_HIT_PATH Segment SegmentAllocator::Impl::hand_out_cached(detail::SegmentCache& cache, int c,
                                                                             bool zero) {
  detail::ClassSliceCache& cc = cache.classes[static_cast<std::size_t>(c)];
  SEGSIM_ASSERT(cc.count != 0, "a cache hit's hand-out from an empty class cache");
  const std::size_t slice_bytes = class_bytes(static_cast<std::size_t>(c));
  const detail::CachedSlice entry = cc.slots[cc.count - 1];
  cc.set_count(cc.count - 1);
  cache.held_bytes -= slice_bytes;
  const std::uint32_t generation = cc.generation_next++;
  entry.state->owner_cache = static_cast<std::uint16_t>(cache.id);
  entry.state->generation.store(generation, std::memory_order_release);
  cache.hits.add(1);
  const auto handle = [&] {
    return Segment(entry.data, id, generation, entry.region, entry.slice, static_cast<std::uint8_t>(c));
  };
  if constexpr (kTellObserver) {
    if (config.observer != nullptr) config.observer->handing_out(handle());
  }
  asan::unpoison(entry.data, slice_bytes);
  if (zero) {
    if (entry.zero) {
      SEGSIM_PROBE("alloc.zero.fresh_slice_skipped");
    } else {
      zero_memory(entry.data, slice_bytes);
    }
  }
  if constexpr (kTellObserver) {
    if (config.observer != nullptr) config.observer->handed_out(handle(), zero);
  }
  return handle();
}

SEGSIM_HIT_PATH Segment SegmentAllocator::Impl::allocate_hit(int c, bool zero, HitEnd& end) {
  if (!quiet()) return Segment();
  if (platform::Runtime* rt = platform::current_runtime(); rt != nullptr) [[unlikely]] {
    return allocate_hit_simulated(*rt, c, zero, end);
  }
  detail::SegmentCache* cache = caches.last_used_by_thread();
  if (cache == nullptr || !can_hand_out(*cache, c)) [[unlikely]] return Segment();
  SEGSIM_PROBE("tcache.alloc.hit");
  return hand_out_cached<false>(*cache, c, zero);
}

// A hit's release into a class cache with room, once the slice is freed.
SEGSIM_HIT_PATH void SegmentAllocator::Impl::park_released(detail::SegmentCache& cache,
                                                                         const Segment& segment,
                                                                         detail::SliceState& state) {
  const auto c = static_cast<std::size_t>(segment.size_class());
  const std::size_t slice_bytes = classes[c].slice_bytes;
  detail::ClassSliceCache& cc = cache.classes[c];
  // The slice is ours alone from here: no other handle of it is live.
  if (state.owner_cache != 0 && state.owner_cache != static_cast<std::uint16_t>(cache.id)) {
    SEGSIM_PROBE("tcache.release.remote");
    cache.remote_releases.add(1);
  }
  asan::poison(segment.data(), slice_bytes);
  cc.slots[cc.count] = detail::CachedSlice{&state, segment.data(), segment.region_id(),
                                           static_cast<std::uint16_t>(segment.slice_index()), false};
  cc.set_count(cc.count + 1);
  cache.held_bytes += slice_bytes;
}

// The slice of `segment` when it is plainly a handle of this allocator and
// `cache` has room and grant for it; null otherwise (nothing changed).
SEGSIM_HIT_PATH detail::SliceState* SegmentAllocator::Impl::fits_cache(
    const detail::SegmentCache& cache, const Segment& segment) const {
  const auto c = static_cast<std::size_t>(segment.size_class());
  if (c >= kSizeClassCount || segment.allocator_id() != id || segment.generation() == 0) [[unlikely]] return nullptr;
  detail::Region* region = table.get(segment.region_id());
  if (region == nullptr || region->size_class != static_cast<int>(c) ||
      segment.slice_index() >= region->slice_count() ||
      region->slice_data(segment.slice_index()) != segment.data()) [[unlikely]] {
    return nullptr;
  }
  const detail::ClassPool& pool = classes[c];
  const detail::ClassSliceCache& cc = cache.classes[c];
  if (cc.count >= pool.cache_capacity ||
      cache.held_bytes + pool.slice_bytes > cache.granted_bytes.load(std::memory_order_relaxed) ||
      cache.seen_flush_epoch != flush_epoch.load(std::memory_order_relaxed)) [[unlikely]] {
    return nullptr;
  }
  return &region->slice(segment.slice_index());
}

SEGSIM_HIT_PATH bool SegmentAllocator::Impl::release_hit(const Segment& segment, HitEnd& end) {
  if (!quiet()) return false;
  if (platform::Runtime* rt = platform::current_runtime(); rt != nullptr) [[unlikely]] {
    return release_hit_simulated(*rt, segment, end);
  }
  detail::SegmentCache* cache = caches.last_used_by_thread();
  if (cache == nullptr) [[unlikely]] return false;
  detail::SliceState* state = fits_cache(*cache, segment);
  if (state == nullptr) [[unlikely]] return false;
  std::uint32_t expected = segment.generation();
  // Not live (free, cached, reused): nothing changed; the slow path refuses it.
  if (!state->generation.compare_exchange_strong(expected, 0, std::memory_order_acq_rel)) [[unlikely]] return false;
  park_released(*cache, segment, *state);
  return true;
}

}  // namespace segsim

#undef SEGSIM_HIT_PATH
