#include "core/segment_allocator.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <deque>
#include <map>

#include <fmt/format.h>

#include "core/asan.h"
#include "core/assert.h"
#include "core/fault_point.h"
#include "core/mutants.h"
#include "core/probe.h"
#include "core/platform/async_executor.h"
#include "core/platform/atomic.h"
#include "core/platform/clock.h"
#include "core/platform/mutex.h"
#include "core/region.h"

namespace segsim {

using detail::Region;
using detail::RegionState;
using detail::RegionTable;

namespace {

// Hard limits on what a configuration may ask for (put a limit on everything).
// Slice indexes are 16-bit in a Segment: 128 MiB / 4 KiB = 32768 slices.
constexpr std::size_t kMaxRegionBytes = std::size_t{128} << 20;
static_assert(kMaxRegionBytes / kSmallestClassBytes <= UINT16_MAX + 1);
// Allocator identities, carried by every handle; 0 is never issued.
std::atomic<std::uint32_t> g_next_allocator_id{1};
constexpr std::size_t kMaxRegionSlots = std::size_t{1} << 22;
// How often growth over budget frees regions again after another thread took
// the budget it had freed, before it refuses.
constexpr int kMaxBudgetRetries = 64;
// How many times a firing "alloc.cleanup.delay" may yield before the cleanup runs.
constexpr int kMaxCleanupDelayYields = 8;

// A statistics counter. Counters are never read to make a decision, so they
// are plain relaxed atomics rather than platform::Atomic scheduling points.
struct Counter {
  std::atomic<std::uint64_t> value{0};
  void bump() noexcept { value.fetch_add(1, std::memory_order_relaxed); }
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
  std::uint32_t next_generation = 1;
  platform::Atomic<bool> cleanup_in_progress{false};
  Counter cleanups_started, cleanups_finished, cleanups_refused;
};

}  // namespace

struct SegmentAllocator::Impl {
  Impl(Os& os_in, const SegmentAllocatorConfig& cfg)
      : os(os_in),
        config(cfg),
        id(g_next_allocator_id.fetch_add(1, std::memory_order_relaxed)),
        table(static_cast<std::uint32_t>(kSizeClassCount * (cfg.budget_bytes / cfg.region_bytes))),
        executor(platform::AsyncExecutorConfig{1, cfg.cleanup_queue_capacity}) {
    for (std::size_t c = 0; c < kSizeClassCount; ++c) classes[c].slice_bytes = class_bytes(c);
  }

  Result<Segment> allocate(std::size_t bytes, bool zero);
  Status grow(int size_class, platform::UniqueLock& lock);
  bool reuse_freed_region(ClassPool& pool);
  bool reserve_virtual(std::size_t bytes);
  void unreserve_virtual(std::size_t bytes);
  Region* live_region(const Segment& segment) const;
  Error diagnose(const Segment& segment) const;
  Error refuse(Error error) const;
  Status release(const Segment& segment);
  Status reset(const Segment& segment);
  void zero_memory(std::byte* data, std::size_t bytes);
  void maybe_start_cleanup(int size_class);
  void run_cleanup(int size_class);
  std::size_t release_unused_regions(int size_class);
  std::size_t release_unused_regions_racy(int size_class);  // the cleanup-race mutant
  // `reached_target` (optional): set when virtual bytes were at most the
  // target at some point of the call (there was room).
  std::size_t free_unused_regions(std::size_t target_virtual_bytes, bool* reached_target = nullptr);
  bool unmap_region(int size_class, std::uint32_t region_id);
  void detach_from_partial(ClassPool& pool, Region& region, std::uint32_t region_id);
  std::size_t current_virtual_bytes() const;
  void audit_class(int size_class, std::vector<std::string>& violations,
                   std::size_t& mapped_regions) const;

  Os& os;
  const SegmentAllocatorConfig config;
  const std::uint32_t id;
  std::array<ClassPool, kSizeClassCount> classes;

  // Guards the fields below it and serialises RegionTable::append. Lock order:
  // a class's mu may be held when taking regions_mu, never the reverse, and
  // never two classes' mu at once.
  mutable platform::Mutex regions_mu;
  RegionTable table;
  std::map<const std::byte*, std::uint32_t> by_address;  // base of each mapped region → id
  std::size_t virtual_bytes = 0;                         // mapped + reserved for mapping
  std::size_t peak_virtual_bytes = 0;

