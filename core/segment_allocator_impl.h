// SegmentAllocator::Impl: the allocator's state and the internal operations
// its concept files share. Internal to the SegmentAllocator; include only from
// its .cpp files (segment_allocator.cpp the facade, segment_pool.cpp the
// per-class pool, segment_regions.cpp growth / reuse / unmapping and the
// address index, segment_cleanup.cpp the proactive cleanup,
// segment_audit.cpp stats and audit, segment_thread_cache.cpp the per-thread
// caches in front of the pool) and from the bug catalogue's
// mutants-only files.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "core/assert.h"
#include "core/id_counter.h"
#include "core/platform/async_executor.h"
#include "core/platform/atomic.h"
#include "core/platform/mutex.h"
#include "core/generation.h"
#include "core/platform/runtime.h"
#include "core/region.h"
#include "core/segment_allocator.h"
#include "core/thread_cache.h"

namespace segsim {
namespace detail {

// Hard limits on what a configuration may ask for (put a limit on everything).
// Slice indexes are 16-bit in a Segment: 128 MiB / 4 KiB = 32768 slices.
inline constexpr std::size_t kMaxRegionBytes = std::size_t{128} << 20;
static_assert(kMaxRegionBytes / kSmallestClassBytes <= UINT16_MAX + 1);
inline constexpr std::size_t kMaxRegionSlots = std::size_t{1} << 22;

// A statistics counter. Counters are never read to make a decision, so they
// are plain relaxed atomics rather than platform::Atomic scheduling points.
struct Counter {
  std::atomic<std::uint64_t> value{0};
  void bump() noexcept { value.fetch_add(1, std::memory_order_relaxed); }
  void undo_bump() noexcept { value.fetch_sub(1, std::memory_order_relaxed); }
  std::uint64_t get() const noexcept { return value.load(std::memory_order_relaxed); }
};

// One size class: its regions and its pool of free slices. Every field but the
// counters and the cleanup guard is guarded by `mu`.
struct ClassPool {
  mutable platform::Mutex mu;
  std::size_t slice_bytes = 0;
  std::vector<std::uint32_t> regions;       // every slot this class owns, any state
  std::vector<std::uint32_t> partial;       // Active regions with a free slice; allocate from back
  std::deque<std::uint32_t> freed_queue;    // Freed regions, reused FIFO before mapping anew
  std::vector<std::uint32_t> unused_slots;  // Unused slots, reused before appending new ones
  std::size_t live_slices = 0;
  std::size_t free_slices = 0;              // free slices of Active regions (the pool)
  std::size_t touched_slices = 0;           // for the resident estimate
  GenerationCounter generations;
  std::uint32_t cache_capacity = 0;         // slices a thread cache keeps of this class (0: off)
  platform::Atomic<bool> cleanup_in_progress{false};
  // Names this class's thread-cache operations to a simulation: each one
  // that touches shared state (a slice's generation) is a scheduling point.
  mutable platform::SimTag cache_tag;
  Counter cleanups_started, cleanups_finished, cleanups_refused;
};

// The most slices a thread cache keeps of one class.
inline constexpr std::uint32_t kMaxCachedSlices = 32;

// Generations a thread cache reserves from its class at a time (under the
// class lock): a cache with slices but no generation left refills only those.
inline constexpr std::uint32_t kCacheGenerationBlock = 256;

// Bytes of the all-caches limit a cache asks for at a time (one largest slice).
inline constexpr std::size_t kCacheGrantBytes = kLargestClassBytes;

// A free slice parked in a thread cache: generation 0, off its region's free
// stack, counted live by the pool (it left the pool) and cached by the cache.
// `state` and `data` spare the hit path the region-table lookup: a cached
// slice's region is Active (not all free), so neither moves while it is here.
struct CachedSlice {
  SliceState* state = nullptr;
  std::byte* data = nullptr;
  std::uint32_t region = 0;
  std::uint16_t slice = 0;
  bool zero = false;  // never handed out since it read zero
};

// One class of a thread's cache. Touched only by its owner thread (fiber),
// except by a flush under a simulation, where fibers share one OS thread and
// no scheduling point falls inside an owner's use of it.
struct ClassSliceCache {
  std::array<CachedSlice, kMaxCachedSlices> slots;
  std::uint32_t count = 0;
  std::atomic<std::uint32_t> published{0};  // `count` for stats() and audit() on other threads
  // Generations reserved from the class under its lock, handed out lock-free.
  std::uint32_t generation_next = 0, generation_end = 0;
  // Debug-only here: the hit paths set the count on every hit; their callers
  // off the hit path check the count they pass.
  void set_count(std::uint32_t n) {
    SEGSIM_DEBUG_ASSERT(n <= kMaxCachedSlices, "a class cache count past its slots (or below zero)");
    count = n;
    published.store(n, std::memory_order_relaxed);
  }
};

struct SegmentCache : tcache::CacheLink {
  using CacheLink::CacheLink;
  std::array<ClassSliceCache, kSizeClassCount> classes;
  std::uint64_t seen_flush_epoch = 0;
  // Bytes of the slices it holds, and the share of the allocator's limit on
  // all caches (thread_caches_max_bytes) it was granted: held <= granted.
  // `held_bytes` is the owner's; `granted_bytes` changes only on slow paths
  // and is read by audit() on other threads.
  std::size_t held_bytes = 0;
  std::atomic<std::size_t> granted_bytes{0};
  tcache::OwnerCounter hits, remote_releases;  // summed by stats(); retired at thread exit
};

// The process's SegmentAllocator ids (its tests skip them forward to the end).
IdCounter& segment_allocator_ids() noexcept;

}  // namespace detail

struct SegmentAllocator::Impl final : tcache::CacheOwner {
  // `id_in`: the allocator's id, taken by create() (id_counter.h).
  Impl(Os& os_in, const SegmentAllocatorConfig& cfg, std::uint32_t id_in);

