// PageCache / RecordPageCache: LRU bounds, eviction listener, pins.
#include <map>

#include "core/leaf_page_pool.h"
#include "core/page_cache.h"
#include "core/tests/allocator_fixture.h"

namespace segsim::testing {
namespace {

class PageCacheTest : public PagePoolTest {
 protected:
  LeafPage* borrow(std::uint64_t id) { return pool->borrow(id).value(); }
  // The seed 001 fix: an evicted leaf page goes back to the pool.
  PageCache::GivenBackListener given_back() {
    return [this](const std::uint64_t& key, const Status& back) {
      evicted.push_back(key);
      EXPECT_TRUE(back.ok());
    };
  }

  std::vector<std::uint64_t> evicted;
};

TEST_F(PageCacheTest, EvictsLeastRecentlyUsedBeyondMaxEntries) {
  PageCache cache({2, std::size_t{1} << 30}, *pool, given_back());
  cache.put(1, borrow(1));
  cache.put(2, borrow(2));
  { auto touch = cache.get(1); }  // 1 is now the most recent
  cache.put(3, borrow(3));
  EXPECT_EQ(evicted, std::vector<std::uint64_t>{2});
  EXPECT_FALSE(cache.get(2));
  EXPECT_TRUE(cache.get(1));
  EXPECT_TRUE(cache.get(3));
  PageCacheStats s = cache.stats();
  EXPECT_EQ(s.entries, 2u);
  EXPECT_EQ(s.evictions, 1u);
  EXPECT_EQ(s.hits, 3u);
  EXPECT_EQ(s.misses, 1u);
  cache.clear();
  EXPECT_EQ(allocator->stats().live_slices(), 0u);  // every evicted page returned its segments
}

TEST_F(PageCacheTest, EvictsBeyondMaxBytes) {
  PageCache cache({100, 3 * 4 * KiB}, *pool, given_back());  // three 4 KiB pages
  for (std::uint64_t id = 1; id <= 5; ++id) cache.put(id, borrow(id));
  EXPECT_EQ(cache.stats().entries, 3u);
  EXPECT_EQ(cache.stats().bytes, 3 * 4 * KiB);
  EXPECT_EQ(evicted, (std::vector<std::uint64_t>{1, 2}));
  cache.clear();
}

TEST_F(PageCacheTest, PinnedPageEvictionIsDeferredUntilTheLastHandle) {
  PageCache cache({1, std::size_t{1} << 30}, *pool, given_back());
  LeafPage* page = borrow(1);
  ASSERT_TRUE(page->set_slot(0, std::vector<std::byte>(8, std::byte{3})).ok());
  cache.put(1, page);
  auto reader = cache.get(1);
  auto second_reader = cache.get(1);
  cache.put(2, borrow(2));  // evicts 1 while pinned twice
  EXPECT_TRUE(evicted.empty());
  EXPECT_FALSE(cache.get(1));                     // no new reader finds it
  EXPECT_FALSE(page->segments_returned());        // the readers' page is intact
  EXPECT_EQ(page->get_slot(0).size(), 8u);
  EXPECT_EQ(cache.stats().pinned_evicted, 1u);
  reader.reset();
  EXPECT_TRUE(evicted.empty());
  second_reader.reset();  // the last pin: now it goes back
  EXPECT_EQ(evicted, std::vector<std::uint64_t>{1});
  EXPECT_TRUE(page->segments_returned());
  PageCacheStats s = cache.stats();
  EXPECT_EQ(s.deferred_evictions, 1u);
  EXPECT_EQ(s.pinned_evicted, 0u);
  cache.clear();
}

TEST_F(PageCacheTest, ReplacingAKeyEvictsTheOldPage) {
  PageCache cache({10, std::size_t{1} << 30}, *pool, given_back());
  cache.put(1, borrow(1));
  LeafPage* newer = borrow(2);
  cache.put(1, newer);
  EXPECT_EQ(evicted, std::vector<std::uint64_t>{1});
  EXPECT_EQ(cache.get(1).page(), newer);
  cache.put(1, newer);  // same page again: no eviction
  EXPECT_EQ(evicted.size(), 1u);
  EXPECT_TRUE(cache.erase(1));
  EXPECT_FALSE(cache.erase(1));
  EXPECT_EQ(allocator->stats().live_slices(), 0u);
}

TEST_F(PageCacheTest, HandlesMove) {
  PageCache cache({10, std::size_t{1} << 30}, *pool, given_back());
  cache.put(1, borrow(1));
  PageCache::Handle a = cache.get(1);
  PageCache::Handle b = std::move(a);
  EXPECT_FALSE(a);
  EXPECT_TRUE(b);
  EXPECT_EQ(b.key(), 1u);
  PageCache::Handle c;
  c = std::move(b);
  EXPECT_TRUE(c);
  c.reset();
  cache.clear();
  EXPECT_EQ(evicted.size(), 1u);
}

TEST_F(PageCacheTest, RecordPageCacheKeysByResourceAndPage) {
  std::vector<RecordPageKey> gone;
  RecordPageCache cache({2, std::size_t{1} << 30}, *pool, [&](const RecordPageKey& key, const Status& back) {
    gone.push_back(key);
    EXPECT_TRUE(back.ok());
  });
  cache.put({1, 10}, borrow(10));
  cache.put({2, 10}, borrow(11));  // same page number, other resource: distinct
  EXPECT_TRUE(cache.get({1, 10}));
  EXPECT_TRUE(cache.get({2, 10}));
  cache.put({1, 11}, borrow(12));
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0], (RecordPageKey{1, 10}));
  cache.clear();
  EXPECT_EQ(allocator->stats().live_slices(), 0u);
}

}  // namespace
}  // namespace segsim::testing
