// SlabAllocator internals shared by slab_allocator.cpp (public paths),
// slab_depot.cpp (depot and slab layer), slab_thread_cache.cpp (per-thread
// caches) and slab_audit.cpp (stats and audit). Not part of the API.
#pragma once

#include <array>
#include <atomic>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "core/assert.h"
#include "core/class_table.h"
#include "core/id_counter.h"
#include "core/platform/mutex.h"
#include "core/slab_allocator.h"
#include "core/thread_cache.h"

namespace segsim::slab_detail {

// A free object's place: slab slot and index in the slab.
struct ObjRef {
  std::uint32_t slab = 0;
  std::uint16_t index = 0;
  friend auto operator<=>(const ObjRef&, const ObjRef&) = default;
};

struct Magazine {
  explicit Magazine(std::uint32_t max_capacity) { refs.reserve(max_capacity); }
  std::vector<ObjRef> refs;
  std::uint32_t capacity = 0;  // the class's capacity when the magazine was last exchanged
  // Stands for "no previous magazine": empty and without room (capacity 0),
  // never swapped in, never handed to the depot; replaced (and deleted) when a
  // real magazine becomes the previous one.
  bool placeholder = false;
  bool full() const noexcept { return refs.size() >= capacity; }
};
using MagazinePtr = std::unique_ptr<Magazine>;

// A thread cache's previous magazine is never null: a cache that has none holds
// a placeholder, so every test of the previous magazine reads a real object.
inline MagazinePtr placeholder_magazine() {
  auto magazine = std::make_unique<Magazine>(0);
  magazine->placeholder = true;
  return magazine;
}

using tcache::OwnerCounter;

// A counter any thread bumps (never read to decide anything).
struct SharedCounter {
  std::atomic<std::uint64_t> value{0};
  void bump() noexcept { value.fetch_add(1, std::memory_order_relaxed); }
  std::uint64_t get() const noexcept { return value.load(std::memory_order_relaxed); }
};

// One slab slot. The atomics are read lock-free by free(); everything else is
// guarded by the owning class's depot mutex. A slot is reused for new slabs
// (any class); its record and its generation words live until the allocator
// dies, so a stale handle never reads freed metadata.
struct SlabRecord {
  std::atomic<std::uint32_t> epoch{0};  // odd while the slot holds a slab
  std::atomic<std::byte*> base{nullptr};
  std::atomic<std::int32_t> size_class{-1};
  std::atomic<std::uint32_t> objects{0};
  // Per object: odd while live; +1 on every hand-out and every free, so a
  // stale generation never matches again.
  std::unique_ptr<std::atomic<std::uint32_t>[]> words;
  Segment segment;                      // depot-guarded from here on
  std::vector<std::uint16_t> free_stack;
  bool in_partial = false;
};

// Whether a slot holds a slab now; rec is null for a slot never made.
inline bool holds_slab(const SlabRecord* rec) noexcept {
  return rec != nullptr && (rec->epoch.load() & 1) != 0;
}

// A thread's (fiber's) magazines for one class; touched only by the owner,
// except by flush_all / allocator destruction when nothing runs.
struct ClassCache {
  MagazinePtr loaded;    // never null, never a placeholder
  MagazinePtr previous;  // never null: empty, full, or a placeholder (no previous magazine)
  std::uint64_t ops_since_exchange = 0;
  std::atomic<std::size_t> cached{0};  // loaded + previous sizes, for stats
  OwnerCounter allocations, fast_allocations, frees, fast_frees, remote_frees, requested_bytes;
};

// A thread's magazines; finding, retiring and detaching it is the shared
// per-thread cache mechanism's (core/thread_cache.h).
struct ThreadCache : tcache::CacheLink {
  using CacheLink::CacheLink;
  ClassTable<ClassCache, kSlabClassCount> classes;
};

// A class's depot and slabs, guarded by mu.
struct ClassDepot {
  mutable platform::Mutex mu;
  std::vector<MagazinePtr> full;
  std::vector<MagazinePtr> empty;
  std::vector<std::uint32_t> partial;  // slabs with a free object; serve from the back
  std::size_t slabs = 0;
  std::size_t empty_slabs = 0;
  std::size_t slab_free_objects = 0;
  std::size_t depot_objects = 0;
  std::uint32_t objects_per_slab = 0;
  std::uint32_t min_capacity = 0, max_capacity = 0;
  std::atomic<std::uint32_t> capacity{0};
  std::uint64_t window_exchanges = 0, window_ops = 0;
  SharedCounter exchanges;
};

// Counters of thread caches that are gone (thread exit).
struct RetiredCounters {
  std::uint64_t allocations = 0, fast_allocations = 0, frees = 0, fast_frees = 0, remote_frees = 0,
                requested_bytes = 0;
};

}  // namespace segsim::slab_detail

