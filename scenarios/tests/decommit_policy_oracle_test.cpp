// The decommit-policy oracle (scenarios/oracles/decommit_policy.h): it
// follows the allocator's own calls to the nanosecond without a word, and
// fires on a release that decommits before its next check, on a release at
// its check that does not, and on an emergency that leaves a range released
// in the same nanosecond dirty. On the episode's clock (workloads/manual_clock.h),
// as in the sweeps.
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/large_object_allocator.h"
#include "core/platform/clock.h"
#include "core/pressure_actions.h"
#include "core/units.h"
#include "faults/sim_os.h"
#include "scenarios/oracles/decommit_policy.h"
#include "scenarios/oracles/oracles.h"
#include "scenarios/workloads/manual_clock.h"

namespace segsim::scenarios {
namespace {

constexpr std::size_t kDecommitSlotBytes = 320 * KiB;  // five 64 KiB granules
constexpr std::size_t kDecommitSlots = 5;              // live, released, live, released, live

using DecommitAction = DecommitPolicyModel::Action;

LargeObjectAllocatorConfig decommit_config_of(std::int64_t after_ns, std::int64_t interval_ns) {
  LargeObjectAllocatorConfig config;
  config.span_bytes = kDecommitSlots * kDecommitSlotBytes;
  config.budget_bytes = 16 * MiB;
  config.huge_pages = false;
  config.decommit_after_ns = after_ns;
  config.decommit_check_interval_ns = interval_ns;
  return config;
}

// One span of five objects; the model may be told another config than the allocator's.
struct DecommitRig {
  explicit DecommitRig(const LargeObjectAllocatorConfig& config) : DecommitRig(config, config) {}
  DecommitRig(const LargeObjectAllocatorConfig& config, const LargeObjectAllocatorConfig& modelled) {
    auto made_os = faults::SimOs::create(faults::SimOsConfig{.reservation_bytes = 32 * MiB});
    EXPECT_TRUE(made_os.ok());
    os = std::move(made_os.value());
    auto made = LargeObjectAllocator::create(*os, config);
    EXPECT_TRUE(made.ok());
    large = std::move(made.value());
    oracles = std::make_unique<Oracles>(*os);
    model = std::make_unique<DecommitPolicyModel>(*oracles, modelled);
    actions = std::make_unique<StackPressureActions>(StackPressureTargets{.large = large.get(), .refuse_arenas = {}});
    for (std::size_t i = 0; i < kDecommitSlots; ++i) slots.push_back(allocate());
  }

  LargeObject allocate() {
    Result<LargeObject> got = large->allocate(kDecommitSlotBytes);
    EXPECT_TRUE(got.ok());
    model->allocated(got.value(), true, platform::now_ns(), large->stats());
    return got.value();
  }
  void release(std::size_t slot) {
    EXPECT_TRUE(large->release(slots[slot]).ok());
    model->released(slots[slot], platform::now_ns(), large->stats());
  }
  void decommit(std::int64_t min_idle_ns) {
    const std::size_t returned = large->decommit_idle(min_idle_ns);
    model->decommitted(min_idle_ns, returned, platform::now_ns(), large->stats());
  }
  void act(DecommitAction action) {
    if (action == DecommitAction::Gentle) actions->gentle_eviction();
    if (action == DecommitAction::Aggressive) actions->aggressive_eviction();
    if (action == DecommitAction::Emergency) actions->emergency_cleanup();
    model->acted(action, platform::now_ns(), large->stats());
  }