  // --- the per-class pool (segment_pool.cpp)
  Result<Segment> allocate(std::size_t bytes, bool zero);
  Result<Segment> allocate_from_pool(int size_class, bool zero);
  Status release(const Segment& segment);
  // release() past the thread cache: under the class lock.
  Status release_locked(const Segment& segment);
  // With the class locked: the next free slice of the pool, taken out of it
  // (counted live, marked touched and no longer zero). Its zero flag before.
  struct TakenSlice {
    std::uint32_t region = 0;
    std::uint32_t slice = 0;
    bool zero = false;
  };
  TakenSlice take_slice(int size_class);
  // With the class locked: a free slice (generation 0) back into the pool.
  // True when the class's free count crossed a proactive-cleanup threshold.
  bool return_slice(detail::ClassPool& pool, std::uint32_t region_id, std::uint32_t slice);
  Segment make_handle(int size_class, std::uint32_t region_id, std::uint32_t slice,
                      std::uint32_t generation) const;
  Status reset(const Segment& segment);
  void zero_memory(std::byte* data, std::size_t bytes);
  detail::Region* live_region(const Segment& segment) const;
  Error diagnose(const Segment& segment) const;
  // Before any lock: the refusal of a handle no class pool can check (null,
  // or of a class past the largest). Cold: release and reset test for it inline.
  [[gnu::cold, gnu::noinline]] Error refuse_classless(const Segment& segment) const;
  Error refuse(Error error) const;

