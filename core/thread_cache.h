// The per-thread cache mechanism shared by SegmentAllocator and SlabAllocator:
// which cache serves the calling thread, thread exit, and detaching every cache
// when the allocator dies. What a cache holds is the allocator's business.
//
// What it promises:
//  * for_caller() gives the calling thread its own cache of this allocator,
//    created on first use. Production threads: a real thread_local table (one
//    cache per allocator the thread used); the last cache used is remembered in
//    two constinit thread_locals, so the common lookup is two loads. Under a
//    simulation every fiber is a thread: its cache is keyed by the platform
//    runtime's thread_key(), so the simulator sees one cache per fiber; keys
//    are fiber ids (small, dense), so the lookup is a vector index.
//  * A production thread's exit hands each of its caches to the owner's
//    retire_cache() (which flushes it), unless the owner died first. A thread
//    past its thread-local destruction gets null (callers go uncached).
//  * detach_all() (allocator destruction) unlinks every cache: a thread that
//    exits later finds no owner and returns nothing.
//
// Lock order: a cache's exit_mu, then registry_mu, then the owner's own locks.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "core/assert.h"
#include "core/platform/mutex.h"
#include "core/platform/runtime.h"

namespace segsim::tcache {

struct CacheLink;

// A counter written only by a cache's owner thread and read by stats() on
// others: a relaxed load and store, no read-modify-write on the fast path.
struct OwnerCounter {
  std::atomic<std::uint64_t> value{0};
  void add(std::uint64_t n) noexcept { value.store(value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  std::uint64_t get() const noexcept { return value.load(std::memory_order_relaxed); }
};

// An allocator that owns per-thread caches.
class CacheOwner {
 public:
  // A production thread is exiting: empty `cache` back into the allocator and
  // forget it (ThreadCaches::forget). Called with cache.exit_mu held.
  virtual void retire_cache(CacheLink& cache) = 0;

 protected:
  ~CacheOwner() = default;
};

// The part of every per-thread cache this mechanism manages.
struct CacheLink {
  CacheLink(CacheOwner* owner_in, std::uint32_t allocator, std::uint32_t cache_id)
      : owner(owner_in), allocator_id(allocator), id(cache_id) {}
  // Thread exit: retire into the owner unless the owner died first.
  void exit() {
    platform::LockGuard guard(exit_mu);
    if (owner == nullptr) return;  // the allocator died first and took everything back
    owner->retire_cache(*this);
    owner = nullptr;
  }
  bool detached() {
    platform::LockGuard guard(exit_mu);
    return owner == nullptr;
  }

  platform::Mutex exit_mu;  // thread exit vs allocator destruction
  CacheOwner* owner;        // guarded by exit_mu; null once detached
  const std::uint32_t allocator_id;
  const std::uint32_t id;   // 1, 2, ...: never 0 (0 means "no cache")
};

// The calling thread's caches of every allocator of one kind (one Cache type).
template <class Cache>
struct ThreadTable {
  std::vector<std::shared_ptr<Cache>> caches;
  ~ThreadTable();
};

template <class Cache>
struct Tls {
  static inline constinit thread_local Cache* last_cache = nullptr;
  static inline constinit thread_local std::uint32_t last_allocator = 0;
  static inline constinit thread_local bool table_dead = false;
  static inline thread_local ThreadTable<Cache> table;
};

template <class Cache>
ThreadTable<Cache>::~ThreadTable() {
  Tls<Cache>::table_dead = true;
  Tls<Cache>::last_cache = nullptr;
  Tls<Cache>::last_allocator = 0;
  for (auto& cache : caches) cache->exit();
}

// One allocator's caches. Cache derives from CacheLink; `make(cache_id)`
// (the allocator's factory) builds an empty one.
template <class Cache>
class ThreadCaches {
 public:
  using Ptr = std::shared_ptr<Cache>;
  explicit ThreadCaches(std::uint32_t allocator_id) : allocator_id_(allocator_id) {}

  // The caller's cache (a fiber's under a simulation); null on a thread whose
  // thread-locals are gone. Inline: this is every allocation's first step.
  template <class Make>
  Cache* for_caller(Make&& make) {
    if (platform::Runtime* rt = platform::current_runtime(); rt != nullptr) [[unlikely]] {
      return fiber_cache(rt->thread_key(), make);
    }
    if (Tls<Cache>::last_allocator == allocator_id_) [[likely]] return Tls<Cache>::last_cache;
    return thread_cache_slow(make);
  }

  // The production caller's cache when this allocator is the one its thread
  // used last (two thread-local loads); null otherwise — for_caller() then
  // finds or makes it. For a caller that knows it runs on no simulation (the
  // hit paths ask current_runtime() first). Inline: every cached hit starts here.
  Cache* last_used_by_thread() const noexcept {
    if (Tls<Cache>::last_allocator != allocator_id_) [[unlikely]] return nullptr;
    return Tls<Cache>::last_cache;
  }

  // Under a simulation: the cache of the simulated thread `key`
  // (Runtime::thread_key()) if it has one; never creates one. Fiber-local
  // bookkeeping, not a scheduling point. Inline: the simulated hit paths
  // start here.
  Cache* existing_fiber_cache(std::uint32_t key) const noexcept {
    if (key < fiber_caches_.size()) [[likely]] return fiber_caches_[key].get();
    auto it = far_fiber_caches_.find(key);
    return it == far_fiber_caches_.end() ? nullptr : it->second.get();
  }

  // The caller's cache if it has one; never creates one.
  Cache* existing_for_caller() {
    if (platform::Runtime* rt = platform::current_runtime(); rt != nullptr) {
      return existing_fiber_cache(rt->thread_key());
    }
    if (Tls<Cache>::last_allocator == allocator_id_) return Tls<Cache>::last_cache;
    if (Tls<Cache>::table_dead) return nullptr;
    for (const Ptr& cache : Tls<Cache>::table.caches) {
      if (cache->allocator_id == allocator_id_ && !cache->detached()) return cache.get();
    }
    return nullptr;
  }

  std::uint32_t next_id() {
    platform::LockGuard guard(registry_mu);
    return next_cache_id_++;
  }

  // Every cache alive now (production threads' and fibers'). Fiber caches are
  // listed without a lock: a simulation's fibers share one OS thread.
  std::vector<Ptr> all() {
    return all([] {});
  }
  // As all(), and `read_retired()` runs under the same hold of registry_mu as
  // the listing: a cache retired (retire()) either before — its counts in
  // what read_retired reads, not listed — or after — listed, not handed on.
  // Summing both never counts a retiring thread twice nor loses it.
  template <class ReadRetired>
  std::vector<Ptr> all(ReadRetired&& read_retired) {
    std::vector<Ptr> caches;
    {
      platform::LockGuard guard(registry_mu);
      read_retired();
      caches = thread_caches_;
    }
    // In ascending key order, as one ordered map listed them: the order in
    // which a simulation's flushes visit fibers' caches is part of its trace.
    for (const Ptr& cache : fiber_caches_) {
      if (cache != nullptr) caches.push_back(cache);
    }
    for (auto& [key, cache] : far_fiber_caches_) caches.push_back(cache);
    return caches;
  }
  // Bumped whenever a cache joins or leaves: a caller holding a snapshot of
  // all() knows it is stale. A cache joins before it holds anything, so one
  // that got slices after a snapshot was taken shows here.
  std::uint64_t changes() const noexcept { return changes_.load(std::memory_order_acquire); }

  // A retiring production cache leaves the registry (its thread table keeps
  // it until the thread is gone): `hand_over()` moves its counts to the
  // owner's retired totals under the same hold of registry_mu as the removal,
  // so a reader of all(read_retired) sees the cache in one place only.
  template <class HandOver>
  void retire(const CacheLink& cache, HandOver&& hand_over) {
    platform::LockGuard guard(registry_mu);
    hand_over();
    for (std::size_t i = 0; i < thread_caches_.size(); ++i) {
      if (thread_caches_[i].get() == &cache) {
        thread_caches_.erase(thread_caches_.begin() + static_cast<std::ptrdiff_t>(i));
        changes_.fetch_add(1, std::memory_order_release);
        return;
      }
    }
  }

  // The allocator is dying: every cache is unlinked. What a cache holds is
  // not returned (it dies with the owner's memory); a thread that keeps its
  // cache past this finds no owner at exit and touches none of it.
  void detach_all() {
    for (Ptr& cache : all()) {
      platform::LockGuard guard(cache->exit_mu);
      cache->owner = nullptr;
    }
    platform::LockGuard guard(registry_mu);
    thread_caches_.clear();
    fiber_caches_.clear();
    far_fiber_caches_.clear();
    changes_.fetch_add(1, std::memory_order_release);
  }

  // Guards the registry; owners may use it for what retiring updates too.
  mutable platform::Mutex registry_mu;

 private:
  template <class Make>
  Cache* fiber_cache(std::uint32_t key, Make& make) {
    if (Cache* found = existing_fiber_cache(key); found != nullptr) [[likely]] return found;
    return make_fiber_cache(key, make);
  }

  template <class Make>
  [[gnu::noinline]] Cache* make_fiber_cache(std::uint32_t key, Make& make) {
    Ptr made = make(next_id());
    Cache* raw = made.get();
    if (key < kDenseFiberKeys) {
      if (key >= fiber_caches_.size()) fiber_caches_.resize(key + 1);
      SEGSIM_ASSERT(key < fiber_caches_.size(), "a fiber's cache slot past the table it was grown to");
      fiber_caches_[key] = std::move(made);
    } else {
      far_fiber_caches_.emplace(key, std::move(made));
    }
    changes_.fetch_add(1, std::memory_order_release);
    return raw;
  }

  template <class Make>
  Cache* thread_cache_slow(Make& make) {
    if (Tls<Cache>::table_dead) return nullptr;
    auto& caches = Tls<Cache>::table.caches;
    Cache* found = nullptr;
    for (std::size_t i = caches.size(); i-- > 0;) {
      Cache& cache = *caches[i];
      if (cache.allocator_id == allocator_id_) {
        found = &cache;
        continue;
      }
      // Erased after detached() returns: the table may hold the last reference.
      if (cache.detached()) caches.erase(caches.begin() + static_cast<std::ptrdiff_t>(i));
    }
    if (found == nullptr) {
      Ptr cache = make(next_id());
      {
        platform::LockGuard guard(registry_mu);
        thread_caches_.push_back(cache);
        changes_.fetch_add(1, std::memory_order_release);
      }
      found = cache.get();
      caches.push_back(std::move(cache));
    }
    Tls<Cache>::last_cache = found;
    Tls<Cache>::last_allocator = allocator_id_;
    return found;
  }

  const std::uint32_t allocator_id_;
  // A plain atomic, not a scheduling point: a version stamp for readers of
  // all(), not program logic worth interleaving.
  std::atomic<std::uint64_t> changes_{0};
  std::uint32_t next_cache_id_ = 1;             // guarded by registry_mu
  std::vector<Ptr> thread_caches_;              // production threads; guarded by registry_mu
  // Under a simulation: fiber → cache, by key for keys below
  // kDenseFiberKeys (fiber ids: a simulation has at most a few thousand
  // fibers), in the map beyond (a runtime's other keys, e.g. "no fiber").
  // All fibers of a simulation run on one OS thread and these are touched by
  // no scheduling point, so no lock.
  static constexpr std::uint32_t kDenseFiberKeys = 1u << 16;
  std::vector<Ptr> fiber_caches_;
  std::map<std::uint32_t, Ptr> far_fiber_caches_;
};

}  // namespace segsim::tcache
