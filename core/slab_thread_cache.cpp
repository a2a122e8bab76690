// SlabAllocator's per-thread caches: making one, flushing, thread exit, and
// detaching every cache when the allocator dies. Which cache serves the
// caller (a thread_local table in production, the runtime's thread_key()
// under a simulation) is the shared mechanism of core/thread_cache.h; a fiber
// flushes with flush_thread_cache().
#include "core/assert.h"
#include "core/fault_point.h"
#include "core/flight_recorder.h"
#include "core/mutants.h"
#include "core/probe.h"
#include "core/slab_internal.h"

namespace segsim {

using slab_detail::ClassCache;
using slab_detail::ClassDepot;
using slab_detail::Magazine;
using slab_detail::ThreadCache;

std::shared_ptr<ThreadCache> SlabAllocator::Impl::new_cache(std::uint32_t cache_id) {
  if (platform::current_runtime() != nullptr) SEGSIM_PROBE("slab.cache.new_fiber");
  auto cache = std::make_shared<ThreadCache>(this, id, cache_id);
  for (std::size_t c = 0; c < kSlabClassCount; ++c) {
    cache->classes[c].loaded = std::make_unique<Magazine>(depots[c].max_capacity);
    cache->classes[c].loaded->capacity = depots[c].capacity.load(std::memory_order_relaxed);
    cache->classes[c].previous = slab_detail::placeholder_magazine();
  }
  return cache;
}

// Both magazines of every class go to the depot (non-empty ones as full
// magazines, drained to the slabs beyond the depot's limit).
void SlabAllocator::Impl::flush_cache(ThreadCache& cache) {
  for (std::size_t ci = 0; ci < kSlabClassCount; ++ci) {
    const int c = static_cast<int>(ci);
    ClassCache& cc = cache.classes[ci];
    if (cc.cached.load(std::memory_order_relaxed) == 0) continue;
    ClassDepot& depot = depots[ci];
    platform::LockGuard guard(depot.mu);
    auto to_depot = [&](slab_detail::MagazinePtr& magazine) {
      SEGSIM_ASSERT(magazine != nullptr, "a thread cache without a loaded or previous magazine");
      if (magazine->refs.empty()) return;
      depot.depot_objects += magazine->refs.size();
      depot.full.push_back(std::move(magazine));
    };
    to_depot(cc.loaded);
    if (!SEGSIM_MUTANT(SlabFlushForgetsPrevious)) to_depot(cc.previous);
    while (depot.full.size() > config.depot_full_magazines_max) {
      slab_detail::MagazinePtr oldest = std::move(depot.full.front());
      depot.full.erase(depot.full.begin());
      SEGSIM_ASSERT(depot.depot_objects >= oldest->refs.size(), "depot object count underflow");
      depot.depot_objects -= oldest->refs.size();
      drain_magazine(c, *oldest);
      depot.empty.push_back(std::move(oldest));
    }
    if (cc.loaded == nullptr) cc.loaded = take_empty_magazine(c);
    if (cc.previous == nullptr) cc.previous = slab_detail::placeholder_magazine();
    SEGSIM_ASSERT(cc.loaded != nullptr && cc.previous != nullptr,
                  "a flushed thread cache left without a loaded or previous magazine");
    cc.cached.store(cc.loaded->refs.size() + cc.previous->refs.size(), std::memory_order_relaxed);
  }
}

void SlabAllocator::Impl::retire_cache(tcache::CacheLink& link) {
  SEGSIM_PROBE("slab.thread_exit.flush");
  flight_recorder::Scope scope;
  flight_recorder::record_object_operation(flight_recorder::Op::SlabFlush, id, 0, 0, 0, 0, 0, -1, nullptr);
  auto& cache = static_cast<ThreadCache&>(link);
  flush_cache(cache);
  caches.retire(cache, [&] {
    for (std::size_t c = 0; c < kSlabClassCount; ++c) {
      const ClassCache& cc = cache.classes[c];
      auto& r = retired[c];
      r.allocations += cc.allocations.get();
      r.fast_allocations += cc.fast_allocations.get();
      r.frees += cc.frees.get();
      r.fast_frees += cc.fast_frees.get();
      r.remote_frees += cc.remote_frees.get();
      r.requested_bytes += cc.requested_bytes.get();
    }
  });
}

void SlabAllocator::flush_all() {
  for (auto& cache : impl_->caches.all()) impl_->flush_cache(*cache);
  for (std::size_t ci = 0; ci < kSlabClassCount; ++ci) {
    ClassDepot& depot = impl_->depots[ci];
    platform::LockGuard guard(depot.mu);
    for (auto& magazine : depot.full) {
      impl_->drain_magazine(static_cast<int>(ci), *magazine);
      depot.empty.push_back(std::move(magazine));
    }
    depot.full.clear();
    depot.depot_objects = 0;
  }
  release_empty_slabs();
}

}  // namespace segsim
