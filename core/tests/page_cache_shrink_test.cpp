// PageCache::shrink (issue 15): the pressure loop's eviction step takes
// unpinned pages, least recently used first, and never a pinned one.
#include "core/leaf_page_pool.h"
#include "core/page_cache.h"
#include "core/tests/allocator_fixture.h"

namespace segsim::testing {
namespace {

class PageCacheShrink : public PagePoolTest {
 protected:
  std::vector<std::uint64_t> evicted;
};

TEST_F(PageCacheShrink, EvictsUnpinnedLeastRecentlyUsedFirst) {
  PageCache cache({64, std::size_t{1} << 30}, *pool, [this](const std::uint64_t& key, const Status& back) {
    evicted.push_back(key);
    EXPECT_TRUE(back.ok());
  });
  for (std::uint64_t id = 1; id <= 5; ++id) cache.put(id, pool->borrow(id).value());
  auto pinned = cache.get(1);  // 1 is pinned (and most recent); LRU order now 2, 3, 4, 5, 1
  EXPECT_EQ(cache.shrink(2), 2u);
  EXPECT_EQ(evicted, (std::vector<std::uint64_t>{2, 3}));
  EXPECT_EQ(cache.shrink(SIZE_MAX), 2u);  // 4 and 5; the pinned page stays cached
  EXPECT_EQ(evicted, (std::vector<std::uint64_t>{2, 3, 4, 5}));
  EXPECT_EQ(cache.stats().entries, 1u);
  EXPECT_EQ(cache.shrink(SIZE_MAX), 0u);
  EXPECT_TRUE(cache.get(1));
  pinned.reset();
  EXPECT_EQ(cache.shrink(1), 1u);
  EXPECT_EQ(cache.stats().evictions, 5u);
  EXPECT_EQ(cache.stats().pinned_evicted, 0u);
}

}  // namespace
}  // namespace segsim::testing
