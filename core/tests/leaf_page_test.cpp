// LeafPage: slots and DeweyIDs over allocator segments, shared-segment resize,
// and the return / clear / reuse lifecycle of seed 001.
#include <atomic>
#include <cerrno>
#include <thread>
#include <vector>

#include "core/asan.h"
#include "core/leaf_page.h"
#include "core/tests/allocator_fixture.h"

namespace segsim::testing {
namespace {

std::vector<std::byte> bytes_of(std::size_t n, unsigned char fill) {
  return std::vector<std::byte>(n, std::byte{fill});
}
bool equals(std::span<const std::byte> got, std::size_t n, unsigned char fill) {
  if (got.size() != n) return false;
  for (std::byte b : got) {
    if (b != std::byte{fill}) return false;
  }
  return true;
}

class LeafPageTest : public AllocatorTest {
 protected:
  void SetUp() override { make(); }
  std::unique_ptr<LeafPage> page(LeafPageConfig config = {}) {
    auto created = LeafPage::create(*allocator, config, 7);
    EXPECT_TRUE(created.ok());
    return created.ok() ? std::move(created.value()) : nullptr;
  }
};

TEST_F(LeafPageTest, SlotsReadBackAndUnsetSlotsAreEmpty) {
  auto p = page();
  ASSERT_TRUE(p->set_slot(3, bytes_of(10, 0xa1)).ok());
  ASSERT_TRUE(p->set_slot(0, bytes_of(1, 0xb2)).ok());
  EXPECT_TRUE(equals(p->get_slot(3), 10, 0xa1));
  EXPECT_TRUE(equals(p->get_slot(0), 1, 0xb2));
  EXPECT_TRUE(p->get_slot(1).empty());
  EXPECT_TRUE(p->get_slot(100000).empty());
  ASSERT_TRUE(p->set_slot(3, bytes_of(4, 0xc3)).ok());  // overwrite
  EXPECT_TRUE(equals(p->get_slot(3), 4, 0xc3));
  EXPECT_EQ(p->page_id(), 7u);
}

TEST_F(LeafPageTest, BadWritesAreRefused) {
  auto p = page();
  auto out_of_range = p->set_slot(p->slot_count(), bytes_of(1, 1));
  ASSERT_FALSE(out_of_range.ok());
  EXPECT_EQ(out_of_range.error().code, Errc::SlotOutOfRange);
  auto too_big = p->set_slot(0, bytes_of(64 * KiB + 1, 1));
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().code, Errc::ValueTooLarge);
  // A refused first DeweyID leaves the page sharing its one segment.
  auto dewey_out_of_range = p->set_dewey_id(p->slot_count(), bytes_of(4, 1));
  ASSERT_FALSE(dewey_out_of_range.ok());
  EXPECT_EQ(dewey_out_of_range.error().code, Errc::SlotOutOfRange);
  EXPECT_TRUE(p->dewey_ids_shared());
  EXPECT_FALSE(LeafPage::create(*allocator, LeafPageConfig{0, 4096, 4096}, 1).ok());
}

TEST_F(LeafPageTest, SharedSegmentResizeMovesBothReferencesAndReleasesOnce) {
  auto p = page();
  ASSERT_TRUE(p->dewey_ids_shared());
  const Segment before = p->slot_segment();
  for (std::size_t i = 0; i < 10; ++i) ASSERT_TRUE(p->set_slot(i, bytes_of(1000, static_cast<unsigned char>(i))).ok());
  const Segment after = p->slot_segment();
  EXPECT_NE(after, before);
  EXPECT_GE(after.size(), 16 * KiB);
  EXPECT_EQ(p->dewey_segment(), after);  // both references moved (seed 001)
  EXPECT_TRUE(p->dewey_ids_shared());
  for (std::size_t i = 0; i < 10; ++i) EXPECT_TRUE(equals(p->get_slot(i), 1000, static_cast<unsigned char>(i)));
  EXPECT_EQ(allocator->stats().live_slices(), 1u);  // the old one was released
  Status stale = allocator->release(before);        // ...exactly once
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, Errc::DoubleFree);
  EXPECT_EQ(allocator->stats().double_frees, 1u);
  ASSERT_TRUE(p->return_segments().ok());
  EXPECT_EQ(allocator->stats().live_slices(), 0u);
  EXPECT_EQ(allocator->stats().double_frees, 1u);  // only our deliberate probe
}

TEST_F(LeafPageTest, FirstDeweyIdUnsharesAndEachAreaGrowsAlone) {
  auto p = page();
  ASSERT_TRUE(p->set_slot(0, bytes_of(100, 1)).ok());
  ASSERT_TRUE(p->set_dewey_id(0, bytes_of(8, 2)).ok());
  EXPECT_FALSE(p->dewey_ids_shared());
  EXPECT_EQ(allocator->stats().live_slices(), 2u);
  const Segment slots = p->slot_segment();
  for (std::size_t i = 1; i < 12; ++i) ASSERT_TRUE(p->set_dewey_id(i, bytes_of(1000, 3)).ok());
  EXPECT_EQ(p->slot_segment(), slots);  // only the DeweyID memory moved
  EXPECT_TRUE(equals(p->get_dewey_id(0), 8, 2));
  EXPECT_TRUE(equals(p->get_slot(0), 100, 1));
  EXPECT_EQ(allocator->stats().live_slices(), 2u);
  ASSERT_TRUE(p->return_segments().ok());
  EXPECT_EQ(allocator->stats().live_slices(), 0u);
}

