// SegmentAllocator error paths: every refusal is a clear error and leaves the
// allocator exactly as it was.
#include <cerrno>

#include "core/asan.h"
#include "core/tests/allocator_fixture.h"

namespace segsim::testing {
namespace {

class SegmentAllocatorErrors : public AllocatorTest {
 protected:
  void SetUp() override { make(); }

  // Everything stats() reports that a refused call must not change.
  static auto fingerprint(const AllocatorStats& s) {
    std::vector<std::size_t> f{s.virtual_bytes, s.resident_estimate_bytes,
                               static_cast<std::size_t>(s.regions_mapped),
                               static_cast<std::size_t>(s.regions_unmapped)};
    for (const auto& c : s.classes) {
      f.insert(f.end(), {c.live_slices, c.free_slices, c.active_regions, c.freed_regions});
    }
    return f;
  }
};

TEST_F(SegmentAllocatorErrors, DoubleReleaseIsRefusedAndChangesNothing) {
  Segment s = must_allocate(64 * KiB);
  ASSERT_TRUE(allocator->release(s).ok());
  const auto before = fingerprint(allocator->stats());
  Status again = allocator->release(s);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::DoubleFree);
  EXPECT_EQ(again.error().address, reinterpret_cast<std::uintptr_t>(s.data()));
  EXPECT_EQ(again.error().size_class, 4);
  EXPECT_EQ(again.error().generation, s.generation());
  EXPECT_EQ(again.error().live_generation, 0u);
  EXPECT_EQ(fingerprint(allocator->stats()), before);
  EXPECT_EQ(allocator->stats().double_frees, 1u);
}

TEST_F(SegmentAllocatorErrors, StaleHandleCannotFreeTheSlicesNewOwner) {
  // Seed 001's crash: a page releases (or clears) a segment that was already
  // returned and handed to someone else.
  Segment old_handle = must_allocate(4 * KiB);
  ASSERT_TRUE(allocator->release(old_handle).ok());
  Segment new_owner = must_allocate(4 * KiB);
  ASSERT_EQ(new_owner.data(), old_handle.data());
  fill(new_owner, 0x42);
  Status stale = allocator->release(old_handle);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, Errc::DoubleFree);
  EXPECT_EQ(stale.error().live_generation, new_owner.generation());
  Status stale_reset = allocator->reset(old_handle);
  ASSERT_FALSE(stale_reset.ok());
  EXPECT_EQ(stale_reset.error().code, Errc::DoubleFree);
  EXPECT_TRUE(all_equal(new_owner, 0x42));  // the new owner's bytes are untouched
  EXPECT_TRUE(allocator->release(new_owner).ok());
}

TEST_F(SegmentAllocatorErrors, NullAndForeignHandlesAreInvalidPointers) {
  Status null_release = allocator->release(Segment{});
  ASSERT_FALSE(null_release.ok());
  EXPECT_EQ(null_release.error().code, Errc::InvalidPointer);
  EXPECT_FALSE(allocator->reset(Segment{}).ok());

  // A handle from another allocator names a region id this one may also have.
  ScriptedOs other_os;
  auto other = SegmentAllocator::create(other_os, small_config());
  ASSERT_TRUE(other.ok());
  Segment mine = must_allocate(4 * KiB);
  auto theirs = other.value()->allocate(4 * KiB);
  ASSERT_TRUE(theirs.ok());
  const auto before = fingerprint(allocator->stats());
  Status foreign = allocator->release(theirs.value());
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().code, Errc::InvalidPointer);
  EXPECT_EQ(fingerprint(allocator->stats()), before);
  EXPECT_TRUE(other.value()->release(theirs.value()).ok());
  EXPECT_TRUE(allocator->release(mine).ok());
  EXPECT_GE(allocator->stats().invalid_pointers, 2u);
}

