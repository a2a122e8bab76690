// page model and cache model: the promises of LeafPage, LeafPagePool and the
// LRU page caches, checked call by call (leaf_page.h, leaf_page_pool.h,
// page_cache.h). Used by workloads whose client owns the pages and caches it
// checks, so the sequential models are exact.
//  * PageModels — per page: slots and DeweyIDs written, shared or own DeweyID
//    segment, returned or not, id. A write's outcome must be the one the
//    model says (SlotOutOfRange, ValueTooLarge, PageReturned, PageFull, or
//    success; an allocator refusal only under faults), and a refused write or
//    reset leaves every slot as it was.
//  * CacheModel — LRU order, entry and byte bounds, pins, deferred evictions,
//    and the exact sequence of pages handed to the eviction listener.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <utility>
#include <vector>

#include "core/leaf_page_pool.h"
#include "core/page_cache.h"
#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

using HandOvers = std::vector<std::pair<std::uint64_t, LeafPage*>>;  // (key, page), in order

class PageModels {
 public:
  PageModels(Oracles& oracles, const LeafPagePoolConfig& config)
      : oracles_(oracles), config_(config.page), max_idle_pages_(config.max_idle_pages) {}

  // Pages borrowed and not cached, in borrow order.
  std::vector<LeafPage*> held() const;
  // The same into `out` (cleared first), without a fresh vector per call.
  void held(std::vector<LeafPage*>& out) const;
  std::size_t held_count() const noexcept;
  std::size_t borrowed_count() const noexcept { return pages_.size(); }
  // Pages given back that the pool keeps idle (alive): a second give-back of
  // one must be refused. Destroyed ones are not listed (kept_or_dropped).
  const std::vector<LeafPage*>& given_back() const noexcept { return given_back_; }

  void borrowed(LeafPage* page, std::uint64_t id);  // checks it is fresh
  // The pool's counters as the model has them (max_idle_pages bounds idle).
  void check_pool_stats(const LeafPagePoolStats& stats, std::size_t max_idle_pages) const;
  void given_back(LeafPage* page);
  void cached(LeafPage* page);  // from now on the cache owns it
  void check_write(LeafPage* page, bool dewey, std::size_t slot, std::size_t bytes, std::uint8_t fill,
                   const Status& status, bool faults_active);
  void check_reset(LeafPage* page, std::uint64_t id, const Status& status, bool faults_active);
  void cleared(LeafPage* page);
  void returned(LeafPage* page);
  void all_returned();  // LeafPagePool::clear_all
  // Every slot and DeweyID, the flags, the id and the memory of `page`.
  void verify(LeafPage* page);
  // verify() of every page borrowed and not given back, cached ones too.
  void verify_all();

  // Eviction hand-overs the cache model expects next, and the listener's.
  void expect_hand_overs(const HandOvers& expected);
  void handed_over(std::uint64_t key, LeafPage* page, LeafPagePool& pool);  // the listener
  void check_hand_overs(const char* call);

 private:
  struct Page {
    LeafPage* page = nullptr;
    std::uint64_t id = 0;
    std::map<std::size_t, std::pair<std::size_t, std::uint8_t>> slots;  // slot → (bytes, fill)
    std::map<std::size_t, std::pair<std::size_t, std::uint8_t>> dewey;
    bool shared = true;
    bool returned = false;
    bool cached = false;
  };
  Page& find(LeafPage* page);
  void kept_or_dropped(LeafPage* page);  // a page given back: idle in the pool, or destroyed
  Errc expected_refusal(const Page& model, bool dewey, std::size_t slot, std::size_t bytes) const;

  Oracles& oracles_;
  const LeafPageConfig config_;
  std::vector<Page> pages_;  // borrow order
  std::vector<LeafPage*> given_back_;
  std::size_t max_idle_pages_ = 0;
  LeafPagePoolStats pool_;  // idle, created, reused, given_back (borrowed: pages_.size())
  HandOvers expected_;
  HandOvers actual_;
};

class CacheModel {
 public:
  explicit CacheModel(PageCacheConfig config) : config_(config) {}

  std::vector<std::uint64_t> keys() const;  // cached keys, most recently used first
  // The same into `out` (cleared first), without a fresh vector per call.
  void keys(std::vector<std::uint64_t>& out) const;
  LeafPage* page_at(std::uint64_t key) const;
  HandOvers put(std::uint64_t key, LeafPage* page, std::size_t bytes);
  // A hit pins the entry: returns its page and pin id (0 on a miss).
  LeafPage* get(std::uint64_t key, std::uint64_t& pin_id);
  HandOvers unpin(std::uint64_t pin_id);
  HandOvers erase(std::uint64_t key, bool& found);
  HandOvers clear();
  // LruPageCache::shrink: up to `max_pages` least-recently-used unpinned
  // entries evicted (pinned ones stay cached); `evicted` is their count.
  HandOvers shrink(std::size_t max_pages, std::size_t& evicted);
  void check_stats(const PageCacheStats& stats, Oracles& oracles) const;

 private:
  struct Entry {
    std::uint64_t id = 0;
    std::uint64_t key = 0;
    LeafPage* page = nullptr;
    std::size_t bytes = 0;
    std::size_t pins = 0;
  };
  void unlink(std::list<Entry>::iterator it, HandOvers& out);
  void evict_over_bounds(HandOvers& out);

  const PageCacheConfig config_;
  std::list<Entry> lru_;          // front: most recently used
  std::vector<Entry> deferred_;   // evicted while pinned
  std::uint64_t next_id_ = 1;
  std::size_t bytes_ = 0;
  std::uint64_t hits_ = 0, misses_ = 0, evictions_ = 0, deferred_evictions_ = 0;
};

}  // namespace segsim::scenarios
