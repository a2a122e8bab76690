#include "core/page_cache.h"

#include <type_traits>

#include "core/assert.h"
#include "core/fault_point.h"
#include "core/flight_recorder.h"
#include "core/mutants.h"
#include "core/platform/clock.h"
#include "core/probe.h"

namespace segsim {

namespace {
// One cache operation for the flight recorder (PageCache only: its keys are
// the page ids `segsim reproduce` rebuilds; a RecordPageCache's are not
// recorded). Called inside the cache's lock, so operations on one cache are
// stamped in their order.
template <class Key>
void record(flight_recorder::Op op, const Key& key, std::uint32_t slot = 0, std::uint64_t bytes = 0) noexcept {
  if constexpr (std::is_same_v<Key, std::uint64_t>) {
    if (flight_recorder::on()) flight_recorder::record_page_operation(op, key, slot, bytes, nullptr);
  }
}
template <class Key>
void record(flight_recorder::Op op) noexcept {
  if constexpr (std::is_same_v<Key, std::uint64_t>) record<Key>(op, Key{});
}
}  // namespace

template <class Key, class Hash>
typename LruPageCache<Key, Hash>::Handle& LruPageCache<Key, Hash>::Handle::operator=(
    Handle&& other) noexcept {
  if (this != &other) {
    reset();
    cache_ = other.cache_;
    entry_ = std::move(other.entry_);
    other.cache_ = nullptr;
  }
  return *this;
}

template <class Key, class Hash>
LeafPage* LruPageCache<Key, Hash>::Handle::page() const noexcept {
  return entry_ ? entry_->page : nullptr;
}

template <class Key, class Hash>
const Key& LruPageCache<Key, Hash>::Handle::key() const noexcept {
  SEGSIM_ASSERT(entry_ != nullptr, "key() of an empty handle");
  return entry_->key;
}

template <class Key, class Hash>
void LruPageCache<Key, Hash>::Handle::reset() {
  if (entry_ == nullptr) return;
  cache_->unpin(entry_);
  entry_.reset();
  cache_ = nullptr;
}

template <class Key, class Hash>
LruPageCache<Key, Hash>::LruPageCache(PageCacheConfig config, EvictionListener listener)
    : config_(config), listener_(std::move(listener)) {
  SEGSIM_ASSERT(config_.max_entries >= 1, "a cache holds at least one entry");
  SEGSIM_ASSERT(listener_ != nullptr, "a cache needs an eviction listener");
}

template <class Key, class Hash>
LruPageCache<Key, Hash>::LruPageCache(PageCacheConfig config, LeafPagePool& pool,
                                      GivenBackListener given_back)
    : LruPageCache(config, [&pool, given_back = std::move(given_back)](const Key& key, LeafPage* page) {
        const Status back = pool.give_back(page);
        if (given_back) given_back(key, back);
      }) {}

template <class Key, class Hash>
LruPageCache<Key, Hash>::~LruPageCache() {
  clear();
  platform::LockGuard guard(mu_);
  SEGSIM_ASSERT(stats_.pinned_evicted == 0, "cache destroyed while handles pin its pages");
}

template <class Key, class Hash>
void LruPageCache<Key, Hash>::unlink(typename LruList::iterator it,
                                     std::vector<std::shared_ptr<Entry>>& out) {
  SEGSIM_ASSERT(it != lru_.end(), "unlinking past the LRU list's end");
  std::shared_ptr<Entry> entry = *it;
  SEGSIM_ASSERT(entry != nullptr, "the LRU list holds a null entry");
  const std::size_t unindexed = index_.erase(entry->key);
  SEGSIM_ASSERT(unindexed == 1, "an LRU entry missing from the key index");
  lru_.erase(it);
  SEGSIM_ASSERT(bytes_ >= entry->bytes && !entry->evicted, "unlinking an entry twice");
  bytes_ -= entry->bytes;
  entry->evicted = true;
  if (entry->pins > 0 && !SEGSIM_MUTANT(PinIgnored)) {
    SEGSIM_PROBE("cache.evict.pinned_deferred");
    ++stats_.pinned_evicted;  // handed over by the last unpin
  } else {
    entry->handed_over = true;
    out.push_back(std::move(entry));
  }
  SEGSIM_ASSERT(index_.size() == lru_.size(), "the key index and the LRU list disagree on the entry count");
}

template <class Key, class Hash>
void LruPageCache<Key, Hash>::evict_over_bounds(std::vector<std::shared_ptr<Entry>>& out) {
  while (!lru_.empty() && (lru_.size() > config_.max_entries || bytes_ > config_.max_bytes)) {
    if (lru_.size() > config_.max_entries) {
      SEGSIM_PROBE("cache.evict.entries_bound");
    } else {
      SEGSIM_PROBE("cache.evict.bytes_bound");
    }
    unlink(std::prev(lru_.end()), out);
  }
  SEGSIM_ASSERT(lru_.size() <= config_.max_entries, "over the entry bound after eviction");
}

template <class Key, class Hash>
void LruPageCache<Key, Hash>::hand_over(std::vector<std::shared_ptr<Entry>>& evicted) {
  for (const auto& entry : evicted) {
    SEGSIM_ASSERT(entry != nullptr && entry->page != nullptr && entry->handed_over,
                  "handing over an entry not unlinked for it");
    // A window between unlinking and returning, where a race with a reader
    // or the pool would show.
    if (SEGSIM_FAULT_POINT("cache.evict.yield")) platform::yield();
    // The historical listener cleared the page and never returned it.
    if (SEGSIM_MUTANT(EvictNoReturn)) entry->page->clear(); else listener_(entry->key, entry->page);
  }
  if (!evicted.empty()) {
    platform::LockGuard guard(mu_);
    stats_.evictions += evicted.size();
  }
}

template <class Key, class Hash>
void LruPageCache<Key, Hash>::put(const Key& key, LeafPage* page) {
  SEGSIM_ASSERT(page != nullptr, "caching a null page");
  flight_recorder::Scope recorded;
  if constexpr (std::is_same_v<Key, std::uint64_t>) {
    if (flight_recorder::on()) flight_recorder::detail::note_page_cache(config_.max_entries, config_.max_bytes);
  }
  std::vector<std::shared_ptr<Entry>> evicted;
  {
    platform::LockGuard guard(mu_);
    record(flight_recorder::Op::CachePut, key, 0, page->page_id());
    if (auto found = index_.find(key); found != index_.end()) {
      SEGSIM_ASSERT(found->second != lru_.end() && *found->second != nullptr, "the key index names no LRU entry");
      if ((*found->second)->page == page) {  // already cached: just touch it
        SEGSIM_PROBE("cache.put.same_page_touched");
        lru_.splice(lru_.begin(), lru_, found->second);
        return;
      }
      SEGSIM_PROBE("cache.put.replaced_other_page");
      unlink(found->second, evicted);
    }
    auto entry = std::make_shared<Entry>(Entry{key, page, page->memory_bytes()});
    lru_.push_front(std::move(entry));
    const bool indexed = index_.emplace(key, lru_.begin()).second;
    SEGSIM_ASSERT(indexed, "a key cached twice");
    bytes_ += lru_.front()->bytes;
    evict_over_bounds(evicted);
  }
  hand_over(evicted);
}

template <class Key, class Hash>
typename LruPageCache<Key, Hash>::Handle LruPageCache<Key, Hash>::get(const Key& key) {
  flight_recorder::Scope recorded;
  platform::LockGuard guard(mu_);
  auto found = index_.find(key);
  if (found == index_.end()) {
    SEGSIM_PROBE("cache.get.miss");
    ++stats_.misses;
    record(flight_recorder::Op::CacheGet, key, 0);
    return Handle{};
  }
  SEGSIM_ASSERT(found != index_.end() && found->second != lru_.end(), "a cache hit without an indexed entry");
  ++stats_.hits;
  record(flight_recorder::Op::CacheGet, key, 1);
  lru_.splice(lru_.begin(), lru_, found->second);
  std::shared_ptr<Entry> entry = *found->second;
  SEGSIM_ASSERT(entry != nullptr && !entry->evicted, "the key index names an evicted entry");
  ++entry->pins;
  return Handle(this, std::move(entry));
}

template <class Key, class Hash>
void LruPageCache<Key, Hash>::unpin(const std::shared_ptr<Entry>& entry) {
  flight_recorder::Scope recorded;
  std::vector<std::shared_ptr<Entry>> evicted;
  {
    platform::LockGuard guard(mu_);
    SEGSIM_ASSERT(entry->pins > 0, "unpin without a pin");
    record(flight_recorder::Op::CacheUnpin, entry->key);
    if (--entry->pins == 0 && entry->evicted && !entry->handed_over) {
      SEGSIM_ASSERT(stats_.pinned_evicted > 0, "deferred eviction not counted");
      SEGSIM_PROBE("cache.unpin.deferred_hand_over");
      --stats_.pinned_evicted;
      ++stats_.deferred_evictions;
      entry->handed_over = true;
      evicted.push_back(entry);
    }
  }
  hand_over(evicted);
}

template <class Key, class Hash>
bool LruPageCache<Key, Hash>::erase(const Key& key) {
  flight_recorder::Scope recorded;
  std::vector<std::shared_ptr<Entry>> evicted;
  {
    platform::LockGuard guard(mu_);
    record(flight_recorder::Op::CacheErase, key);
    auto found = index_.find(key);
    if (found == index_.end()) {
      SEGSIM_PROBE("cache.erase.missing");
      return false;
    }
    SEGSIM_PROBE("cache.erase.found");
    SEGSIM_ASSERT(found != index_.end(), "erasing a key that is not indexed");
    unlink(found->second, evicted);
  }
  hand_over(evicted);
  return true;
}

template <class Key, class Hash>
void LruPageCache<Key, Hash>::clear() {
  flight_recorder::Scope recorded;
  std::vector<std::shared_ptr<Entry>> evicted;
  {
    platform::LockGuard guard(mu_);
    record<Key>(flight_recorder::Op::CacheClear);
    if (!lru_.empty()) SEGSIM_PROBE("cache.clear.nonempty");
    while (!lru_.empty()) unlink(std::prev(lru_.end()), evicted);  // LRU first
    SEGSIM_ASSERT(index_.empty() && bytes_ == 0, "a cleared cache still indexes entries or counts bytes");
  }
  hand_over(evicted);
}

template <class Key, class Hash>
std::size_t LruPageCache<Key, Hash>::shrink(std::size_t max_pages) {
  flight_recorder::Scope recorded;
  std::vector<std::shared_ptr<Entry>> evicted;
  {
    platform::LockGuard guard(mu_);
    record(flight_recorder::Op::CacheShrink, Key{}, 0, max_pages);
    auto it = lru_.end();
    while (it != lru_.begin() && evicted.size() < max_pages) {
      --it;
      auto current = it;
      const bool pinned = (*current)->pins > 0;
      if (pinned) SEGSIM_PROBE("cache.shrink.skipped_pinned");
      if (pinned && !SEGSIM_MUTANT(PressureEvictsPinned)) continue;
      ++it;  // unlink invalidates `current` only
      std::shared_ptr<Entry> entry = *current;
      const std::size_t unindexed = index_.erase(entry->key);
      SEGSIM_ASSERT(unindexed == 1, "an LRU entry missing from the key index");
      lru_.erase(current);
      SEGSIM_ASSERT(bytes_ >= entry->bytes && !entry->evicted, "evicting an entry twice");
      bytes_ -= entry->bytes;
      entry->evicted = true;
      entry->handed_over = true;
      evicted.push_back(std::move(entry));
    }
  }
  const std::size_t count = evicted.size();
  SEGSIM_ASSERT(count <= max_pages, "shrink evicted more pages than asked");
  hand_over(evicted);
  return count;
}

template <class Key, class Hash>
PageCacheStats LruPageCache<Key, Hash>::stats() const {
  platform::LockGuard guard(mu_);
  PageCacheStats stats = stats_;
  stats.entries = lru_.size();
  stats.bytes = bytes_;
  return stats;
}

template class LruPageCache<std::uint64_t>;
template class LruPageCache<RecordPageKey, RecordPageKeyHash>;

}  // namespace segsim