TEST_F(SegmentAllocatorErrors, HandleToAnUnmappedRegionIsADoubleFree) {
  Segment s = must_allocate(256 * KiB);
  ASSERT_TRUE(allocator->release(s).ok());
  ASSERT_EQ(allocator->free_unused_regions(0), 1u);
  Status stale = allocator->release(s);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, Errc::DoubleFree);
}

// Found by the property suite: the region is mapped again, at another address,
// between the release and the stale release.
TEST_F(SegmentAllocatorErrors, HandleToARemappedRegionIsADoubleFree) {
  Segment small = must_allocate(1);
  Segment big = must_allocate(256 * KiB);
  ASSERT_TRUE(allocator->release(big).ok());
  ASSERT_TRUE(allocator->release(small).ok());
  ASSERT_EQ(allocator->free_unused_regions(0), 2u);
  Segment blocker = must_allocate(4 * KiB);  // may take the old address of `big`'s region
  Segment again = must_allocate(256 * KiB);  // big's slot, mapped anew
  EXPECT_EQ(again.region_id(), big.region_id());
  for (const Segment* stale : {&big, &small}) {
    Status released = allocator->release(*stale);
    ASSERT_FALSE(released.ok());
    EXPECT_EQ(released.error().code, Errc::DoubleFree) << released.error().describe();
    Status reset = allocator->reset(*stale);
    ASSERT_FALSE(reset.ok());
    EXPECT_EQ(reset.error().code, Errc::DoubleFree) << reset.error().describe();
  }
  EXPECT_TRUE(allocator->release(again).ok());
  EXPECT_TRUE(allocator->release(blocker).ok());
}

TEST_F(SegmentAllocatorErrors, MmapFailureIsOutOfMemoryAndChangesNothing) {
  Segment keep = must_allocate(8 * KiB);
  const auto before = fingerprint(allocator->stats());
  os.fail_nth(OsCall::Map, 1, ENOMEM);
  auto failed = allocator->allocate(64 * KiB);  // needs a new region
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, Errc::OutOfMemory);
  EXPECT_EQ(failed.error().os_errno, ENOMEM);
  EXPECT_EQ(fingerprint(allocator->stats()), before);
  EXPECT_EQ(allocator->stats().map_failures, 1u);
  EXPECT_TRUE(allocator->audit().empty());
  Segment after = must_allocate(64 * KiB);  // the failure was transient
  EXPECT_TRUE(all_equal(after, 0));
  EXPECT_TRUE(allocator->release(after).ok());
  EXPECT_TRUE(allocator->release(keep).ok());
}

TEST_F(SegmentAllocatorErrors, OverBudgetIsOutOfBudgetAndChangesNothing) {
  std::vector<Segment> live;
  for (int i = 0; i < 16; ++i) live.push_back(must_allocate(256 * KiB));  // 16 x 256 KiB = budget
  const auto before = fingerprint(allocator->stats());
  auto refused = allocator->allocate(4 * KiB);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::OutOfBudget);
  EXPECT_EQ(fingerprint(allocator->stats()), before);
  EXPECT_EQ(allocator->stats().virtual_bytes, 4 * MiB);
  for (const Segment& s : live) EXPECT_TRUE(allocator->release(s).ok());
}

TEST_F(SegmentAllocatorErrors, BudgetPressureUnmapsAnotherClassesFreeRegions) {
  std::vector<Segment> live;
  for (int i = 0; i < 16; ++i) live.push_back(must_allocate(256 * KiB));
  ASSERT_TRUE(allocator->release(live.back()).ok());
  live.pop_back();
  Segment small = must_allocate(4 * KiB);  // budget full: must unmap the free 256 KiB region
  AllocatorStats s = allocator->stats();
  EXPECT_EQ(s.regions_unmapped, 1u);
  EXPECT_EQ(s.virtual_bytes, 4 * MiB);
  EXPECT_LE(s.peak_virtual_bytes, s.budget_bytes);
  EXPECT_TRUE(allocator->release(small).ok());
  for (const Segment& seg : live) EXPECT_TRUE(allocator->release(seg).ok());
}