TEST_F(LeafPageTest, GrowthPastTheLargestClassFailsAndChangesNothing) {
  auto p = page();
  for (std::size_t i = 0; i < 4; ++i) ASSERT_TRUE(p->set_slot(i, bytes_of(64 * KiB, 9)).ok());
  const Segment full = p->slot_segment();
  EXPECT_EQ(full.size(), 256 * KiB);
  auto refused = p->set_slot(4, bytes_of(1, 1));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::PageFull);
  EXPECT_EQ(p->slot_segment(), full);
  EXPECT_TRUE(p->get_slot(4).empty());
  EXPECT_TRUE(equals(p->get_slot(3), 64 * KiB, 9));
}

TEST_F(LeafPageTest, OverwritesAreCompactedWhenGrowing) {
  auto p = page();
  // Rewriting one slot many times must not grow the page past what is live.
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(p->set_slot(0, bytes_of(3000, static_cast<unsigned char>(i))).ok());
  EXPECT_LE(p->slot_segment().size(), 8 * KiB);
  EXPECT_TRUE(equals(p->get_slot(0), 3000, 99));
}

TEST_F(LeafPageTest, FailedGrowthLeavesThePageUnchanged) {
  auto p = page();
  ASSERT_TRUE(p->set_slot(0, bytes_of(4000, 5)).ok());
  os.fail_from(OsCall::Map, 1, ENOMEM);  // the 8 KiB class has no region yet
  auto refused = p->set_slot(1, bytes_of(1000, 6));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::OutOfMemory);
  EXPECT_TRUE(equals(p->get_slot(0), 4000, 5));
  EXPECT_TRUE(p->get_slot(1).empty());
  os.clear_failures();
  ASSERT_TRUE(p->set_slot(1, bytes_of(1000, 6)).ok());
}

TEST_F(LeafPageTest, ReturnIsIdempotent) {
  auto p = page();
  ASSERT_TRUE(p->set_dewey_id(0, bytes_of(4, 4)).ok());
  ASSERT_TRUE(p->return_segments().ok());
  ASSERT_TRUE(p->return_segments().ok());
  EXPECT_TRUE(p->segments_returned());
  EXPECT_EQ(allocator->stats().live_slices(), 0u);
  EXPECT_EQ(allocator->stats().double_frees, 0u);
  EXPECT_FALSE(p->set_slot(0, bytes_of(1, 1)).ok());  // no writes into returned memory
}

TEST_F(LeafPageTest, ConcurrentReturnsReleaseExactlyOnce) {
  for (int round = 0; round < 50; ++round) {
    auto p = page();
    ASSERT_TRUE(p->set_dewey_id(0, bytes_of(4, 4)).ok());
    std::atomic<int> failed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&] { failed += p->return_segments().ok() ? 0 : 1; });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failed.load(), 0);
  }
  EXPECT_EQ(allocator->stats().live_slices(), 0u);
  EXPECT_EQ(allocator->stats().double_frees, 0u);
}

TEST_F(LeafPageTest, ClearAfterReturnTouchesNothing) {
  // Seed 001's SIGSEGV: clear() zeroed segments already returned — and by then
  // handed to another page. Under ASan a touch of the returned (poisoned)
  // slice would abort this test; everywhere the new owner's bytes must survive.
  auto p = page();
  ASSERT_TRUE(p->set_slot(0, bytes_of(100, 1)).ok());
  const Segment returned = p->slot_segment();
  ASSERT_TRUE(p->return_segments().ok());
  if (asan::kEnabled) p->clear();  // poisoned memory: any touch is reported
  Segment new_owner = must_allocate(returned.size());
  ASSERT_EQ(new_owner.data(), returned.data());
  fill(new_owner, 0x77);
  p->clear();
  EXPECT_TRUE(all_equal(new_owner, 0x77));
  EXPECT_TRUE(allocator->release(new_owner).ok());
}

TEST_F(LeafPageTest, ResetForReuseAfterReturnAllocatesFreshAndRearms) {
  auto p = page();
  ASSERT_TRUE(p->set_slot(5, bytes_of(10, 5)).ok());
  ASSERT_TRUE(p->return_segments().ok());
  ASSERT_TRUE(p->reset_for_reuse(99).ok());
  EXPECT_FALSE(p->segments_returned());
  EXPECT_EQ(p->page_id(), 99u);
  EXPECT_TRUE(p->get_slot(5).empty());
  EXPECT_TRUE(p->dewey_ids_shared());
  EXPECT_EQ(allocator->stats().live_slices(), 1u);
  ASSERT_TRUE(p->return_segments().ok());  // re-armed: a real return again
  EXPECT_EQ(allocator->stats().live_slices(), 0u);
}

TEST_F(LeafPageTest, ResetForReuseWithoutReturnZeroesHeldMemory) {
  auto p = page();
  ASSERT_TRUE(p->set_slot(0, bytes_of(4096, 0xee)).ok());
  const Segment held = p->slot_segment();
  ASSERT_TRUE(p->reset_for_reuse(8).ok());
  EXPECT_EQ(p->slot_segment(), held);
  EXPECT_TRUE(all_equal(held, 0));
  EXPECT_TRUE(p->get_slot(0).empty());
}

TEST_F(LeafPageTest, DestructorReturnsHeldSegments) {
  {
    auto p = page();
    ASSERT_TRUE(p->set_dewey_id(1, bytes_of(3, 3)).ok());
    EXPECT_EQ(allocator->stats().live_slices(), 2u);
  }
  EXPECT_EQ(allocator->stats().live_slices(), 0u);
}

}  // namespace
}  // namespace segsim::testing