  mutable Counter regions_mapped, regions_unmapped, regions_released, regions_reused;
  mutable Counter resets_memset, resets_madvise, madvise_failures, map_failures, unmap_failures;
  mutable Counter double_frees, invalid_pointers;

  // Declared last: destroyed (joined) first, while everything it uses lives.
  platform::AsyncExecutor executor;
};

// ---------------------------------------------------------------------------
// allocate

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
  SEGSIM_ASSERT(!pool.partial.empty(), "grow left no free slice");
  const std::uint32_t region_id = pool.partial.back();
  Region& region = table.at(region_id);
  SEGSIM_ASSERT(region.state == RegionState::Active && region.size_class == c,
                "partial list holds a region that cannot serve");
  const std::uint32_t slice = region.pop_free();
  if (region.free_count() == 0) {
    SEGSIM_PROBE("alloc.region.filled");
    pool.partial.pop_back();
    region.in_partial_list = false;
  }
  detail::SliceState& state = region.slice(slice);
  SEGSIM_ASSERT(state.generation == 0, "free stack held a live slice");
  state.generation = pool.next_generation++;
  if (pool.next_generation == 0) pool.next_generation = 1;  // 0 means free
  if (zero && state.zero) SEGSIM_PROBE("alloc.zero.fresh_slice_skipped");
  const bool needs_zero = zero && !state.zero;
  state.zero = false;
  if (!state.touched) {
    state.touched = true;
    region.note_touched();
    ++pool.touched_slices;
  }
  ++pool.live_slices;
  --pool.free_slices;
  std::byte* data = region.slice_data(slice);
  const Segment segment(data, id, state.generation, region_id, slice, static_cast<std::uint8_t>(c));
  if (config.observer != nullptr) config.observer->handing_out(segment);
  lock.unlock();

  asan::unpoison(data, pool.slice_bytes);
  if (needs_zero) zero_memory(data, pool.slice_bytes);
  if (config.observer != nullptr) config.observer->handed_out(segment, zero);
  return segment;
}

bool SegmentAllocator::Impl::reuse_freed_region(ClassPool& pool) {
  if (pool.freed_queue.empty() || SEGSIM_MUTANT(BudgetOnlyFreeing)) return false;
  const std::uint32_t region_id = pool.freed_queue.front();
  pool.freed_queue.pop_front();
  Region& region = table.at(region_id);
  SEGSIM_ASSERT(region.state == RegionState::Freed && region.all_free(), "bad freed region");
  region.state = RegionState::Active;
  region.in_partial_list = true;
  pool.partial.push_back(region_id);
  pool.free_slices += region.slice_count();
  SEGSIM_PROBE("alloc.grow.reused_freed_region");
  regions_reused.bump();
  return true;
}