TEST_F(SegmentAllocatorErrors, FailedMadviseInResetFallsBackToMemset) {
  SegmentAllocatorConfig config = small_config();
  config.reset_madvise_min_bytes = 4 * KiB;
  make(config);
  Segment s = must_allocate(128 * KiB);
  fill(s, 0x99);
  os.fail_nth(OsCall::Advise, 1, EAGAIN);
  ASSERT_TRUE(allocator->reset(s).ok());
  EXPECT_TRUE(all_equal(s, 0));  // still zero
  AllocatorStats st = allocator->stats();
  EXPECT_EQ(st.madvise_failures, 1u);
  EXPECT_EQ(st.resets_memset, 1u);
  EXPECT_EQ(st.resets_madvise, 0u);
  EXPECT_TRUE(allocator->release(s).ok());
}

TEST_F(SegmentAllocatorErrors, FailedMadviseWhenZeroingOnAllocateFallsBackToMemset) {
  SegmentAllocatorConfig config = small_config();
  config.reset_madvise_min_bytes = 4 * KiB;
  make(config);
  Segment s = must_allocate(16 * KiB);
  fill(s, 0x31);
  ASSERT_TRUE(allocator->release(s).ok());
  os.fail_from(OsCall::Advise, 1, EINVAL);
  Segment again = must_allocate(16 * KiB);
  EXPECT_TRUE(all_equal(again, 0));
  EXPECT_EQ(allocator->stats().madvise_failures, 1u);
  os.clear_failures();
  EXPECT_TRUE(allocator->release(again).ok());
}

TEST_F(SegmentAllocatorErrors, FailedMunmapKeepsTheRegionUsable) {
  Segment s = must_allocate(256 * KiB);
  fill(s, 0x10);
  ASSERT_TRUE(allocator->release(s).ok());
  os.fail_nth(OsCall::Unmap, 1, ENOMEM);
  EXPECT_EQ(allocator->free_unused_regions(0), 0u);
  AllocatorStats st = allocator->stats();
  EXPECT_EQ(st.unmap_failures, 1u);
  EXPECT_EQ(st.virtual_bytes, 256 * KiB);
  EXPECT_EQ(st.classes[6].freed_regions, 1u);
  Segment again = must_allocate(256 * KiB);  // reuses the kept region
  EXPECT_EQ(again.data(), s.data());
  EXPECT_TRUE(all_equal(again, 0));  // it was never DONTNEED'ed: zeroed by memset
  EXPECT_TRUE(allocator->release(again).ok());
}

TEST_F(SegmentAllocatorErrors, ReleasedSlicesArePoisonedUnderAsan) {
  if (!asan::kEnabled) GTEST_SKIP() << "needs the asan preset";
  Segment s = must_allocate(4 * KiB);
  EXPECT_FALSE(asan::is_poisoned(s.data()));
  ASSERT_TRUE(allocator->release(s).ok());
  EXPECT_TRUE(asan::is_poisoned(s.data()));
  EXPECT_TRUE(asan::is_poisoned(s.data() + 4 * KiB - 1));
  Segment again = must_allocate(4 * KiB);
  EXPECT_FALSE(asan::is_poisoned(again.data()));
  EXPECT_TRUE(allocator->release(again).ok());
}

using SegmentAllocatorDeathTest = SegmentAllocatorErrors;

TEST_F(SegmentAllocatorDeathTest, UseAfterReleaseIsReportedByAsan) {
  if (!asan::kEnabled) GTEST_SKIP() << "needs the asan preset";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Segment s = must_allocate(4 * KiB);
  ASSERT_TRUE(allocator->release(s).ok());
  EXPECT_DEATH({ s.data()[100] = std::byte{1}; }, "use-after-poison");
}

}  // namespace
}  // namespace segsim::testing
