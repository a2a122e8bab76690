// Region lifecycle (seed 002): releasing physical memory, the freed-region
// queue and its reuse, proactive async cleanup, unmapping under budget.
#include <cerrno>

#include "core/fault_point.h"
#include "core/segment_allocator_impl.h"  // kCacheGenerationBlock
#include "core/tests/allocator_fixture.h"
#include "core/fault_point_controllers.h"

namespace segsim::testing {
namespace {

class SegmentAllocatorRegions : public AllocatorTest {
 protected:
  void SetUp() override { make(); }

  // Allocates every slice of `regions` fresh 4 KiB-class regions.
  std::vector<Segment> fill_regions(int regions) {
    std::vector<Segment> live;
    for (std::size_t i = 0; i < regions * (256 * KiB / (4 * KiB)); ++i) {
      live.push_back(must_allocate(4 * KiB));
    }
    return live;
  }
};

TEST_F(SegmentAllocatorRegions, FullyReturnedRegionIsReleasedQueuedAndReused) {
  std::vector<Segment> live = fill_regions(1);
  for (const Segment& s : live) fill(s, 0xaa);
  for (const Segment& s : live) ASSERT_TRUE(allocator->release(s).ok());
  const std::uint64_t maps_before = os.calls(OsCall::Map);

  EXPECT_EQ(allocator->release_unused_regions(0), 1u);
  AllocatorStats st = allocator->stats();
  EXPECT_EQ(st.regions_released, 1u);
  EXPECT_EQ(st.classes[0].freed_regions, 1u);
  EXPECT_EQ(st.classes[0].free_slices, 0u);  // out of the pool while queued
  EXPECT_EQ(st.resident_estimate_bytes, 0u);
  EXPECT_EQ(st.virtual_bytes, 256 * KiB);  // virtual kept for reuse
  EXPECT_EQ(os.advise_calls(Advice::DontNeed), 1u);

  Segment reused = must_allocate(4 * KiB);
  EXPECT_EQ(os.calls(OsCall::Map), maps_before);  // no new mmap
  EXPECT_EQ(allocator->stats().regions_reused, 1u);
  EXPECT_TRUE(all_equal(reused, 0));
  // DONTNEED zeroed it: no memset was needed to hand it out.
  EXPECT_EQ(allocator->stats().resets_memset, 0u);
  EXPECT_TRUE(allocator->release(reused).ok());
}

TEST_F(SegmentAllocatorRegions, RegionWithALiveSliceIsNotReleased) {
  std::vector<Segment> live = fill_regions(1);
  for (std::size_t i = 1; i < live.size(); ++i) ASSERT_TRUE(allocator->release(live[i]).ok());
  EXPECT_EQ(allocator->release_unused_regions(0), 0u);
  EXPECT_EQ(allocator->stats().classes[0].freed_regions, 0u);
  EXPECT_TRUE(allocator->release(live[0]).ok());
}

TEST_F(SegmentAllocatorRegions, FailedMadviseKeepsRegionResidentAndNotAssumedZero) {
  std::vector<Segment> live = fill_regions(1);
  for (const Segment& s : live) fill(s, 0x5c);
  for (const Segment& s : live) ASSERT_TRUE(allocator->release(s).ok());
  os.fail_nth(OsCall::Advise, 1, EAGAIN);
  EXPECT_EQ(allocator->release_unused_regions(0), 0u);
  AllocatorStats st = allocator->stats();
  EXPECT_EQ(st.madvise_failures, 1u);
  EXPECT_EQ(st.regions_released, 0u);
  EXPECT_EQ(st.classes[0].freed_regions, 1u);  // queued, but still resident
  EXPECT_EQ(st.resident_estimate_bytes, 256 * KiB);
  Segment reused = must_allocate(4 * KiB);
  EXPECT_TRUE(all_equal(reused, 0));  // zeroed by memset, not assumed
  EXPECT_EQ(allocator->stats().resets_memset, 1u);
  EXPECT_TRUE(allocator->release(reused).ok());
}

TEST_F(SegmentAllocatorRegions, FreeUnusedRegionsUnmapsDownToTheTarget) {
  std::vector<Segment> live;
  for (int i = 0; i < 4; ++i) live.push_back(must_allocate(256 * KiB));
  for (const Segment& s : live) ASSERT_TRUE(allocator->release(s).ok());
  EXPECT_EQ(allocator->release_unused_regions(6), 4u);
  EXPECT_EQ(allocator->free_unused_regions(512 * KiB), 2u);
  EXPECT_EQ(allocator->stats().virtual_bytes, 512 * KiB);
  EXPECT_EQ(allocator->free_unused_regions(0), 2u);
  AllocatorStats st = allocator->stats();
  EXPECT_EQ(st.virtual_bytes, 0u);
  EXPECT_EQ(st.regions_unmapped, 4u);
  // Slots are reused by their class: mapping again grows no table.
  Segment again = must_allocate(256 * KiB);
  EXPECT_TRUE(all_equal(again, 0));
  EXPECT_TRUE(allocator->release(again).ok());
}

TEST_F(SegmentAllocatorRegions, ProactiveCleanupReleasesFullyReturnedRegions) {
  SegmentAllocatorConfig config = small_config();
  config.cleanup_start_free_slices = 4;
  config.cleanup_every_free_slices = 2;
  // Every release straight to the pool, so each one moves the free count
  // (with caches, see SegmentThreadCache.SpillsCrossingTheThreshold...).
  config.thread_cache_bytes = 0;
  make(config);
  std::vector<Segment> live = fill_regions(2);
  // One region fully returned, one release at a time so each trigger finds
  // the guard free: the trigger at 64 free slices must release region 0.
  for (std::size_t i = 0; i < 64; ++i) {
    ASSERT_TRUE(allocator->release(live[i]).ok());
    allocator->wait_for_cleanups();
  }
  AllocatorStats st = allocator->stats();
  EXPECT_EQ(st.classes[0].cleanups_started, 30u);  // free counts 6, 8, ..., 64
  EXPECT_EQ(st.classes[0].cleanups_finished, st.classes[0].cleanups_started);
  EXPECT_EQ(st.regions_released, 1u);
  EXPECT_EQ(st.classes[0].freed_regions, 1u);
  for (std::size_t i = 64; i < live.size(); ++i) ASSERT_TRUE(allocator->release(live[i]).ok());
}

TEST_F(SegmentAllocatorRegions, NoCleanupBelowTheThreshold) {
  std::vector<Segment> live = fill_regions(2);  // 128 free slices << 5000
  for (const Segment& s : live) ASSERT_TRUE(allocator->release(s).ok());
  allocator->wait_for_cleanups();
  EXPECT_EQ(allocator->stats().cleanups_started(), 0u);
  EXPECT_EQ(allocator->stats().classes[0].freed_regions, 0u);
}

TEST_F(SegmentAllocatorRegions, ProactiveCleanupCanBeTurnedOff) {
  SegmentAllocatorConfig config = small_config();
  config.proactive_cleanup = false;
  config.cleanup_start_free_slices = 1;
  config.cleanup_every_free_slices = 1;
  make(config);
  std::vector<Segment> live = fill_regions(1);
  for (const Segment& s : live) ASSERT_TRUE(allocator->release(s).ok());
  allocator->wait_for_cleanups();
  EXPECT_EQ(allocator->stats().cleanups_started(), 0u);
}

TEST_F(SegmentAllocatorRegions, AtMostOneCleanupPerClassAndGuardAlwaysCleared) {
  SegmentAllocatorConfig config = small_config();
  config.cleanup_start_free_slices = 1;
  config.cleanup_every_free_slices = 1;  // every release past 1 free slice triggers
  config.cleanup_queue_capacity = 64;
  make(config);
  os.fail_from(OsCall::Advise, 1, EAGAIN);  // every cleanup's madvise fails
  for (int round = 0; round < 3; ++round) {
    std::vector<Segment> live = fill_regions(1);
    for (const Segment& s : live) ASSERT_TRUE(allocator->release(s).ok());
    allocator->wait_for_cleanups();
  }
  AllocatorStats st = allocator->stats();
  EXPECT_GE(st.classes[0].cleanups_started, 3u);  // the guard was cleared after failures
  EXPECT_EQ(st.classes[0].cleanups_finished, st.classes[0].cleanups_started);
  EXPECT_EQ(st.regions_released, 0u);
  os.clear_failures();
}

// A release of regions whose advise throws (an Os that throws; a simulated
// run cancelled at the advise's scheduling point) loses none: the regions it
// had detached go to the freed queue, resident, and are reused; a proactive
// cleanup that throws so clears its guard and counts as finished.
TEST_F(SegmentAllocatorRegions, AReleaseWhoseAdviseThrowsLosesNoRegion) {
  SegmentAllocatorConfig config = small_config();
  config.thread_cache_bytes = 0;
  config.proactive_cleanup = false;
  make(config);
  std::vector<Segment> live = fill_regions(2);
  for (const Segment& s : live) fill(s, 0xaa);
  for (const Segment& s : live) ASSERT_TRUE(allocator->release(s).ok());
  os.throw_nth(OsCall::Advise, 1);
  EXPECT_THROW(allocator->release_unused_regions(0), ScriptedOs::Thrown);
  AllocatorStats st = allocator->stats();
  EXPECT_EQ(st.classes[0].freed_regions, 2u);
  EXPECT_EQ(st.regions_released, 0u);
  EXPECT_TRUE(allocator->audit().empty()) << allocator->audit().front();
  // Reused without a map, and not assumed zero: the advise never ran, so the
  // allocation zeroes the slice itself.
  const std::uint64_t maps_before = os.calls(OsCall::Map);
  const std::uint64_t memsets_before = allocator->stats().resets_memset;
  Segment reused = must_allocate(4 * KiB);
  EXPECT_EQ(os.calls(OsCall::Map), maps_before);
  EXPECT_EQ(allocator->stats().regions_reused, 1u);
  EXPECT_TRUE(all_equal(reused, 0));
  EXPECT_EQ(allocator->stats().resets_memset, memsets_before + 1);
  ASSERT_TRUE(allocator->release(reused).ok());
}

TEST_F(SegmentAllocatorRegions, ACleanupWhoseAdviseThrowsFinishesAndClearsItsGuard) {
  SegmentAllocatorConfig config = small_config();
  config.thread_cache_bytes = 0;
  config.cleanup_start_free_slices = 0;
  config.cleanup_every_free_slices = 64;  // at 64 free slices: a region's worth
  make(config);
  std::vector<Segment> live = fill_regions(2);
  os.throw_nth(OsCall::Advise, 1);
  for (std::size_t i = 0; i < 64; ++i) ASSERT_TRUE(allocator->release(live[i]).ok());
  allocator->wait_for_cleanups();  // the first cleanup: its advise threw
  for (std::size_t i = 64; i < live.size(); ++i) ASSERT_TRUE(allocator->release(live[i]).ok());
  allocator->wait_for_cleanups();  // the second: the guard was cleared
  const AllocatorStats st = allocator->stats();
  EXPECT_EQ(st.classes[0].cleanups_started, 2u);
  EXPECT_EQ(st.classes[0].cleanups_finished, 2u);
  EXPECT_EQ(os.failures(OsCall::Advise), 1u);
  // The region the first cleanup detached was queued resident; the second
  // released the other.
  EXPECT_EQ(st.classes[0].freed_regions, 2u);
  EXPECT_EQ(st.regions_released, 1u);
}

// The slow-path fault point forces growth even with free slices in the pool:
// legal, and every invariant must still hold.
class FireAlways final : public fault_points::Controller {
 public:
  bool should_fire(std::size_t) override { return true; }
};

TEST_F(SegmentAllocatorRegions, FaultPointsPerturbButNeverCorrupt) {
  FireAlways fire;
  fault_points::ControllerScope scope(&fire);
  std::vector<Segment> live;
  for (int i = 0; i < 40; ++i) live.push_back(must_allocate(64 * KiB));  // slow path: a region each
  AllocatorStats st = allocator->stats();
  EXPECT_EQ(st.classes[4].live_slices, 40u);
  EXPECT_GT(st.regions_mapped, 10u);
  for (const Segment& s : live) ASSERT_TRUE(allocator->release(s).ok());
  EXPECT_TRUE(allocator->audit().empty());
}

// A class's generations wrap from 2^32 - 1 to 1, never to 0 (the mark of a
// free slice); generation.near_wrap starts them just below the wrap — three
// before it on the pool's path, a cache block before it on a cache's — and
// a handle from before the wrap stays stale after it.
TEST_F(SegmentAllocatorRegions, GenerationsWrapPastZeroToOne) {
  fault_points::FireSites near_wrap(fault_points::FireSites::Times::EveryAsk,
                                    {fault_points::id_of("generation.near_wrap")});
  fault_points::ControllerScope scope(&near_wrap);
  SegmentAllocatorConfig config = small_config();
  config.thread_cache_bytes = 0;  // the pool's path
  make(config);
  std::vector<std::uint32_t> generations;
  Segment first;
  for (int i = 0; i < 4; ++i) {
    const Segment s = must_allocate(4 * KiB);
    if (i == 0) first = s;
    generations.push_back(s.generation());
    ASSERT_TRUE(allocator->release(s).ok());
  }
  EXPECT_EQ(generations, (std::vector<std::uint32_t>{UINT32_MAX - 2, UINT32_MAX - 1, UINT32_MAX, 1}));
  const Segment live = must_allocate(4 * KiB);  // the first one's slice again
  ASSERT_EQ(live.data(), first.data());
  Status stale = allocator->release(first);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, Errc::DoubleFree);
  ASSERT_TRUE(allocator->release(live).ok());

  make();  // a thread cache takes blocks of kCacheGenerationBlock
  generations.clear();
  for (std::uint32_t i = 0; i <= detail::kCacheGenerationBlock; ++i) {
    const Segment s = must_allocate(4 * KiB);
    generations.push_back(s.generation());
    ASSERT_TRUE(allocator->release(s).ok());
  }
  EXPECT_EQ(generations.front(), UINT32_MAX - detail::kCacheGenerationBlock);
  EXPECT_EQ(generations[detail::kCacheGenerationBlock - 1], UINT32_MAX - 1);
  EXPECT_EQ(generations.back(), 1u);
  EXPECT_TRUE(allocator->audit().empty());
}

}  // namespace
}  // namespace segsim::testing