  ManualClock clock{0, [](const std::string& what) -> void { throw std::logic_error(what); }};
  platform::RuntimeScope on_the_clock{&clock};
  std::unique_ptr<faults::SimOs> os;
  std::unique_ptr<LargeObjectAllocator> large;
  std::unique_ptr<Oracles> oracles;
  std::unique_ptr<DecommitPolicyModel> model;
  std::unique_ptr<StackPressureActions> actions;
  std::vector<LargeObject> slots;
};

TEST(DecommitPolicyOracle, FollowsTheAllocatorsOwnCalls) {
  DecommitRig rig(decommit_config_of(/*after_ns=*/1000, /*interval_ns=*/500));
  rig.release(1);  // t=0: the first release runs a pass (nothing idle 1000 ns yet); next check at 500
  platform::sleep_for_ns(499);
  rig.release(3);  // t=499: before the check
  platform::sleep_for_ns(1);
  rig.decommit(501);  // t=500: slot 1 is idle 500 ns, slot 3 1 ns: nothing
  rig.decommit(500);  // slot 1, exactly
  platform::sleep_for_ns(998);
  rig.act(DecommitAction::Gentle);  // t=1498: slot 3 idle 999 ns: not yet
  platform::sleep_for_ns(1);
  rig.slots[1] = rig.allocate();  // t=1499: slot 1 again (clean: no zeroing)
  rig.release(1);                 // past the check: the pass takes slot 3 (idle exactly 1000 ns), not slot 1
  rig.act(DecommitAction::Emergency);  // slot 1, released this nanosecond
  rig.slots[1] = rig.allocate();  // clean again
  rig.release(1);
  rig.act(DecommitAction::Aggressive);
  EXPECT_EQ(rig.large->stats().decommits, 4u);
  EXPECT_TRUE(rig.large->audit().empty());
}

TEST(DecommitPolicyOracle, FiresOnAReleaseThatDecommitsBeforeItsCheck) {
  // The allocator checks every nanosecond; the model is told once a millisecond.
  DecommitRig rig(decommit_config_of(0, 1), decommit_config_of(0, 1'000'000));
  rig.release(1);  // both: the first release runs a pass, which takes the range just released
  platform::sleep_for_ns(10);
  EXPECT_TRUE(rig.large->release(rig.slots[3]).ok());
  try {
    rig.model->released(rig.slots[3], platform::now_ns(), rig.large->stats());
    ADD_FAILURE() << "a pass before the next check went unseen";
  } catch (const OracleTripped& tripped) {
    EXPECT_NE(std::string(tripped.what()).find("before the next check"), std::string::npos) << tripped.what();
  }
}

TEST(DecommitPolicyOracle, FiresOnAReleaseAtItsCheckThatRunsNoPass) {
  // The allocator never checks by itself; the model is told every 100 ns.
  DecommitRig rig(decommit_config_of(0, 0), decommit_config_of(0, 100));
  EXPECT_TRUE(rig.large->release(rig.slots[1]).ok());
  EXPECT_THROW(rig.model->released(rig.slots[1], platform::now_ns(), rig.large->stats()), OracleTripped);
}

TEST(DecommitPolicyOracle, FiresOnAnEmergencyThatLeavesANewRangeDirty) {
  DecommitRig rig(decommit_config_of(1000, 0));
  rig.release(1);
  (void)rig.large->decommit_idle(1);  // what an emergency asking for 1 ns of idleness does
  try {
    rig.model->acted(DecommitAction::Emergency, platform::now_ns(), rig.large->stats());
    ADD_FAILURE() << "a dirty range after an emergency went unseen";
  } catch (const OracleTripped& tripped) {
    EXPECT_NE(std::string(tripped.what()).find("same nanosecond"), std::string::npos) << tripped.what();
  }
}

TEST(DecommitPolicyOracle, FiresOnADecommitOfARangeNotIdleLongEnough) {
  DecommitRig rig(decommit_config_of(1000, 0));
  rig.release(1);
  platform::sleep_for_ns(5);
  const std::size_t returned = rig.large->decommit_idle(5);  // the range, idle exactly 5 ns
  EXPECT_EQ(returned, kDecommitSlotBytes);
  EXPECT_THROW(rig.model->decommitted(6, returned, platform::now_ns(), rig.large->stats()), OracleTripped);
}

}  // namespace
}  // namespace segsim::scenarios
