// SlabAllocator's per-thread caches: which cache serves the caller, flushing,
// thread exit, and detaching every cache when the allocator dies.
//
// Production: a real thread_local table (one cache per allocator the thread
// used), its destructor flushes at thread exit; the last cache used is
// remembered in two constinit thread_locals so the lookup is two loads.
// Under a simulation every fiber is a thread: its cache is found by the
// runtime's thread_key(), and a fiber flushes with flush_thread_cache().
#include "core/fault_point.h"
#include "core/mutants.h"
#include "core/probe.h"
#include "core/slab_internal.h"

namespace segsim {

using slab_detail::ClassCache;
using slab_detail::ClassDepot;
using slab_detail::Magazine;
using slab_detail::ThreadCache;

namespace {

struct CacheTable {
  std::vector<std::shared_ptr<ThreadCache>> caches;
  ~CacheTable();
};

constinit thread_local bool tls_table_dead = false;
thread_local CacheTable tls_table;

CacheTable::~CacheTable() {
  tls_table_dead = true;
  slab_detail::tls_last_cache = nullptr;
  slab_detail::tls_last_allocator = 0;
  for (auto& cache : caches) cache->exit();
}

}  // namespace

void slab_detail::ThreadCache::exit() {
  platform::LockGuard guard(exit_mu);
  if (owner == nullptr) return;  // the allocator died first and took everything back
  SEGSIM_PROBE("slab.thread_exit.flush");
  owner->retire_cache(*this);
  owner = nullptr;
}

std::shared_ptr<ThreadCache> SlabAllocator::Impl::new_cache() {
  std::uint32_t cache_id = 0;
  {
    platform::LockGuard guard(registry_mu);
    cache_id = next_cache_id++;
  }
  auto cache = std::make_shared<ThreadCache>(this, id, cache_id);
  for (std::size_t c = 0; c < kSlabClassCount; ++c) {
    cache->classes[c].loaded = std::make_unique<Magazine>(depots[c].max_capacity);
    cache->classes[c].loaded->capacity = depots[c].capacity.load(std::memory_order_relaxed);
  }
  return cache;
}

ThreadCache* SlabAllocator::Impl::fiber_cache() {
  const std::uint32_t key = platform::current_runtime()->thread_key();
  auto it = fiber_caches.find(key);
  if (it != fiber_caches.end()) return it->second.get();
  SEGSIM_PROBE("slab.cache.new_fiber");
  std::shared_ptr<ThreadCache> cache = new_cache();
  return fiber_caches.emplace(key, std::move(cache)).first->second.get();
}

ThreadCache* SlabAllocator::Impl::thread_cache_slow() {
  if (tls_table_dead) return nullptr;
  auto& caches = tls_table.caches;
  ThreadCache* found = nullptr;
  for (std::size_t i = caches.size(); i-- > 0;) {
    ThreadCache& cache = *caches[i];
    if (cache.allocator_id == id) {
      found = &cache;
      continue;
    }
    bool detached = false;
    {
      platform::LockGuard guard(cache.exit_mu);
      detached = cache.owner == nullptr;  // its allocator died
    }
    // Erased after the guard: the table may hold the cache's last reference.
    if (detached) caches.erase(caches.begin() + static_cast<std::ptrdiff_t>(i));
  }
  if (found == nullptr) {
    std::shared_ptr<ThreadCache> cache = new_cache();
    {
      platform::LockGuard guard(registry_mu);
      thread_caches.push_back(cache);
    }
    found = cache.get();
    caches.push_back(std::move(cache));
  }
  slab_detail::tls_last_cache = found;
  slab_detail::tls_last_allocator = id;
  return found;
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
      if (magazine == nullptr || magazine->refs.empty()) return;
      depot.depot_objects += magazine->refs.size();
      depot.full.push_back(std::move(magazine));
    };
    to_depot(cc.loaded);
    if (!SEGSIM_MUTANT(SlabFlushForgetsPrevious)) to_depot(cc.previous);
    while (depot.full.size() > config.depot_full_magazines_max) {
      slab_detail::MagazinePtr oldest = std::move(depot.full.front());
      depot.full.erase(depot.full.begin());
      depot.depot_objects -= oldest->refs.size();
      drain_magazine(c, *oldest);
      depot.empty.push_back(std::move(oldest));
    }
    if (cc.loaded == nullptr) cc.loaded = take_empty_magazine(c);
    std::size_t left = cc.loaded->refs.size();
    if (cc.previous != nullptr) left += cc.previous->refs.size();
    cc.cached.store(left, std::memory_order_relaxed);
  }
}

void SlabAllocator::Impl::retire_cache(ThreadCache& cache) {
  flush_cache(cache);
  platform::LockGuard guard(registry_mu);
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
  for (std::size_t i = 0; i < thread_caches.size(); ++i) {
    if (thread_caches[i].get() == &cache) {
      thread_caches.erase(thread_caches.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  }
}

// The allocator is dying: every cache is emptied and detached (a thread that
// exits later finds no owner).
void SlabAllocator::Impl::detach_all_caches() {
  std::vector<std::shared_ptr<ThreadCache>> caches;
  {
    platform::LockGuard guard(registry_mu);
    caches = thread_caches;
  }
  for (auto& [key, cache] : fiber_caches) caches.push_back(cache);
  for (auto& cache : caches) {  // their objects die with the slabs: nothing is returned
    platform::LockGuard guard(cache->exit_mu);
    for (ClassCache& cc : cache->classes) {
      if (cc.loaded != nullptr) cc.loaded->refs.clear();
      if (cc.previous != nullptr) cc.previous->refs.clear();
      cc.cached.store(0, std::memory_order_relaxed);
    }
    cache->owner = nullptr;
  }
  platform::LockGuard guard(registry_mu);
  thread_caches.clear();
  fiber_caches.clear();
}

void SlabAllocator::flush_all() {
  std::vector<std::shared_ptr<ThreadCache>> caches;
  {
    platform::LockGuard guard(impl_->registry_mu);
    caches = impl_->thread_caches;
  }
  for (auto& [key, cache] : impl_->fiber_caches) caches.push_back(cache);
  for (auto& cache : caches) impl_->flush_cache(*cache);
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