namespace segsim::detail {
// The process's SlabAllocator ids (its tests skip them forward to the end).
IdCounter& slab_allocator_ids() noexcept;
}  // namespace segsim::detail

namespace segsim {

struct SlabAllocator::Impl final : tcache::CacheOwner {
  // `id_in`: the allocator's id, taken by create() (id_counter.h).
  Impl(SegmentAllocator& segments_in, const SlabAllocatorConfig& cfg, std::uint32_t id_in);

  // ---- slab_thread_cache.cpp ----
  // The caller's cache (a fiber's under a simulation): inline for the fast path.
  slab_detail::ThreadCache* cache_for_caller() {
    return caches.for_caller([this](std::uint32_t cache_id) { return new_cache(cache_id); });
  }
  std::shared_ptr<slab_detail::ThreadCache> new_cache(std::uint32_t cache_id);
  void flush_cache(slab_detail::ThreadCache& cache);
  void retire_cache(tcache::CacheLink& cache) override;

  // ---- slab_depot.cpp (callers hold depot.mu unless noted) ----
  platform::UniqueLock begin_exchange(int c, slab_detail::ClassCache& cc);  // takes depot.mu
  Status refill(int c, slab_detail::ClassCache& cc);       // takes depot.mu
  void exchange_full(int c, slab_detail::ClassCache& cc);  // takes depot.mu
  Status fill_from_slabs(int c, slab_detail::Magazine& magazine);
  void return_to_slab(int c, slab_detail::ObjRef ref);
  void drain_magazine(int c, slab_detail::Magazine& magazine);
  Status acquire_slab(int c);
  void release_slab(int c, std::uint32_t slab);
  void adapt_capacity(int c, std::uint64_t ops);
  slab_detail::MagazinePtr take_empty_magazine(int c);
  std::size_t release_empty_slabs(int c);                  // takes depot.mu
  Result<slab_detail::ObjRef> allocate_uncached(int c);    // takes depot.mu
  void free_uncached(int c, slab_detail::ObjRef ref);      // takes depot.mu

  // ---- slab_allocator.cpp ----
  SlabObject hand_out(int c, slab_detail::ObjRef ref, std::uint32_t cache_id);
  Status claim(const SlabObject& object);  // the lock-free validity check + generation CAS
  Error refuse(Error error) const;
  slab_detail::SlabRecord* record(std::uint32_t slab) const noexcept {
    return slab < config.max_slabs ? records[slab].load(std::memory_order_acquire) : nullptr;
  }
  // The record of a slot the depot or an index names: one must exist (a slot
  // number past those handed out is a bug, not a caller's bad handle).
  slab_detail::SlabRecord& record_at(std::uint32_t slab) const {
    slab_detail::SlabRecord* rec = record(slab);
    SEGSIM_ASSERT(rec != nullptr, "a slab slot named by the depot or the address index has no record");
    return *rec;
  }

  SegmentAllocator& segments;
  const SlabAllocatorConfig config;
  const std::uint32_t id;
  std::uint32_t max_objects_per_slab = 0;
  ClassTable<slab_detail::ClassDepot, kSlabClassCount> depots;

  // Slab slots. Lock order: a depot's mu, then slots_mu; never two depots.
  mutable platform::Mutex slots_mu;
  std::unique_ptr<std::atomic<slab_detail::SlabRecord*>[]> records;
  std::vector<std::unique_ptr<slab_detail::SlabRecord>> owned_records;
  std::vector<std::uint32_t> free_slots;
  std::uint32_t next_slot = 0;
  std::map<const std::byte*, std::uint32_t> by_base;  // slab base → slot (lookups only)

  // Thread caches. Lock order: a cache's exit_mu, then the registry's mutex
  // (which also guards `retired`), then a depot's mu.
  mutable tcache::ThreadCaches<slab_detail::ThreadCache> caches{id};
  ClassTable<slab_detail::RetiredCounters, kSlabClassCount> retired{};

  slab_detail::SharedCounter slabs_acquired, slabs_released, slab_failures, double_frees, invalid_pointers;
};

}  // namespace segsim
