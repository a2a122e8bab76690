// The per-thread cache's hit paths, inline into SegmentAllocator's public
// allocate / release (segment_allocator.cpp): a production thread's
// allocation served by its cache and its release into it. Internal to the
// SegmentAllocator.
//
// They run only when nothing listens and nothing can differ: a production
// thread (no simulation: the simulator's scheduling points live on the slow
// path, segment_thread_cache.cpp), the cache its thread used last, no
// observer, no fault-point controller, no reclaim pending (flush epoch), the
// class cache neither empty nor full, the generations reserved, the
// all-caches grant covering a release. Anything else returns false before
// changing any state, and the caller takes the full path, which does every
// check and diagnosis as before. Exactness is the slow path's: a release frees
// the slice with the same compare-exchange on its generation (a cached, free
// or reused slice fails it and is refused on the locked path), and every
// generation handed out was reserved from the class under its lock.
#pragma once

#include "core/asan.h"
#include "core/fault_point.h"
#include "core/probe.h"
#include "core/segment_allocator_impl.h"

namespace segsim {

[[gnu::always_inline]] inline detail::SegmentCache* SegmentAllocator::Impl::quiet_cache() {
  if (!fast_path_enabled) return nullptr;
  // A controller may fire fault points on the cache paths: the slow path asks it.
  if (fault_points::detail::g_controller.load(std::memory_order_relaxed) != nullptr) [[unlikely]] return nullptr;
  return caches.last_used();
}

[[gnu::always_inline]] inline Segment SegmentAllocator::Impl::allocate_hit(int c, bool zero) {
  detail::SegmentCache* cache = quiet_cache();
  if (cache == nullptr) [[unlikely]] return Segment();
  detail::ClassSliceCache& cc = cache->classes[static_cast<std::size_t>(c)];
  if (cc.count == 0 || cc.generation_next == cc.generation_end ||
      cache->seen_flush_epoch != flush_epoch.load(std::memory_order_relaxed)) [[unlikely]] {
    return Segment();
  }
  const std::size_t slice_bytes = class_bytes(static_cast<std::size_t>(c));
  const detail::CachedSlice entry = cc.slots[cc.count - 1];
  cc.set_count(cc.count - 1);
  cache->held_bytes -= slice_bytes;
  const std::uint32_t generation = cc.generation_next++;
  entry.state->owner_cache = static_cast<std::uint16_t>(cache->id);
  entry.state->generation.store(generation, std::memory_order_release);
  cache->hits.add(1);
  SEGSIM_PROBE("tcache.alloc.hit");
  asan::unpoison(entry.data, slice_bytes);
  if (zero) {
    if (entry.zero) {
      SEGSIM_PROBE("alloc.zero.fresh_slice_skipped");
    } else {
      zero_memory(entry.data, slice_bytes);
    }
  }
  return Segment(entry.data, id, generation, entry.region, entry.slice, static_cast<std::uint8_t>(c));
}

[[gnu::always_inline]] inline bool SegmentAllocator::Impl::release_hit(const Segment& segment) {
  detail::SegmentCache* cache = quiet_cache();
  if (cache == nullptr) [[unlikely]] return false;
  const auto c = static_cast<std::size_t>(segment.size_class());
  if (c >= kSizeClassCount || segment.allocator_id() != id || segment.generation() == 0) [[unlikely]] return false;
  detail::Region* region = table.get(segment.region_id());
  if (region == nullptr || region->size_class != static_cast<int>(c) ||
      segment.slice_index() >= region->slice_count() ||
      region->slice_data(segment.slice_index()) != segment.data()) [[unlikely]] {
    return false;
  }
  const detail::ClassPool& pool = classes[c];
  detail::ClassSliceCache& cc = cache->classes[c];
  if (cc.count >= pool.cache_capacity ||
      cache->held_bytes + pool.slice_bytes > cache->granted_bytes.load(std::memory_order_relaxed) ||
      cache->seen_flush_epoch != flush_epoch.load(std::memory_order_relaxed)) [[unlikely]] {
    return false;
  }
  detail::SliceState& state = region->slice(segment.slice_index());
  std::uint32_t expected = segment.generation();
  // Not live (free, cached, reused): nothing changed; the slow path refuses it.
  if (!state.generation.compare_exchange_strong(expected, 0, std::memory_order_acq_rel)) [[unlikely]] return false;
  // The slice is ours alone from here: no other handle of it is live.
  if (state.owner_cache != 0 && state.owner_cache != static_cast<std::uint16_t>(cache->id)) {
    SEGSIM_PROBE("tcache.release.remote");
    cache->remote_releases.add(1);
  }
  asan::poison(segment.data(), pool.slice_bytes);
  cc.slots[cc.count] = detail::CachedSlice{&state, segment.data(), segment.region_id(),
                                           static_cast<std::uint16_t>(segment.slice_index()), false};
  cc.set_count(cc.count + 1);
  cache->held_bytes += pool.slice_bytes;
  return true;
}

}  // namespace segsim