bool SegmentAllocator::Impl::reserve_virtual(std::size_t bytes) {
  platform::LockGuard guard(regions_mu);
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

// Called with `lock` holding the class's mutex; returns holding it. On
// success the class has a free slice in an Active region.
Status SegmentAllocator::Impl::grow(int c, platform::UniqueLock& lock) {
  ClassPool& pool = classes[c];
  const std::size_t region_bytes = config.region_bytes;
  if (SEGSIM_FAULT_POINT("alloc.freed_queue.skip")) {
    SEGSIM_PROBE("alloc.grow.freed_queue_skipped");
  } else if (reuse_freed_region(pool)) {
    return {};
  }

  // Over budget: unmap fully-returned regions of any class. That locks other
  // classes one at a time, so this class's lock is dropped meanwhile — and
  // another thread may take the budget just freed (or already free). Try
  // again while there was room or something was freed: OutOfBudget means no
  // region could be freed and no room was left.
  for (int attempt = 0; !reserve_virtual(region_bytes); ++attempt) {
    SEGSIM_PROBE("alloc.grow.over_budget");
    if (attempt > 0) SEGSIM_PROBE("alloc.grow.over_budget_retried");
    const std::size_t target = config.budget_bytes - region_bytes;
    bool room = false;
    lock.unlock();
    const std::size_t unmapped = free_unused_regions(target, &room);
    lock.lock();
    if (!pool.partial.empty()) {  // another thread grew this class meanwhile
      SEGSIM_PROBE("alloc.grow.grown_meanwhile");
      return {};
    }
    if (reuse_freed_region(pool)) {
      SEGSIM_PROBE("alloc.grow.reused_after_budget");
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

  OsResult<std::byte*> mapped = os.map(region_bytes);
  if (!mapped.ok()) {
    SEGSIM_PROBE("alloc.grow.map_failed");
    unreserve_virtual(region_bytes);
    map_failures.bump();
    Error error = make_error(Errc::OutOfMemory, "mmap of a new region failed");
    error.os_errno = mapped.error().errno_value;
    error.size_class = static_cast<std::int16_t>(c);
    return error;
  }
  std::byte* base = mapped.value();

  std::uint32_t region_id;
  if (!pool.unused_slots.empty()) {
    region_id = pool.unused_slots.back();
    SEGSIM_PROBE("alloc.grow.reused_region_slot");
    pool.unused_slots.pop_back();
  } else {
    platform::LockGuard guard(regions_mu);
    region_id = table.append(c, pool.slice_bytes, region_bytes);
    // Each class owns at most budget/region slots at once and reuses its own.
    SEGSIM_ASSERT(region_id != UINT32_MAX, "region table full");
    pool.regions.push_back(region_id);
  }
  Region& region = table.at(region_id);
  region.install(base);
  asan::poison(base, region_bytes);  // every slice is free
  {
    platform::LockGuard guard(regions_mu);
    by_address[base] = region_id;
  }
  regions_mapped.bump();
  region.in_partial_list = true;
  pool.partial.push_back(region_id);
  pool.free_slices += region.slice_count();
  return {};
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
      region->slice(segment.slice_index()).generation != segment.generation()) {
    return nullptr;
  }
  return region;
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
  const std::uint32_t live = region->slice(segment.slice_index()).generation;
  SEGSIM_ASSERT(live != segment.generation(), "diagnose of a live handle");
  error.live_generation = live;
  SEGSIM_PROBE("release.refused.double_free");
  return fail(Errc::DoubleFree, live == 0 ? "slice is free" : "slice was reallocated since");
}

Status SegmentAllocator::Impl::release(const Segment& segment) {
  if (segment.is_null() || segment.size_class() >= static_cast<int>(kSizeClassCount)) {
    SEGSIM_PROBE("release.refused.null");
    return refuse(make_error(Errc::InvalidPointer, "null segment"));
  }
  const int c = segment.size_class();
  ClassPool& pool = classes[c];
  bool start_cleanup = false;
  {
    platform::LockGuard guard(pool.mu);
    Region* located = live_region(segment);
    if (located == nullptr) return diagnose(segment);
    Region& region = *located;
    SEGSIM_ASSERT(region.state == RegionState::Active, "live slice in an inactive region");
    region.slice(segment.slice_index()).generation = 0;
    region.push_free(segment.slice_index());
    if (!region.in_partial_list) {
      SEGSIM_PROBE("release.region_back_in_partial");
      region.in_partial_list = true;
      pool.partial.push_back(segment.region_id());
    }
    --pool.live_slices;
    ++pool.free_slices;
    if (config.observer != nullptr) config.observer->released(segment);
    // Poisoned before the slice can be handed out again (under the lock).
    asan::poison(segment.data(), pool.slice_bytes);
    const std::size_t start = config.cleanup_start_free_slices;
    start_cleanup = config.proactive_cleanup && pool.free_slices > start &&
                    (pool.free_slices - start) % config.cleanup_every_free_slices == 0;
  }
  if (start_cleanup) {  // off the lock: never blocks the release path
    SEGSIM_PROBE("release.cleanup_threshold");
    maybe_start_cleanup(c);
  }
  return {};
}

Status SegmentAllocator::Impl::reset(const Segment& segment) {
  if (segment.is_null() || segment.size_class() >= static_cast<int>(kSizeClassCount)) {
    SEGSIM_PROBE("release.refused.null");
    return refuse(make_error(Errc::InvalidPointer, "null segment"));
  }
  const ClassPool& pool = classes[segment.size_class()];
  {
    platform::LockGuard guard(pool.mu);
    if (live_region(segment) == nullptr) return diagnose(segment);
  }
  SEGSIM_PROBE("reset.zeroed");
  zero_memory(segment.data(), segment.size());
  return {};
}

void SegmentAllocator::Impl::zero_memory(std::byte* data, std::size_t bytes) {
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

// ---------------------------------------------------------------------------
// proactive cleanup (seed 002)

void SegmentAllocator::Impl::maybe_start_cleanup(int c) {
  if (SEGSIM_MUTANT(BudgetOnlyFreeing)) return;  // regions freed only under budget pressure
  ClassPool& pool = classes[c];
  bool idle = false;
  if (!pool.cleanup_in_progress.compare_exchange_strong(idle, true)) {  // one per class
    SEGSIM_PROBE("cleanup.already_running");
    return;
  }
  if (executor.try_spawn([this, c] { run_cleanup(c); })) {
    SEGSIM_PROBE("cleanup.started");
    pool.cleanups_started.bump();
  } else {
    pool.cleanup_in_progress.store(false);
    SEGSIM_PROBE("cleanup.queue_full");
    pool.cleanups_refused.bump();
  }
}

void SegmentAllocator::Impl::run_cleanup(int c) {
  ClassPool& pool = classes[c];
  // The guard is cleared however the cleanup ends.
  struct GuardReset {
    platform::Atomic<bool>& guard;
    bool armed = true;
    ~GuardReset() {
      if (armed) guard.store(false);
    }
  } guard_reset{pool.cleanup_in_progress};
  for (int i = 0; i < kMaxCleanupDelayYields && SEGSIM_FAULT_POINT("alloc.cleanup.delay"); ++i) {
    SEGSIM_PROBE("cleanup.delayed");
    platform::yield();
  }
  const std::uint64_t failures_before = madvise_failures.get();
  release_unused_regions(c);
  // The historical cleanup cleared its guard only when it succeeded.
  if (SEGSIM_MUTANT(CleanupGuardStuck) && madvise_failures.get() != failures_before) guard_reset.armed = false;
  pool.cleanups_finished.bump();
}

void SegmentAllocator::Impl::detach_from_partial(ClassPool& pool, Region& region,
                                                 std::uint32_t region_id) {
  if (!region.in_partial_list) return;
  auto it = std::find(pool.partial.begin(), pool.partial.end(), region_id);
  SEGSIM_ASSERT(it != pool.partial.end(), "partial flag without list entry");
  pool.partial.erase(it);
  region.in_partial_list = false;
}

std::size_t SegmentAllocator::Impl::release_unused_regions(int c) {
  SEGSIM_ASSERT(c >= 0 && c < static_cast<int>(kSizeClassCount), "bad size class");
  ClassPool& pool = classes[c];
  if (SEGSIM_MUTANT(CleanupRace)) return release_unused_regions_racy(c);
  std::vector<std::uint32_t> detached;
  {
    platform::LockGuard guard(pool.mu);
    for (std::uint32_t region_id : pool.regions) {
      Region& region = table.at(region_id);
      if (region.state != RegionState::Active || !region.all_free()) continue;
      // Detached under the lock: no allocation can take a slice while madvise runs.
      detach_from_partial(pool, region, region_id);
      region.state = RegionState::Releasing;
      pool.free_slices -= region.slice_count();
      detached.push_back(region_id);
    }
  }
  std::size_t released = 0;
  for (std::uint32_t region_id : detached) {
    Region& region = table.at(region_id);
    const bool dropped = region.release_physical(os).ok();
    platform::LockGuard guard(pool.mu);
    if (dropped) {
      pool.touched_slices -= region.touched_count();
      SEGSIM_PROBE("cleanup.region_released");
      region.mark_physical_released();
      regions_released.bump();
      ++released;
    } else {
      SEGSIM_PROBE("cleanup.madvise_failed");
      // Kept resident; its slices keep their real zero/dirty state.
      madvise_failures.bump();
    }
    region.state = RegionState::Freed;
    pool.freed_queue.push_back(region_id);
  }
  return released;
}

// The cleanup-race mutant (seed 002's first version): "all slices returned"
// is checked under the lock, but the region stays allocatable while its
// physical memory is dropped, and is queued afterwards whatever happened.
std::size_t SegmentAllocator::Impl::release_unused_regions_racy(int c) {
  ClassPool& pool = classes[c];
  std::vector<std::uint32_t> candidates;
  {
    platform::LockGuard guard(pool.mu);
    for (std::uint32_t region_id : pool.regions) {
      const Region& region = table.at(region_id);
      if (region.state == RegionState::Active && region.all_free()) candidates.push_back(region_id);
    }
  }
  std::size_t released = 0;
  for (std::uint32_t region_id : candidates) {
    platform::yield();  // the window: allocations may take slices of the region now
    Region& region = table.at(region_id);
    const bool dropped = region.release_physical(os).ok();
    platform::LockGuard guard(pool.mu);
    if (region.state != RegionState::Active) continue;
    detach_from_partial(pool, region, region_id);
    pool.free_slices -= region.free_count();
    if (dropped) {
      regions_released.bump();
      ++released;
    }
    region.state = RegionState::Freed;
    pool.freed_queue.push_back(region_id);
  }
  return released;
}

// ---------------------------------------------------------------------------
// budget: unmapping fully-returned regions

std::size_t SegmentAllocator::Impl::current_virtual_bytes() const {
  platform::LockGuard guard(regions_mu);
  return virtual_bytes;
}

bool SegmentAllocator::Impl::unmap_region(int c, std::uint32_t region_id) {
  ClassPool& pool = classes[c];
  Region& region = table.at(region_id);
  SEGSIM_ASSERT(region.state == RegionState::Unmapping, "unmap of an attached region");
  std::byte* base = region.base();
  // Shadow memory outlives a mapping: clear it so the next user of these
  // addresses does not inherit our poison.
  asan::unpoison(base, region.bytes());
  const bool unmapped = os.unmap(base, region.bytes()).ok();
  platform::LockGuard guard(pool.mu);
  if (!unmapped) {
    SEGSIM_PROBE("unmap.failed");
    asan::poison(base, region.bytes());
    unmap_failures.bump();
    region.state = RegionState::Freed;  // still mapped; reusable
    pool.freed_queue.push_back(region_id);
    return false;
  }
  pool.touched_slices -= region.touched_count();
  region.uninstall();
  pool.unused_slots.push_back(region_id);
  {
    platform::LockGuard regions_guard(regions_mu);
    by_address.erase(base);
    SEGSIM_ASSERT(virtual_bytes >= region.bytes(), "virtual bytes underflow");
    virtual_bytes -= region.bytes();
  }
  regions_unmapped.bump();
  return true;
}

std::size_t SegmentAllocator::Impl::free_unused_regions(std::size_t target_virtual_bytes, bool* reached_target) {
  std::size_t unmapped = 0;
  // Pass 0 takes regions whose physical memory is already released (cheapest
  // to lose), pass 1 fully-returned active regions.
  for (int pass = 0; pass < 2; ++pass) {
    for (int c = 0; c < static_cast<int>(kSizeClassCount); ++c) {
      const std::size_t now = current_virtual_bytes();
      if (now <= target_virtual_bytes) {
        if (reached_target != nullptr) *reached_target = true;
        return unmapped;
      }
      std::size_t excess = now - target_virtual_bytes;
      ClassPool& pool = classes[c];
      std::vector<std::uint32_t> detached;
      {
        platform::LockGuard guard(pool.mu);
        if (pass == 0) {
          while (!pool.freed_queue.empty() && excess > 0) {
            const std::uint32_t region_id = pool.freed_queue.front();
            pool.freed_queue.pop_front();
            SEGSIM_PROBE("free_unused.freed_region");
            table.at(region_id).state = RegionState::Unmapping;
            detached.push_back(region_id);
            excess -= std::min(excess, config.region_bytes);
          }
        } else {
          for (std::uint32_t region_id : pool.regions) {
            if (excess == 0) break;
            Region& region = table.at(region_id);
            if (region.state != RegionState::Active || !region.all_free()) continue;
            detach_from_partial(pool, region, region_id);
            SEGSIM_PROBE("free_unused.active_region");
            region.state = RegionState::Unmapping;
            pool.free_slices -= region.slice_count();
            detached.push_back(region_id);
            excess -= std::min(excess, config.region_bytes);
          }
        }
      }
      for (std::uint32_t region_id : detached) {
        if (unmap_region(c, region_id)) ++unmapped;
      }
    }
  }
  return unmapped;
}

// ---------------------------------------------------------------------------
// audit

void SegmentAllocator::Impl::audit_class(int c, std::vector<std::string>& violations,
                                         std::size_t& mapped_regions) const {
  const ClassPool& pool = classes[c];
  platform::LockGuard guard(pool.mu);
  auto violation = [&](std::string text) {
    violations.push_back(fmt::format("class {} KiB: {}", pool.slice_bytes / 1024, text));
  };
  std::size_t live = 0, free = 0, touched = 0, freed = 0, unused = 0, partial = 0;
  for (std::uint32_t region_id : pool.regions) {
    const Region& region = table.at(region_id);
    if (region.size_class != c) violation(fmt::format("region #{} has class {}", region_id, region.size_class));
    if (region.state == RegionState::Unused) {
      ++unused;
      continue;
    }
    ++mapped_regions;
    touched += region.touched_count();
    if (region.state == RegionState::Releasing || region.state == RegionState::Unmapping) {
      violation(fmt::format("region #{} is detached at quiescence", region_id));
      continue;
    }
    std::uint32_t free_in_states = 0, touched_in_states = 0;
    for (std::uint32_t i = 0; i < region.slice_count(); ++i) {
      free_in_states += region.slice(i).generation == 0 ? 1 : 0;
      touched_in_states += region.slice(i).touched ? 1 : 0;
    }
    if (free_in_states != region.free_count() || region.free_stack().size() != region.free_count()) {
      violation(fmt::format("region #{}: {} free slices by state, free count {}, stack {}", region_id,
                            free_in_states, region.free_count(), region.free_stack().size()));
    }
    if (touched_in_states != region.touched_count()) {
      violation(fmt::format("region #{}: touched count {} != {}", region_id, region.touched_count(),
                            touched_in_states));
    }
    std::vector<bool> seen(region.slice_count(), false);
    for (std::uint32_t slice : region.free_stack()) {
      if (slice >= region.slice_count() || seen[slice] || region.slice(slice).generation != 0) {
        violation(fmt::format("region #{}: bad free-stack entry {}", region_id, slice));
        break;
      }
      seen[slice] = true;
    }
    if (region.state == RegionState::Freed) {
      ++freed;
      if (!region.all_free()) violation(fmt::format("freed region #{} has live slices", region_id));
    } else {
      live += region.slice_count() - region.free_count();
      free += region.free_count();
      if (region.in_partial_list != (region.free_count() > 0)) {
        violation(fmt::format("region #{}: partial flag {} with {} free", region_id,
                              region.in_partial_list, region.free_count()));
      }
      partial += region.in_partial_list ? 1 : 0;
    }
  }
  if (live != pool.live_slices) violation(fmt::format("live count {} != {} in regions", pool.live_slices, live));
  if (free != pool.free_slices) violation(fmt::format("free count {} != {} in regions", pool.free_slices, free));
  if (touched != pool.touched_slices) violation(fmt::format("touched count {} != {}", pool.touched_slices, touched));
  if (freed != pool.freed_queue.size()) violation(fmt::format("freed queue {} != {} freed regions", pool.freed_queue.size(), freed));
  if (unused != pool.unused_slots.size()) violation(fmt::format("unused slots {} != {}", pool.unused_slots.size(), unused));
  if (partial != pool.partial.size()) violation(fmt::format("partial list {} != {} flagged", pool.partial.size(), partial));
  // At quiescence no cleanup runs, so its guard must be clear (seed 002: a
  // guard left set stops every later cleanup of the class).
  if (pool.cleanup_in_progress.load()) violation("cleanup guard still set with no cleanup running");
}

// ---------------------------------------------------------------------------
// SegmentAllocator

Result<std::unique_ptr<SegmentAllocator>> SegmentAllocator::create(Os& os,
                                                                   SegmentAllocatorConfig config) {
  auto invalid = [](const char* field) { return make_error(Errc::InvalidConfig, field); };
  const std::size_t page = os.page_size();
  if (config.region_bytes < kLargestClassBytes || config.region_bytes % kLargestClassBytes != 0 ||
      config.region_bytes % page != 0 || config.region_bytes > kMaxRegionBytes) {
    return invalid("region_bytes must be a multiple of 256 KiB and of the page size, at most 128 MiB");
  }
  if (config.budget_bytes < config.region_bytes || config.budget_bytes % config.region_bytes != 0) {
    return invalid("budget_bytes must be a positive multiple of region_bytes");
  }
  if (kSizeClassCount * (config.budget_bytes / config.region_bytes) > kMaxRegionSlots) {
    return invalid("budget_bytes / region_bytes is too large (at most 4M region slots)");
  }
  if (config.cleanup_every_free_slices == 0) return invalid("cleanup_every_free_slices must be > 0");
  if (config.cleanup_queue_capacity == 0) return invalid("cleanup_queue_capacity must be > 0");
  if (config.reset_madvise_min_bytes != SIZE_MAX && config.reset_madvise_min_bytes % page != 0) {
    return invalid("reset_madvise_min_bytes must be a multiple of the page size");
  }
  return std::unique_ptr<SegmentAllocator>(
      new SegmentAllocator(std::make_unique<Impl>(os, config)));
}

SegmentAllocator::SegmentAllocator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SegmentAllocator::~SegmentAllocator() {
  impl_->executor.shutdown();
  for (std::uint32_t id = 0; id < impl_->table.size(); ++id) {
    Region& region = impl_->table.at(id);
    if (!region.mapped()) continue;
    asan::unpoison(region.base(), region.bytes());
    // Nothing to hand an error to in a destructor: the mapping is leaked, counted.
    if (!impl_->os.unmap(region.base(), region.bytes()).ok()) impl_->unmap_failures.bump();
  }
}

Result<Segment> SegmentAllocator::allocate(std::size_t bytes) {
  return after_allocate(true, bytes, impl_->allocate(bytes, true));
}
Result<Segment> SegmentAllocator::allocate_uninitialized(std::size_t bytes) {
  return after_allocate(false, bytes, impl_->allocate(bytes, false));
}
Status SegmentAllocator::release(const Segment& segment) {
  return after_release("release", segment, impl_->release(segment));
}
Status SegmentAllocator::reset(const Segment& segment) { return after_release("reset", segment, impl_->reset(segment)); }

Result<Segment> SegmentAllocator::lookup(const std::byte* address) const {
  Error error = make_error(Errc::InvalidPointer, "not inside any region of this allocator");
  error.address = reinterpret_cast<std::uintptr_t>(address);
  std::uint32_t region_id;
  const std::byte* base;
  {
    platform::LockGuard guard(impl_->regions_mu);
    auto it = impl_->by_address.upper_bound(address);
    if (it == impl_->by_address.begin()) {
      SEGSIM_PROBE("lookup.refused.outside");
      return impl_->refuse(error);
    }
    --it;
    if (address >= it->first + impl_->config.region_bytes) {
      SEGSIM_PROBE("lookup.refused.outside");
      return impl_->refuse(error);
    }
    base = it->first;
    region_id = it->second;
  }
  Region& region = impl_->table.at(region_id);
  const ClassPool& pool = impl_->classes[region.size_class];
  platform::LockGuard guard(pool.mu);
  error.size_class = static_cast<std::int16_t>(region.size_class);
  if (region.base() != base) {  // unmapped meanwhile
    SEGSIM_PROBE("lookup.refused.unmapped_meanwhile");
    return impl_->refuse(error);
  }
  const std::int64_t slice = region.slice_of(address);
  if (slice < 0) {
    SEGSIM_PROBE("lookup.refused.inside_slice");
    error.detail = "points inside a slice, not at its start";
    return impl_->refuse(error);
  }
  const std::uint32_t generation = region.slice(static_cast<std::uint32_t>(slice)).generation;
  if (generation == 0) {
    SEGSIM_PROBE("lookup.refused.free_slice");
    error.code = Errc::DoubleFree;
    error.detail = "slice is free";
    return impl_->refuse(error);
  }
  SEGSIM_PROBE("lookup.found");
  return Segment(const_cast<std::byte*>(address), impl_->id, generation, region_id,
                 static_cast<std::uint32_t>(slice), static_cast<std::uint8_t>(region.size_class));
}

std::size_t SegmentAllocator::free_unused_regions(std::size_t target_virtual_bytes) {
  return impl_->free_unused_regions(target_virtual_bytes);
}

std::size_t SegmentAllocator::release_unused_regions(int size_class) {
  return impl_->release_unused_regions(size_class);
}

void SegmentAllocator::wait_for_cleanups() { impl_->executor.wait_idle(); }

AllocatorStats SegmentAllocator::stats() const {
  const Impl& im = *impl_;
  AllocatorStats s;
  s.budget_bytes = im.config.budget_bytes;
  s.region_bytes = im.config.region_bytes;
  for (std::size_t c = 0; c < kSizeClassCount; ++c) {
    const ClassPool& pool = im.classes[c];
    SizeClassStats& out = s.classes[c];
    platform::LockGuard guard(pool.mu);
    out.slice_bytes = pool.slice_bytes;
    out.live_slices = pool.live_slices;
    out.free_slices = pool.free_slices;
    out.freed_regions = pool.freed_queue.size();
    for (std::uint32_t region_id : pool.regions) {
      RegionState state = im.table.at(region_id).state;
      out.active_regions += state == RegionState::Active ? 1 : 0;
    }
    out.cleanups_started = pool.cleanups_started.get();
    out.cleanups_finished = pool.cleanups_finished.get();
    out.cleanups_refused = pool.cleanups_refused.get();
    s.resident_estimate_bytes += pool.touched_slices * pool.slice_bytes;
  }
  {
    platform::LockGuard guard(im.regions_mu);
    s.virtual_bytes = im.virtual_bytes;
    s.peak_virtual_bytes = im.peak_virtual_bytes;
  }
  s.regions_mapped = im.regions_mapped.get();
  s.regions_unmapped = im.regions_unmapped.get();
  s.regions_released = im.regions_released.get();
  s.regions_reused = im.regions_reused.get();
  s.resets_memset = im.resets_memset.get();
  s.resets_madvise = im.resets_madvise.get();
  s.madvise_failures = im.madvise_failures.get();
  s.map_failures = im.map_failures.get();
  s.unmap_failures = im.unmap_failures.get();
  s.double_frees = im.double_frees.get();
  s.invalid_pointers = im.invalid_pointers.get();
  return s;
}

std::vector<std::string> SegmentAllocator::audit() const {
  std::vector<std::string> violations;
  std::size_t mapped_regions = 0;
  for (int c = 0; c < static_cast<int>(kSizeClassCount); ++c) {
    impl_->audit_class(c, violations, mapped_regions);
  }
  platform::LockGuard guard(impl_->regions_mu);
  const std::size_t expected_virtual = mapped_regions * impl_->config.region_bytes;
  if (impl_->virtual_bytes != expected_virtual) {
    violations.push_back(fmt::format("virtual bytes {} != {} mapped regions x {}",
                                     impl_->virtual_bytes, mapped_regions,
                                     impl_->config.region_bytes));
  }
  if (impl_->virtual_bytes > impl_->config.budget_bytes) {
    violations.push_back(fmt::format("virtual bytes {} over budget {}", impl_->virtual_bytes,
                                     impl_->config.budget_bytes));
  }
  if (impl_->by_address.size() != mapped_regions) {
    violations.push_back(fmt::format("address index has {} regions, {} mapped",
                                     impl_->by_address.size(), mapped_regions));
  }
  for (const auto& [base, region_id] : impl_->by_address) {
    if (impl_->table.at(region_id).base() != base) {
      violations.push_back(fmt::format("address index entry for region #{} is stale", region_id));
    }
  }
  return violations;
}

const SegmentAllocatorConfig& SegmentAllocator::config() const noexcept { return impl_->config; }
Os& SegmentAllocator::os() const noexcept { return impl_->os; }

}  // namespace segsim
