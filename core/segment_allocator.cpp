// The SegmentAllocator facade: configuration validation, construction and
// teardown, and the public calls, each handed to Impl
// (core/segment_allocator_impl.h lists which file holds which concept).
#include "core/segment_allocator.h"

#include <algorithm>
#include <atomic>

#include "core/asan.h"
#include "core/assert.h"
#include "core/flight_recorder.h"
#include "core/flight_recorder_regions.h"
#include "core/segment_allocator_impl.h"
#include "core/segment_fast_path.h"

namespace segsim {

using detail::Region;

namespace {

// Allocator identities, carried by every handle: never 0, never repeated.
constinit detail::IdCounter g_allocator_ids{1};

// The first rule `config` breaks, as the InvalidConfig detail; null when valid.
const char* invalid_field(const SegmentAllocatorConfig& config, std::size_t page_bytes) {
  if (config.region_bytes < kLargestClassBytes || config.region_bytes % kLargestClassBytes != 0 ||
      config.region_bytes % page_bytes != 0 || config.region_bytes > detail::kMaxRegionBytes) {
    return "region_bytes must be a multiple of 256 KiB and of the page size, at most 128 MiB";
  }
  if (config.budget_bytes < config.region_bytes || config.budget_bytes % config.region_bytes != 0) {
    return "budget_bytes must be a positive multiple of region_bytes";
  }
  if (kSizeClassCount * (config.budget_bytes / config.region_bytes) > detail::kMaxRegionSlots) {
    return "budget_bytes / region_bytes is too large (at most 4M region slots)";
  }
  if (config.cleanup_every_free_slices == 0) return "cleanup_every_free_slices must be > 0";
  if (config.cleanup_queue_capacity == 0) return "cleanup_queue_capacity must be > 0";
  if (config.thread_cache_bytes != 0 && config.thread_caches_max_bytes < kLargestClassBytes) {
    return "thread_caches_max_bytes must be at least 256 KiB (one largest slice) when the caches are on";
  }
  if (config.reset_madvise_min_bytes != SIZE_MAX && config.reset_madvise_min_bytes % page_bytes != 0) {
    return "reset_madvise_min_bytes must be a multiple of the page size";
  }
  return nullptr;
}

// The region table's slots. create() refuses the configs that would divide
// by zero or overflow here (invalid_field); one that slipped through is a bug.
std::uint32_t table_slots(const SegmentAllocatorConfig& cfg) {
  SEGSIM_ASSERT(cfg.region_bytes >= kLargestClassBytes && cfg.budget_bytes >= cfg.region_bytes,
                "an allocator built from a region or budget size create() refuses");
  const std::size_t slots = kSizeClassCount * (cfg.budget_bytes / cfg.region_bytes);
  SEGSIM_ASSERT(slots <= detail::kMaxRegionSlots, "more region slots than the table can index");
  return static_cast<std::uint32_t>(slots);
}

}  // namespace

detail::IdCounter& detail::segment_allocator_ids() noexcept { return g_allocator_ids; }

SegmentAllocator::Impl::Impl(Os& os_in, const SegmentAllocatorConfig& cfg, std::uint32_t id_in)
    : os(os_in),
      config(cfg),
      id(id_in),
      table(table_slots(cfg)),
      caches_enabled(cfg.thread_cache_bytes != 0),
      fast_path_enabled(caches_enabled && cfg.observer == nullptr),
      caches(id),
      caches_max_bytes(cfg.thread_caches_max_bytes),
      executor(platform::AsyncExecutorConfig{1, cfg.cleanup_queue_capacity}) {
  for (std::size_t c = 0; c < kSizeClassCount; ++c) {
    classes[c].slice_bytes = class_bytes(c);
    if (caches_enabled) {
      classes[c].cache_capacity = static_cast<std::uint32_t>(
          std::clamp<std::size_t>(cfg.thread_cache_bytes / class_bytes(c), 1, detail::kMaxCachedSlices));
    }
  }
  SEGSIM_ASSERT(table.capacity() >= kSizeClassCount, "a region table without a slot per class");
  SEGSIM_ASSERT(caches_max_bytes >= kLargestClassBytes || !caches_enabled, "thread caches that cannot hold one slice");
}

Result<std::unique_ptr<SegmentAllocator>> SegmentAllocator::create(Os& os,
                                                                   SegmentAllocatorConfig config) {
  if (const char* field = invalid_field(config, os.page_size()); field != nullptr) {
    return make_error(Errc::InvalidConfig, field);
  }
  const std::uint32_t id = g_allocator_ids.take();
  if (id == 0) [[unlikely]] {
    SEGSIM_PROBE("alloc.create.ids_exhausted");
    return make_error(Errc::OutOfMemory, detail::kIdsExhausted);
  }
  return std::unique_ptr<SegmentAllocator>(
      new SegmentAllocator(std::make_unique<Impl>(os, config, id)));
}

SegmentAllocator::SegmentAllocator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SegmentAllocator::~SegmentAllocator() {
  impl_->executor.shutdown();
  // Cached slices die with their regions: nothing is returned.
  impl_->caches.detach_all();
  for (std::uint32_t id = 0; id < impl_->table.size(); ++id) {
    Region& region = impl_->table.at(id);
    flight_recorder::detail::forget_region(impl_->id, id);  // its entry is free for another allocator's
    if (!region.mapped()) continue;
    asan::unpoison(region.base(), region.bytes());
    // Nothing to hand an error to in a destructor, nor anything left to count
    // it in (stats() dies with the allocator): a failed unmap leaks the mapping.
    (void)impl_->os.unmap(region.base(), region.bytes());
  }
}

// allocate and release try the thread cache's hit path first (inline,
// segment_fast_path.h); it declines, changing nothing, whenever the full path
// has something to do. The flight recorder hook is one predictable branch.
// The full paths are out of line, so the hit path stays a short leaf.
// On, a hit is recorded inline (flight_recorder::record_hit: the event
// packed into a 32-byte slot of the thread's ring); the stack's config was
// noted by the full path that filled the cache.
Result<Segment> SegmentAllocator::allocate(std::size_t bytes) {
  if (const int c = class_of(bytes); c >= 0) [[likely]] {
    Impl::HitEnd end = Impl::HitEnd::Full;
    if (const Segment hit = impl_->allocate_hit(c, true, end); !hit.is_null()) [[likely]] {
      if (const std::uint32_t live = flight_recorder::live(); live != 0) [[unlikely]] {
        flight_recorder::record_hit(live, flight_recorder::Op::Allocate, bytes, hit);
      }
      return hit;
    }
    if (end == Impl::HitEnd::Pool) [[unlikely]] return allocate_from_pool_full(true, bytes, c);
  }
  return allocate_full(true, bytes);
}
Result<Segment> SegmentAllocator::allocate_uninitialized(std::size_t bytes) {
  if (const int c = class_of(bytes); c >= 0) [[likely]] {
    Impl::HitEnd end = Impl::HitEnd::Full;
    if (const Segment hit = impl_->allocate_hit(c, false, end); !hit.is_null()) [[likely]] {
      if (const std::uint32_t live = flight_recorder::live(); live != 0) [[unlikely]] {
        flight_recorder::record_hit(live, flight_recorder::Op::AllocateUninitialized, bytes, hit);
      }
      return hit;
    }
    if (end == Impl::HitEnd::Pool) [[unlikely]] return allocate_from_pool_full(false, bytes, c);
  }
  return allocate_full(false, bytes);
}
Status SegmentAllocator::release(const Segment& segment) {
  Impl::HitEnd end = Impl::HitEnd::Full;
  if (impl_->release_hit(segment, end)) [[likely]] {
    if (const std::uint32_t live = flight_recorder::live(); live != 0) [[unlikely]] {
      flight_recorder::record_hit(live, flight_recorder::Op::Release, 0, segment);
    }
    return {};
  }
  if (end == Impl::HitEnd::Locked) [[unlikely]] return release_locked_full(segment);
  return release_full(segment);
}

// The inline hit paths decline for an observed allocator (or under a fault
// controller); under a simulation its hits are tried here, out of line,
// telling the observer (Impl::allocate_hit_observed).
Result<Segment> SegmentAllocator::allocate_full(bool zeroed, std::size_t bytes) {
  if (const int c = class_of(bytes); c >= 0) {
    Impl::HitEnd end = Impl::HitEnd::Full;
    if (const Segment hit = impl_->allocate_hit_observed(c, zeroed, end); !hit.is_null()) {
      return after_allocate(zeroed, bytes, hit);
    }
    if (end == Impl::HitEnd::Pool) return allocate_from_pool_full(zeroed, bytes, c);
  }
  return after_allocate(zeroed, bytes, impl_->allocate(bytes, zeroed));
}
Status SegmentAllocator::release_full(const Segment& segment) {
  Impl::HitEnd end = Impl::HitEnd::Full;
  if (impl_->release_hit_observed(segment, end)) return after_release(false, segment, Status{});
  if (end == Impl::HitEnd::Locked) return release_locked_full(segment);
  return after_release(false, segment, impl_->release(segment));
}
Result<Segment> SegmentAllocator::allocate_from_pool_full(bool zeroed, std::size_t bytes, int size_class) {
  return after_allocate(zeroed, bytes, impl_->allocate_from_pool(size_class, zeroed));
}
Status SegmentAllocator::release_locked_full(const Segment& segment) {
  return after_release(false, segment, impl_->release_locked(segment));
}
Status SegmentAllocator::reset(const Segment& segment) { return after_release(true, segment, impl_->reset(segment)); }

Result<Segment> SegmentAllocator::lookup(const std::byte* address) const {
  return impl_->lookup(address);
}

std::size_t SegmentAllocator::free_unused_regions(std::size_t target_virtual_bytes) {
  return impl_->free_unused_regions(target_virtual_bytes);
}
std::size_t SegmentAllocator::release_unused_regions(int size_class) {
  return impl_->release_unused_regions(size_class);
}
void SegmentAllocator::wait_for_cleanups() { impl_->executor.wait_idle(); }

AllocatorStats SegmentAllocator::stats() const { return impl_->stats(); }
std::vector<std::string> SegmentAllocator::audit() const { return impl_->audit(); }

const SegmentAllocatorConfig& SegmentAllocator::config() const noexcept { return impl_->config; }
Os& SegmentAllocator::os() const noexcept { return impl_->os; }
std::uint32_t SegmentAllocator::id() const noexcept { return impl_->id; }

}  // namespace segsim