  // --- per-thread caches (segment_thread_cache.cpp)
  detail::SegmentCache* cache_for_caller() {
    return caches.for_caller([this](std::uint32_t cache_id) { return new_cache(cache_id); });
  }
  std::shared_ptr<detail::SegmentCache> new_cache(std::uint32_t cache_id);
  // The hit paths (segment_fast_path.h, inline into the public calls): the
  // segment handed out / true when done; a null segment / false when not,
  // and then `end` says what is left: Full (nothing changed: the full path
  // runs) or, under a simulation past the hit's scheduling point, Pool
  // (allocate_from_pool serves the allocation) or Locked (release_locked
  // finishes the release).
  enum class HitEnd : std::uint8_t { Full, Pool, Locked };
  bool quiet() const;
  // The hit paths once the inline ones declined as not quiet() (an observer
  // or a fault controller), from the full paths (segment_thread_cache.cpp):
  // under a simulation they run all the same, telling the observer — so the
  // sweeps' oracles watch them — unless a fault point may fire (the full path
  // asks the controller); elsewhere they decline.
  Segment allocate_hit_observed(int size_class, bool zero, HitEnd& end);
  bool release_hit_observed(const Segment& segment, HitEnd& end);
  Segment allocate_hit(int size_class, bool zero, HitEnd& end);
  bool release_hit(const Segment& segment, HitEnd& end);
  // The hits' common steps (inline), and their simulated forms
  // (segment_thread_cache.cpp, out of line: the production hit path stays a
  // leaf): the fiber's cache by key, the same checks, then the point.
  bool can_hand_out(const detail::SegmentCache& cache, int size_class) const;
  // kTellObserver: the observer hears of the hand-out as on the locked paths (the simulated hit).
  template <bool kTellObserver>
  Segment hand_out_cached(detail::SegmentCache& cache, int size_class, bool zero);
  detail::SliceState* fits_cache(const detail::SegmentCache& cache, const Segment& segment) const;
  void park_released(detail::SegmentCache& cache, const Segment& segment, detail::SliceState& state);
  [[gnu::noinline]] Segment allocate_hit_simulated(platform::Runtime& runtime, int size_class, bool zero,
                                                   HitEnd& end);
  [[gnu::noinline]] bool release_hit_simulated(platform::Runtime& runtime, const Segment& segment, HitEnd& end);
  // The limit on all caches (thread_caches_max_bytes): grant() makes
  // `cache`'s grant cover `held_bytes` bytes (false, grant unchanged, when the
  // limit would be passed); trim_grant() gives back what the grant holds
  // beyond the cache's slices rounded up to kCacheGrantBytes (all of it when
  // the cache is empty).
  bool grant(detail::SegmentCache& cache, std::size_t held_bytes);
  void trim_grant(detail::SegmentCache& cache);
  // A handout from the caller's cache; null when the caller has no cache, or
  // its class cache is empty and the pool cannot refill it (error in `error`).
  bool allocate_cached(int size_class, bool zero, Result<Segment>& out);
  bool refill(detail::SegmentCache& cache, int size_class, Status& status);
  // A release into the caller's cache; false when it must take the locked
  // path (no cache, or a handle that is not plainly live: diagnose there).
  bool release_cached(const Segment& segment);
  bool spill(detail::SegmentCache& cache, int size_class, std::uint32_t n);
  // `start_cleanups`: a spill that crosses a class's threshold starts its
  // proactive cleanup — not when the flush is part of a reclaim, which is
  // about to release (or grow) regions itself.
  void flush_cache(detail::SegmentCache& cache, bool start_cleanups = true);
  void flush_caller_cache();
  // Before regions are reclaimed (free_unused_regions, cleanup, budget): every
  // cache a flush can reach now is emptied — under a simulation every fiber's;
  // in production the caller's, and every other thread flushes its own at its
  // next call (flush_epoch).
  // `start_cleanups` as in flush_cache: growth lets spills start cleanups,
  // a reclaim that releases regions itself does not.
  void flush_caches_for_reclaim(bool start_cleanups = false);
  // Before class `size_class` grows (its pool is empty): the caches' slices of
  // that class back into its pool — under a simulation every fiber's, in
  // production the caller's (and every other thread's whole cache at its next
  // call, as for a reclaim). Other classes' slices cannot serve this class.
  void flush_class_for_growth(int size_class);
  // With the class locked: class `size_class` of `cache` back into the pool.
  bool flush_cache_class(detail::SegmentCache& cache, int size_class);
  void retire_cache(tcache::CacheLink& cache) override;

