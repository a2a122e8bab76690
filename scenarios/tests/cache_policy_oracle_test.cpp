// The cache-policy oracle (scenarios/oracles/cache_policy.h): it follows the
// allocator's own calls on one fiber without a word, and fires on a cache
// that declined a release it had room for, or a hit that is not the slice
// cached last. Under a simulation, as in the sweeps (in production a growth
// also empties the caller's whole cache).
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "core/segment_allocator.h"
#include "core/size_class.h"
#include "faults/sim_os.h"
#include "scenarios/oracles/cache_policy.h"
#include "scenarios/oracles/oracles.h"
#include "scenarios/tests/on_a_fiber.h"

namespace segsim::scenarios {
namespace {

struct Rig {
  Rig() {
    auto made_os = faults::SimOs::create(faults::SimOsConfig{.reservation_bytes = std::size_t{64} << 20});
    EXPECT_TRUE(made_os.ok());
    os = std::move(made_os.value());
    config.region_bytes = std::size_t{256} << 10;
    config.budget_bytes = std::size_t{16} << 20;
    config.proactive_cleanup = false;
    config.thread_cache_bytes = 4 * kSmallestClassBytes;  // four 4 KiB slices, two 8 KiB ones
    config.thread_caches_max_bytes = std::size_t{256} << 10;
    auto made = SegmentAllocator::create(*os, config);
    EXPECT_TRUE(made.ok());
    allocator = std::move(made.value());
    oracles = std::make_unique<Oracles>(*os);
    model = std::make_unique<CachePolicyModel>(*oracles, config);
  }
  Segment allocate(std::size_t bytes) {
    Result<Segment> got = allocator->allocate(bytes);
    EXPECT_TRUE(got.ok());
    model->allocated(class_of(bytes), got.value(), allocator->stats());
    return got.value();
  }
  void release(const Segment& segment) {
    EXPECT_TRUE(allocator->release(segment).ok());
    model->released(segment, false, allocator->stats());
  }

  std::unique_ptr<faults::SimOs> os;
  SegmentAllocatorConfig config;
  std::unique_ptr<SegmentAllocator> allocator;
  std::unique_ptr<Oracles> oracles;
  std::unique_ptr<CachePolicyModel> model;
};

TEST(CachePolicyOracle, FollowsTheAllocatorsOwnCalls) {
  on_a_fiber([] {
    Rig rig;
    std::vector<Segment> held;
    for (int i = 0; i < 7; ++i) held.push_back(rig.allocate(kSmallestClassBytes));
    held.push_back(rig.allocate(2 * kSmallestClassBytes));
    for (const Segment& segment : held) rig.release(segment);  // past the 4 KiB capacity: a spill
    held.clear();
    for (int i = 0; i < 3; ++i) held.push_back(rig.allocate(kSmallestClassBytes));  // hits, the last cached first
    rig.allocator->flush_thread_cache();
    rig.model->flushed(rig.allocator->stats());
    for (const Segment& segment : held) rig.release(segment);
    const AllocatorStats before = rig.allocator->stats();
    (void)rig.allocator->free_unused_regions(0);
    rig.model->reclaimed(true, before, rig.allocator->stats());
  });
}

TEST(CachePolicyOracle, FiresOnACacheThatDeclinedAReleaseItHadRoomFor) {
  on_a_fiber([] {
    Rig rig;
    const Segment segment = rig.allocate(kSmallestClassBytes);
    const AllocatorStats before_release = rig.allocator->stats();
    ASSERT_TRUE(rig.allocator->release(segment).ok());
    // As if the slice had gone to the pool: the class cache still empty.
    EXPECT_THROW(rig.model->released(segment, false, before_release), OracleTripped);
  });
}

TEST(CachePolicyOracle, FiresOnAHitThatIsNotTheSliceCachedLast) {
  on_a_fiber([] {
    Rig rig;
    const Segment first = rig.allocate(kSmallestClassBytes);
    const Segment second = rig.allocate(kSmallestClassBytes);
    rig.release(first);
    rig.release(second);
    Result<Segment> got = rig.allocator->allocate(kSmallestClassBytes);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->slice_index(), second.slice_index());
    EXPECT_THROW(rig.model->allocated(0, first, rig.allocator->stats()), OracleTripped);  // named the older one
  });
}

}  // namespace
}  // namespace segsim::scenarios
