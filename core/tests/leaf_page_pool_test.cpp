#include "core/leaf_page_pool.h"
#include "core/tests/allocator_fixture.h"

namespace segsim::testing {
namespace {

class LeafPagePoolTest : public AllocatorTest {
 protected:
  void SetUp() override { make(); }
};

TEST_F(LeafPagePoolTest, CreatesNothingUpFront) {
  LeafPagePool pool(*allocator);
  EXPECT_EQ(allocator->stats().live_slices(), 0u);
  EXPECT_EQ(os.calls(OsCall::Map), 0u);  // seed 001: no pre-allocated pages
  EXPECT_EQ(pool.stats().created, 0u);
}

TEST_F(LeafPagePoolTest, GiveBackReturnsSegmentsAndTheObjectIsReused) {
  LeafPagePool pool(*allocator);
  auto page = pool.borrow(1);
  ASSERT_TRUE(page.ok());
  ASSERT_TRUE(page.value()->set_slot(0, std::vector<std::byte>(10, std::byte{1})).ok());
  EXPECT_EQ(pool.stats().borrowed, 1u);
  EXPECT_EQ(allocator->stats().live_slices(), 1u);
  ASSERT_TRUE(pool.give_back(page.value()).ok());
  EXPECT_EQ(allocator->stats().live_slices(), 0u);
  EXPECT_EQ(pool.stats().idle, 1u);
  auto again = pool.borrow(2);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value(), page.value());  // the idle object, re-armed
  EXPECT_EQ(again.value()->page_id(), 2u);
  EXPECT_TRUE(again.value()->get_slot(0).empty());
  EXPECT_EQ(pool.stats().reused, 1u);
  EXPECT_EQ(pool.stats().created, 1u);
  ASSERT_TRUE(pool.give_back(again.value()).ok());
}

TEST_F(LeafPagePoolTest, GivingBackTwiceOrAForeignPageIsRefused) {
  LeafPagePool pool(*allocator);
  auto page = pool.borrow(1);
  ASSERT_TRUE(page.ok());
  ASSERT_TRUE(pool.give_back(page.value()).ok());
  Status twice = pool.give_back(page.value());
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, Errc::DoubleFree);
  auto foreign = LeafPage::create(*allocator, {}, 3);
  ASSERT_TRUE(foreign.ok());
  EXPECT_FALSE(pool.give_back(foreign.value().get()).ok());
  EXPECT_EQ(allocator->stats().double_frees, 0u);
}

TEST_F(LeafPagePoolTest, ClearAllReturnsEveryLingeringPage) {
  LeafPagePool pool(*allocator);
  std::vector<LeafPage*> pages;
  for (int i = 0; i < 5; ++i) pages.push_back(pool.borrow(static_cast<std::uint64_t>(i)).value());
  ASSERT_TRUE(pool.give_back(pages[0]).ok());
  EXPECT_EQ(allocator->stats().live_slices(), 4u);
  pool.clear_all();
  EXPECT_EQ(allocator->stats().live_slices(), 0u);
  EXPECT_EQ(allocator->stats().double_frees, 0u);
}

TEST_F(LeafPagePoolTest, IdlePagesAreBounded) {
  LeafPagePoolConfig config;
  config.max_idle_pages = 2;
  LeafPagePool pool(*allocator, config);
  std::vector<LeafPage*> pages;
  for (int i = 0; i < 5; ++i) pages.push_back(pool.borrow(static_cast<std::uint64_t>(i)).value());
  for (LeafPage* p : pages) ASSERT_TRUE(pool.give_back(p).ok());
  EXPECT_EQ(pool.stats().idle, 2u);
}

TEST_F(LeafPagePoolTest, AllocationFailureLosesNothing) {
  LeafPagePool pool(*allocator);
  os.fail_nth(OsCall::Map, 1, ENOMEM);
  auto refused = pool.borrow(1);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::OutOfMemory);
  EXPECT_EQ(pool.stats().borrowed, 0u);
  auto page = pool.borrow(1);
  ASSERT_TRUE(page.ok());
  ASSERT_TRUE(pool.give_back(page.value()).ok());
}

}  // namespace
}  // namespace segsim::testing
