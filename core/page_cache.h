// PageCache and RecordPageCache: bounded LRU caches of leaf pages with an
// eviction listener (seed 001: evicting a leaf page must give it back to the
// pool, which returns its segments — the constructor taking a LeafPagePool
// does exactly that).
//
// Bounded by entries and by bytes (a page's segment bytes when inserted).
// A reader pins a page with a Handle while it uses it; a pinned page that is
// evicted leaves the cache at once (no new reader finds it) but is handed to
// the listener only when its last handle is dropped (a deferred eviction).
// The listener always runs outside the cache's lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <unordered_map>
#include <vector>

#include "core/leaf_page.h"
#include "core/leaf_page_pool.h"
#include "core/platform/mutex.h"

namespace segsim {

struct PageCacheConfig {
  std::size_t max_entries = 1024;
  std::size_t max_bytes = std::size_t{64} << 20;
};

struct PageCacheStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t evictions = 0;           // pages handed to the listener
  std::uint64_t deferred_evictions = 0;  // of those, handed over when the last pin dropped
  std::size_t entries = 0;
  std::size_t bytes = 0;
  std::size_t pinned_evicted = 0;        // evicted, waiting for their last pin
};

// A record page's key: which resource (document / index) and which page.
struct RecordPageKey {
  std::uint64_t resource = 0;
  std::uint64_t page = 0;
  friend bool operator==(const RecordPageKey&, const RecordPageKey&) = default;
};
struct RecordPageKeyHash {
  std::size_t operator()(const RecordPageKey& key) const noexcept {
    return std::hash<std::uint64_t>{}(key.resource * 0x9e3779b97f4a7c15ULL ^ key.page);
  }
};

template <class Key, class Hash = std::hash<Key>>
class LruPageCache {
  struct Entry;

 public:
  // Called with each evicted page, outside the cache's lock.
  using EvictionListener = std::function<void(const Key& key, LeafPage* page)>;

  // A pin on a cached page; empty on a miss. Move-only.
  class Handle {
   public:
    Handle() = default;
    ~Handle() { reset(); }
    Handle(Handle&& other) noexcept : cache_(other.cache_), entry_(std::move(other.entry_)) {
      other.cache_ = nullptr;
    }
    Handle& operator=(Handle&& other) noexcept;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;

    explicit operator bool() const noexcept { return entry_ != nullptr; }
    LeafPage* page() const noexcept;
    const Key& key() const noexcept;
    void reset();  // unpins now

   private:
    friend class LruPageCache;
    Handle(LruPageCache* cache, std::shared_ptr<Entry> entry) : cache_(cache), entry_(std::move(entry)) {}
    LruPageCache* cache_ = nullptr;
    std::shared_ptr<Entry> entry_;
  };

  // Heard after each evicted page went back to the pool, with give_back's status.
  using GivenBackListener = std::function<void(const Key& key, const Status& given_back)>;

  LruPageCache(PageCacheConfig config, EvictionListener listener);
  // The seed's PageCache → KeyValueLeafPagePool.returnPage path: every evicted
  // page is given back to `pool` (which returns its segments), then
  // `given_back` (optional) hears of it. Without it a refused give-back —
  // only a bug elsewhere makes one — is dropped. `pool` must outlive the cache.
  LruPageCache(PageCacheConfig config, LeafPagePool& pool, GivenBackListener given_back = {});
  ~LruPageCache();  // evicts everything; every handle must be gone
  LruPageCache(const LruPageCache&) = delete;
  LruPageCache& operator=(const LruPageCache&) = delete;

  // Caches `page` under `key` (replacing — and evicting — an older entry),
  // then evicts least-recently-used entries while over a bound.
  void put(const Key& key, LeafPage* page);
  // Pins and returns the cached page (most recently used now), or an empty handle.
  Handle get(const Key& key);
  // Evicts `key` now (deferred while pinned). False if not cached.
  bool erase(const Key& key);
  // Evicts every entry.
  void clear();
  // Memory pressure: evicts up to `max_pages` least-recently-used entries that
  // no reader pins (pinned ones stay cached). Returns pages evicted.
  std::size_t shrink(std::size_t max_pages);

  PageCacheStats stats() const;

 private:
  struct Entry {
    Key key;
    LeafPage* page;
    std::size_t bytes;
    std::size_t pins = 0;
    bool evicted = false;      // unlinked from the cache
    bool handed_over = false;  // given to the listener (exactly once)
  };
  using LruList = std::list<std::shared_ptr<Entry>>;  // front: most recently used

  // Unlinks `it` (lock held); the page goes to `out` unless pinned.
  void unlink(typename LruList::iterator it, std::vector<std::shared_ptr<Entry>>& out);
  void evict_over_bounds(std::vector<std::shared_ptr<Entry>>& out);
  void hand_over(std::vector<std::shared_ptr<Entry>>& evicted);  // lock not held
  void unpin(const std::shared_ptr<Entry>& entry);

  const PageCacheConfig config_;
  const EvictionListener listener_;
  mutable platform::Mutex mu_;
  LruList lru_;
  std::unordered_map<Key, typename LruList::iterator, Hash> index_;  // lookups only, never iterated
  std::size_t bytes_ = 0;
  PageCacheStats stats_;
};

using PageCache = LruPageCache<std::uint64_t>;
using RecordPageCache = LruPageCache<RecordPageKey, RecordPageKeyHash>;

extern template class LruPageCache<std::uint64_t>;
extern template class LruPageCache<RecordPageKey, RecordPageKeyHash>;

}  // namespace segsim
