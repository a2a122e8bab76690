// The per-class pool of a SegmentAllocator: handing slices out (allocate),
// taking them back (release), zeroing (reset and the zero-on-allocate
// policy), and explaining a refused handle (diagnose).
#include <algorithm>
#include <cstring>

#include "core/asan.h"
#include "core/assert.h"
#include "core/fault_point.h"
#include "core/mutants.h"
#include "core/probe.h"
#include "core/segment_allocator_impl.h"

namespace segsim {

using detail::ClassPool;
using detail::Region;
using detail::RegionState;

Result<Segment> SegmentAllocator::Impl::allocate(std::size_t bytes, bool zero) {
  const int c = class_of(bytes);
  if (c < 0) {
    if (bytes == 0) {
      SEGSIM_PROBE("alloc.invalid_size.zero");
      return make_error(Errc::InvalidSize, "zero bytes requested");
    }
    SEGSIM_PROBE("alloc.invalid_size.too_large");
    return make_error(Errc::InvalidSize, "larger than the 256 KiB class");
  }
  if (classes[c].cache_capacity != 0) {
    Result<Segment> out = Segment();
    if (allocate_cached(c, zero, out)) return out;
  }
  return allocate_from_pool(c, zero);
}

Segment SegmentAllocator::Impl::make_handle(int c, std::uint32_t region_id, std::uint32_t slice,
                                            std::uint32_t generation) const {
  const Region& region = table.at(region_id);
  std::byte* data = region.slice_data(slice);
  SEGSIM_ASSERT(data >= region.base() && data + classes[c].slice_bytes <= region.base() + region.bytes(),
                "slice outside its region");
  return Segment(data, id, generation, region_id, slice, static_cast<std::uint8_t>(c));
}

SegmentAllocator::Impl::TakenSlice SegmentAllocator::Impl::take_slice(int c) {
  ClassPool& pool = classes[c];
  SEGSIM_ASSERT(!pool.partial.empty(), "grow left no free slice");
  const std::uint32_t region_id = pool.partial.back();
  Region& region = table.at(region_id);
  SEGSIM_ASSERT(region.state == RegionState::Active && region.size_class == c && region.in_partial_list,
                "partial list holds a region that cannot serve");
  SEGSIM_ASSERT(pool.free_slices > 0, "a partial region but no free slice counted");
  SEGSIM_ASSERT(region.mapped() && region.free_count() > 0, "a partial region without a mapping or a free slice");
  const std::uint32_t slice = region.pop_free();
  if (region.free_count() == 0) {
    SEGSIM_PROBE("alloc.region.filled");
    pool.partial.pop_back();
    region.in_partial_list = false;
  }
  detail::SliceState& state = region.slice(slice);
  SEGSIM_ASSERT(state.generation.load(std::memory_order_relaxed) == 0, "free stack held a live slice");
  const TakenSlice taken{region_id, slice, state.zero};
  state.zero = false;
  if (!state.touched) {
    state.touched = true;
    region.note_touched();
    ++pool.touched_slices;
  }
  ++pool.live_slices;
  --pool.free_slices;
  SEGSIM_ASSERT(region.in_partial_list == (region.free_count() > 0), "partial flag disagrees with the free count");
  return taken;
}

Result<Segment> SegmentAllocator::Impl::allocate_from_pool(int c, bool zero) {
  ClassPool& pool = classes[c];
  platform::UniqueLock lock(pool.mu);
  const bool force_slow_path = SEGSIM_FAULT_POINT("alloc.pool.slow_path");
  if (pool.partial.empty() || force_slow_path) {
    Status grown = grow(c, lock);
    if (!grown.ok()) {
      if (pool.partial.empty()) return grown.error();
      // A forced slow path that cannot grow still serves from the pool.
      SEGSIM_PROBE("alloc.grow.forced_slow_path_served");
    }
  }
  const TakenSlice taken = take_slice(c);
  bool wrapped = false;
  const std::uint32_t generation = pool.generations.take(wrapped);
  if (wrapped) SEGSIM_PROBE("alloc.generation.wrapped");
  detail::SliceState& state = table.at(taken.region).slice(taken.slice);
  state.owner_cache = 0;
  state.generation.store(generation, std::memory_order_release);
  if (zero && taken.zero) SEGSIM_PROBE("alloc.zero.fresh_slice_skipped");
  const bool needs_zero = zero && !taken.zero;
  const Segment segment = make_handle(c, taken.region, taken.slice, generation);
  if (config.observer != nullptr) config.observer->handing_out(segment);
  lock.unlock();

  asan::unpoison(segment.data(), pool.slice_bytes);
  if (needs_zero) zero_memory(segment.data(), pool.slice_bytes);
  if (config.observer != nullptr) config.observer->handed_out(segment, zero);
  return segment;
}

// ---------------------------------------------------------------------------
// release and reset

Error SegmentAllocator::Impl::refuse(Error error) const {
  if (error.code == Errc::DoubleFree) {
    double_frees.bump();
  } else {
    invalid_pointers.bump();
  }
  return error;
}

// With the handle's class locked: the region of a live handle, or null. The
// fast path of release and reset; diagnose() explains a null.
Region* SegmentAllocator::Impl::live_region(const Segment& segment) const {
  Region* region = table.get(segment.region_id());
  if (segment.allocator_id() != id || region == nullptr ||
      region->size_class != segment.size_class() ||
      segment.slice_index() >= region->slice_count() || !region->mapped() ||
      region->slice_data(segment.slice_index()) != segment.data() || segment.generation() == 0 ||
      region->slice(segment.slice_index()).generation.load(std::memory_order_relaxed) != segment.generation()) {
    return nullptr;
  }
  return region;
}

Error SegmentAllocator::Impl::refuse_classless(const Segment& segment) const {
  if (segment.is_null()) {
    SEGSIM_PROBE("release.refused.null");
    return refuse(make_error(Errc::InvalidPointer, "null segment"));
  }
  SEGSIM_ASSERT(segment.size_class() >= static_cast<int>(kSizeClassCount), "refuse_classless of a handle with a class");
  // A forged or corrupted handle: named as it came (describe() prints no
  // class past the last), so the caller's log points at the bad handle.
  SEGSIM_PROBE("release.refused.no_such_class");
  Error error = make_error(Errc::InvalidPointer, "handle of a size class past the largest");
  error.address = reinterpret_cast<std::uintptr_t>(segment.data());
  error.size_class = static_cast<std::int16_t>(segment.size_class());
  error.generation = segment.generation();
  return refuse(error);
}

// With the handle's class locked: why live_region() refused `segment`.
Error SegmentAllocator::Impl::diagnose(const Segment& segment) const {
  Error error;
  error.address = reinterpret_cast<std::uintptr_t>(segment.data());
  error.size_class = static_cast<std::int16_t>(segment.size_class());
  error.generation = segment.generation();
  auto fail = [&](Errc code, const char* detail) {
    error.code = code;
    error.detail = detail;
    return refuse(error);
  };
  if (segment.allocator_id() != id) {
    SEGSIM_PROBE("release.refused.foreign");
    return fail(Errc::InvalidPointer, "handle of another allocator");
  }
  if (segment.generation() == 0) {
    SEGSIM_PROBE("release.refused.no_generation");
    return fail(Errc::InvalidPointer, "handle has no generation");
  }
  const Region* region = table.get(segment.region_id());
  if (region == nullptr) {
    SEGSIM_PROBE("release.refused.no_region");
    return fail(Errc::InvalidPointer, "no such region");
  }
  if (region->size_class != segment.size_class()) {
    SEGSIM_PROBE("release.refused.wrong_class");
    return fail(Errc::InvalidPointer, "region belongs to another size class");
  }
  if (segment.slice_index() >= region->slice_count()) {
    SEGSIM_PROBE("release.refused.slice_out_of_range");
    return fail(Errc::InvalidPointer, "slice index out of range");
  }
  // Only this allocator makes handles with its id, so a handle that no longer
  // matches its region's mapping was made for an earlier mapping of it: every
  // slice of that mapping had been released before it was unmapped.
  if (!region->mapped()) {
    SEGSIM_PROBE("release.refused.unmapped");
    return fail(Errc::DoubleFree, "its region has since been unmapped");
  }
  if (region->slice_data(segment.slice_index()) != segment.data()) {
    SEGSIM_PROBE("release.refused.remapped");
    return fail(Errc::DoubleFree, "its region has since been unmapped and mapped anew");
  }
  const std::uint32_t live = region->slice(segment.slice_index()).generation.load(std::memory_order_relaxed);
  SEGSIM_ASSERT(live != segment.generation(), "diagnose of a live handle");
  error.live_generation = live;
  SEGSIM_PROBE("release.refused.double_free");
  return fail(Errc::DoubleFree, live == 0 ? "slice is free" : "slice was reallocated since");
}

bool SegmentAllocator::Impl::return_slice(ClassPool& pool, std::uint32_t region_id, std::uint32_t slice) {
  Region& region = table.at(region_id);
  SEGSIM_ASSERT(region.state == RegionState::Active, "live slice in an inactive region");
  SEGSIM_ASSERT(&classes[static_cast<std::size_t>(region.size_class)] == &pool, "a slice returned to another class's pool");
  SEGSIM_ASSERT(pool.live_slices > 0, "a live slice but none counted");
  SEGSIM_ASSERT(region.slice(slice).generation.load(std::memory_order_relaxed) == 0, "returning a live slice");
  region.push_free(slice);
  if (!region.in_partial_list) {
    SEGSIM_PROBE("release.region_back_in_partial");
    region.in_partial_list = true;
    SEGSIM_DEBUG_ASSERT(std::find(pool.partial.begin(), pool.partial.end(), region_id) == pool.partial.end(),
                        "a region twice in the partial list");
    pool.partial.push_back(region_id);
  }
  --pool.live_slices;
  ++pool.free_slices;
  SEGSIM_ASSERT(config.cleanup_every_free_slices > 0, "a cleanup period of zero slices");
  const std::size_t start = config.cleanup_start_free_slices;
  return config.proactive_cleanup && pool.free_slices > start &&
         (pool.free_slices - start) % config.cleanup_every_free_slices == 0;
}

Status SegmentAllocator::Impl::release(const Segment& segment) {
  if (segment.is_null() || segment.size_class() >= static_cast<int>(kSizeClassCount)) [[unlikely]] {
    return refuse_classless(segment);
  }
  const int c = segment.size_class();
  ClassPool& pool = classes[c];
  if (pool.cache_capacity != 0 && release_cached(segment)) return {};
  return release_locked(segment);
}

Status SegmentAllocator::Impl::release_locked(const Segment& segment) {
  const int c = segment.size_class();
  ClassPool& pool = classes[c];
  bool start_cleanup = false;
  {
    platform::LockGuard guard(pool.mu);
    Region* located = live_region(segment);
    std::uint32_t expected = segment.generation();
    // A compare-exchange even under the lock: a thread cache's release of a
    // stale copy of this handle does not take it (segment_thread_cache.cpp).
    if (located == nullptr || !located->slice(segment.slice_index())
                                   .generation.compare_exchange_strong(expected, 0, std::memory_order_acq_rel)) {
      return diagnose(segment);
    }
    if (config.observer != nullptr) config.observer->released(segment);
    // Poisoned before the slice can be handed out again (under the lock).
    asan::poison(segment.data(), pool.slice_bytes);
    SEGSIM_ASSERT(located->size_class == c, "a live handle's region of another class");
    start_cleanup = return_slice(pool, segment.region_id(), segment.slice_index());
  }
  if (start_cleanup) {  // off the lock: never blocks the release path
    SEGSIM_PROBE("release.cleanup_threshold");
    maybe_start_cleanup(c);
  }
  return {};
}

Status SegmentAllocator::Impl::reset(const Segment& segment) {
  if (segment.is_null() || segment.size_class() >= static_cast<int>(kSizeClassCount)) [[unlikely]] {
    return refuse_classless(segment);
  }
  const ClassPool& pool = classes[segment.size_class()];
  {
    platform::LockGuard guard(pool.mu);
    if (live_region(segment) == nullptr) return diagnose(segment);
  }
  SEGSIM_PROBE("reset.zeroed");
  // Off the lock, and a release does not wait for it: a reset racing a
  // release of the same handle is the caller's own data race, like any write
  // to a segment during its release (the concurrent property leaves it out).
  zero_memory(segment.data(), segment.size());
  return {};
}

void SegmentAllocator::Impl::zero_memory(std::byte* data, std::size_t bytes) {
  SEGSIM_ASSERT(data != nullptr && bytes >= kSmallestClassBytes && bytes <= kLargestClassBytes,
                "zeroing something that is not a slice");
  if (bytes >= config.reset_madvise_min_bytes) {
    SEGSIM_PROBE("zero.madvise");
    if (os.advise(data, bytes, Advice::DontNeed).ok() || SEGSIM_MUTANT(MadviseUnchecked)) {
      resets_madvise.bump();
      return;
    }
    SEGSIM_PROBE("zero.madvise_failed_memset");
    madvise_failures.bump();  // fall back: the segment must read zero regardless
  }
  std::memset(data, 0, bytes);
  resets_memset.bump();
}

}  // namespace segsim