  // --- regions: growth, reuse, unmapping, address index (segment_regions.cpp)
  Status grow(int size_class, platform::UniqueLock& lock);
  Status reserve_region_budget(int size_class, platform::UniqueLock& lock, bool forced, bool& served);
  void install_region(int size_class, std::byte* base);
  bool reuse_freed_region(detail::ClassPool& pool);
  bool reserve_virtual(std::size_t bytes);
  void unreserve_virtual(std::size_t bytes);
  std::size_t current_virtual_bytes() const;
  // `reached_target` (optional): set when virtual bytes were at most the
  // target at some point of the call (there was room).
  std::size_t free_unused_regions(std::size_t target_virtual_bytes, bool* reached_target = nullptr);
  void detach_for_unmapping(int size_class, int pass, std::size_t excess_bytes,
                            std::vector<std::uint32_t>& detached);
  bool unmap_region(int size_class, std::uint32_t region_id);
  // With the class locked: when `region_id` is a fully free Active region,
  // takes it out of the pool (partial list and free count) into `new_state`.
  // Every path that detaches a region whose slices are all free goes here.
  bool detach_if_all_free(detail::ClassPool& pool, std::uint32_t region_id,
                          detail::RegionState new_state);
  void detach_from_partial(detail::ClassPool& pool, detail::Region& region, std::uint32_t region_id);
  Result<Segment> lookup(const std::byte* address) const;

  // --- proactive cleanup (segment_cleanup.cpp)
  void maybe_start_cleanup(int size_class);
  void run_cleanup(int size_class);
  std::size_t release_unused_regions(int size_class);
  // Regions whose physical memory was dropped, and those whose madvise failed
  // (kept resident, queued all the same).
  struct ReleaseOutcome {
    std::size_t released = 0;
    std::size_t failed = 0;
  };
  ReleaseOutcome release_regions(int size_class);

  // --- stats and audit (segment_audit.cpp)
  AllocatorStats stats() const;
  std::vector<std::string> audit() const;
  void audit_class(int size_class, const std::vector<detail::CachedSlice>& cached,
                   std::vector<std::string>& violations,
                   std::size_t& mapped_regions) const;

  Os& os;
  const SegmentAllocatorConfig config;
  const std::uint32_t id;
  std::array<detail::ClassPool, kSizeClassCount> classes;
  // A class's pool off the hot paths: a class past the table is this
  // allocator's own mistake, named before it reads past the array.
  static std::size_t class_index(int c) {
    SEGSIM_ASSERT(c >= 0 && c < static_cast<int>(kSizeClassCount), "a size class past the table");
    return static_cast<std::size_t>(c);
  }
  detail::ClassPool& pool_of(int c) { return classes[class_index(c)]; }
  const detail::ClassPool& pool_of(int c) const { return classes[class_index(c)]; }

  // Guards the fields below it and serialises RegionTable::append. Lock order:
  // a class's mu may be held when taking regions_mu, never the reverse, and
  // never two classes' mu at once.
  mutable platform::Mutex regions_mu;
  detail::RegionTable table;
  std::map<const std::byte*, std::uint32_t> by_address;  // base of each mapped region → id
  std::size_t virtual_bytes = 0;                         // mapped + reserved for mapping
  std::size_t peak_virtual_bytes = 0;

  mutable detail::Counter regions_mapped, regions_unmapped, regions_released, regions_reused;
  mutable detail::Counter resets_memset, resets_madvise, madvise_failures, map_failures,
      unmap_failures;
  mutable detail::Counter double_frees, invalid_pointers;
  // Thread-cache counters: hits and remote releases live in each cache (no
  // shared write on the fast path); these hold those of retired caches.
  mutable detail::Counter retired_cache_hits, retired_remote_releases, cache_refills, cache_flushes;

  const bool caches_enabled;
  // Caches on and no observer: the production hit paths may run
  // (segment_fast_path.h). Under a simulation they run with an observer too,
  // out of line, telling it as the locked paths do — so the sweeps' oracles
  // watch the hit paths.
  const bool fast_path_enabled;
  mutable tcache::ThreadCaches<detail::SegmentCache> caches;
  std::atomic<std::uint64_t> flush_epoch{0};  // bumped by flush_caches_for_reclaim (production)
  // The limit on the bytes all caches hold (thread_caches_max_bytes), and
  // the sum of the caches' grants under it.
  const std::size_t caches_max_bytes;
  std::atomic<std::size_t> caches_granted_bytes{0};

  // Declared last: destroyed (joined) first, while everything it uses lives.
  platform::AsyncExecutor executor;
};

}  // namespace segsim
