// The magazine-policy oracle (scenarios/oracles/magazine_policy.h): it follows
// a SlabAllocator's own calls on one fiber without a word — fast paths,
// exchanges, the depot, the capacity adapting both ways — and fires on a
// magazine layer that went to the depot when its magazines could serve, or
// adapted its capacity to another count.
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "core/slab_allocator.h"
#include "faults/sim_os.h"
#include "scenarios/oracles/magazine_policy.h"
#include "scenarios/oracles/oracles.h"
#include "scenarios/tests/on_a_fiber.h"

namespace segsim::scenarios {
namespace {

constexpr std::size_t kObjectBytes = 64;  // slab class 0 or 1: its class is what counts

struct MagazineRig {
  explicit MagazineRig(std::uint32_t capacity, bool adaptive) {
    auto made_os = faults::SimOs::create(faults::SimOsConfig{.reservation_bytes = std::size_t{64} << 20});
    EXPECT_TRUE(made_os.ok());
    os = std::move(made_os.value());
    SegmentAllocatorConfig segment_config;
    segment_config.budget_bytes = std::size_t{32} << 20;
    segment_config.proactive_cleanup = false;
    auto made_segments = SegmentAllocator::create(*os, segment_config);
    EXPECT_TRUE(made_segments.ok());
    segments = std::move(made_segments.value());
    config.magazine_capacity.fill(capacity);
    config.adaptive_magazines = adaptive;
    config.depot_full_magazines_max = 1;
    auto made = SlabAllocator::create(*segments, config);
    EXPECT_TRUE(made.ok());
    slab = std::move(made.value());
    oracles = std::make_unique<Oracles>(*os);
    model = std::make_unique<MagazinePolicyModel>(*oracles, config);
  }
  int size_class() const { return slab_class_of(kObjectBytes); }
  SlabObject allocate() {
    Result<SlabObject> got = slab->allocate(kObjectBytes);
    EXPECT_TRUE(got.ok());
    model->allocated(size_class(), got.value(), slab->stats());
    return got.value();
  }
  void free(const SlabObject& object) {
    EXPECT_TRUE(slab->free(object).ok());
    model->freed(size_class(), object.data(), slab->stats());
  }
  // `n` objects out and back, newest first: about 2n / capacity exchanges.
  void burst(std::size_t n) {
    std::vector<SlabObject> held;
    for (std::size_t k = 0; k < n; ++k) held.push_back(allocate());
    while (!held.empty()) {
      free(held.back());
      held.pop_back();
    }
  }

  std::unique_ptr<faults::SimOs> os;
  std::unique_ptr<SegmentAllocator> segments;
  SlabAllocatorConfig config;
  std::unique_ptr<SlabAllocator> slab;
  std::unique_ptr<Oracles> oracles;
  std::unique_ptr<MagazinePolicyModel> model;
};

TEST(MagazinePolicyOracle, FollowsTheAllocatorsOwnCallsAsTheCapacityGrowsAndShrinks) {
  on_a_fiber([] {
    MagazineRig rig(4, true);
    for (int k = 0; k < 20; ++k) rig.burst(9);  // hot: an exchange every few operations
    EXPECT_GT(rig.slab->stats().classes[rig.size_class()].magazine_capacity, 4u);
    for (int round = 0; round < 40; ++round) {  // cold: many operations per exchange
      for (int k = 0; k < 200; ++k) rig.free(rig.allocate());
      rig.burst(2 * rig.model->capacity(rig.size_class()) + 1);
    }
    EXPECT_LT(rig.slab->stats().classes[rig.size_class()].magazine_capacity, 8u);
    rig.slab->flush_thread_cache();
    rig.model->flushed(rig.slab->stats());
    rig.burst(5);
  });
}

TEST(MagazinePolicyOracle, FiresOnAnExchangeTheMagazinesCouldHaveSpared) {
  on_a_fiber([] {
    MagazineRig rig(4, false);
    const SlabObject object = rig.allocate();  // the first refill: one exchange
    ASSERT_TRUE(rig.slab->free(object).ok());
    SlabStats seen = rig.slab->stats();
    seen.classes[static_cast<std::size_t>(rig.size_class())].depot_exchanges += 1;  // as if the free went to the depot
    EXPECT_THROW(rig.model->freed(rig.size_class(), object.data(), seen), OracleTripped);
  });
}

TEST(MagazinePolicyOracle, FiresOnACapacityAdaptedToAnotherCount) {
  on_a_fiber([] {
    MagazineRig rig(4, true);
    const std::size_t c = static_cast<std::size_t>(rig.size_class());
    // Fifteen exchanges of a hot class: the sixteenth decides.
    while (rig.slab->stats().classes[c].depot_exchanges < 15) rig.burst(9);
    std::vector<SlabObject> held;
    for (;;) {
      Result<SlabObject> got = rig.slab->allocate(kObjectBytes);
      ASSERT_TRUE(got.ok());
      SlabStats seen = rig.slab->stats();
      if (seen.classes[c].depot_exchanges == 16) {
        seen.classes[c].magazine_capacity = 4;  // as if the window had not counted as hot
        EXPECT_THROW(rig.model->allocated(rig.size_class(), got.value(), seen), OracleTripped);
        return;
      }
      rig.model->allocated(rig.size_class(), got.value(), seen);
      held.push_back(got.value());
    }
  });
}

}  // namespace
}  // namespace segsim::scenarios
