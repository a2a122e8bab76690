// The priority strategies on their own: POS (partial order sampling) picks
// only runnable fibers, is deterministic per seed, re-draws exactly the
// conflicting operations, runs a yielding fiber after every other event, and
// sees each fiber's pending operation; PCT lowers a yielding fiber below the
// undemoted fibers but above change-point ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "core/platform/atomic.h"
#include "core/platform/clock.h"
#include "core/platform/mutex.h"
#include "sim/random.h"
#include "sim/strategy.h"
#include "sim/tests/sim_test_util.h"

namespace segsim::sim {
namespace {

constexpr std::uint32_t kFibers = 8;

// A synthetic scheduling history: at each step a seeded subset of the fibers
// is runnable, each suspended at a seeded operation on one of a few objects.
struct Step {
  std::vector<std::uint32_t> runnable;
  std::vector<PendingOp> pending;  // by fiber id
};

std::vector<Step> synthetic_steps(std::uint64_t seed, int count) {
  static constexpr TraceOp kOps[] = {TraceOp::MutexLock, TraceOp::MutexUnlock, TraceOp::AtomicLoad,
                                     TraceOp::AtomicStore, TraceOp::Yield,     TraceOp::ClockRead};
  Rng rng(seed);
  std::vector<Step> steps(static_cast<std::size_t>(count));
  for (Step& step : steps) {
    for (std::uint32_t fiber = 0; fiber < kFibers; ++fiber) {
      if (rng.chance(0.6)) step.runnable.push_back(fiber);
      const TraceOp op = kOps[rng.below(std::size(kOps))];
      const bool has_object = op != TraceOp::Yield && op != TraceOp::ClockRead;
      step.pending.push_back(PendingOp{op, has_object ? 1 + static_cast<std::uint32_t>(rng.below(3)) : 0});
    }
    if (step.runnable.empty()) step.runnable.push_back(static_cast<std::uint32_t>(rng.below(kFibers)));
  }
  return steps;
}

std::vector<std::uint32_t> pos_choices(std::uint64_t seed, const std::vector<Step>& steps) {
  auto pos = make_pos_strategy(seed);
  std::vector<std::uint32_t> chosen;
  std::uint64_t number = 0;
  for (const Step& step : steps) {
    auto fiber = pos->pick(SchedulerView{step.runnable, kNoFiber, ++number, step.pending});
    chosen.push_back(fiber.value_or(kNoFiber));
  }
  return chosen;
}

TEST(Pos, PicksOnlyRunnableFibers) {
  const auto steps = synthetic_steps(7, 5000);
  const auto chosen = pos_choices(1, steps);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    EXPECT_TRUE(std::binary_search(steps[i].runnable.begin(), steps[i].runnable.end(), chosen[i]))
        << "step " << i << " chose fiber " << chosen[i];
  }
}

TEST(Pos, SameSeedSameChoicesOtherSeedOthers) {
  const auto steps = synthetic_steps(11, 2000);
  EXPECT_EQ(pos_choices(5, steps), pos_choices(5, steps));
  EXPECT_NE(pos_choices(5, steps), pos_choices(6, steps));
}

TEST(Pos, ConflictsAreSameObjectWithAWriteOrAcquire) {
  const PendingOp lock{TraceOp::MutexLock, 3}, unlock{TraceOp::MutexUnlock, 3};
  const PendingOp load{TraceOp::AtomicLoad, 4}, load_again{TraceOp::AtomicLoad, 4};
  const PendingOp store{TraceOp::AtomicStore, 4}, other{TraceOp::AtomicStore, 5};
  const PendingOp yield{TraceOp::Yield, 0};
  EXPECT_TRUE(conflicts(lock, unlock));
  EXPECT_TRUE(conflicts(load, store));
  EXPECT_TRUE(conflicts(store, load));
  EXPECT_FALSE(conflicts(load, load_again));  // two reads commute
  EXPECT_FALSE(conflicts(store, other));       // different objects
  EXPECT_FALSE(conflicts(yield, yield));       // no object
}

// Two fibers whose operations never conflict keep their priorities while the
// other runs: the one that lost keeps losing to a priority higher than its
// own, so runs are long. When every operation conflicts, each decision
// re-draws both priorities: a fair coin per step. The first has far fewer
// switches than the second.
int switches(const PendingOp& a, const PendingOp& b) {
  auto pos = make_pos_strategy(3);
  const std::vector<std::uint32_t> runnable = {0, 1};
  const std::vector<PendingOp> pending = {a, b};
  std::uint32_t last = kNoFiber;
  int count = 0;
  for (std::uint64_t step = 1; step <= 4000; ++step) {
    const std::uint32_t fiber = pos->pick(SchedulerView{runnable, last, step, pending}).value();
    count += last != kNoFiber && fiber != last ? 1 : 0;
    last = fiber;
  }
  return count;
}

TEST(Pos, ConflictingOperationsAreRedrawnIndependentOnesKeepTheirPriority) {
  const int independent = switches({TraceOp::AtomicStore, 1}, {TraceOp::AtomicStore, 2});
  const int conflicting = switches({TraceOp::AtomicStore, 1}, {TraceOp::AtomicStore, 1});
  std::printf("  switches in 4000 steps: independent %d, conflicting %d\n", independent, conflicting);
  EXPECT_GT(conflicting, 1000);  // about 2000: a fresh draw for both at every step
  EXPECT_LT(independent, conflicting / 4);
}

// The simulator hands POS each fiber's pending operation: two fibers that
// touch only their own atomics never conflict, and a run stays deterministic.
TEST(Pos, RunsUnderTheSimulatorDeterministically) {
  SimulationConfig config;
  config.strategy = "pos";
  for (std::uint64_t seed : {1, 2, 42}) {
    config.seed = seed;
    const RunResult first = testing::run_program(config, testing::two_counters);
    const RunResult second = testing::run_program(config, testing::two_counters);
    EXPECT_TRUE(first.passed()) << first.message;
    EXPECT_EQ(first.trace_hash, second.trace_hash);
    EXPECT_EQ(first.decisions, second.decisions);
  }
}

// POS: a yield is a window. The yielding fiber continues only when no other
// runnable fiber has an event pending that is not a yield, whatever the seed;
// yielders among themselves go in a seeded random order.
TEST(Pos, AYieldingFiberRunsAfterEveryOtherEvent) {
  const std::vector<std::uint32_t> runnable = {0, 1, 2};
  const PendingOp yield{TraceOp::Yield, 0};
  const PendingOp store{TraceOp::AtomicStore, 1}, other{TraceOp::AtomicStore, 2};
  bool each_yielder_first[2] = {false, false};
  for (std::uint64_t seed = 1; seed <= 64; ++seed) {
    auto pos = make_pos_strategy(seed);
    // Fiber 0 yields while 1 and 2 have independent events: those run first,
    // each re-drawn after it runs, for as long as they stay runnable.
    const std::vector<PendingOp> events = {yield, store, other};
    for (std::uint64_t step = 1; step <= 20; ++step) {
      EXPECT_NE(pos->pick(SchedulerView{runnable, kNoFiber, step, events}).value(), 0u) << "seed " << seed;
    }
    // Only yields pending: one of the yielders runs.
    const std::vector<PendingOp> yields = {yield, store, yield};
    const std::vector<std::uint32_t> yielders = {0, 2};
    const std::uint32_t first = pos->pick(SchedulerView{yielders, kNoFiber, 21, yields}).value();
    ASSERT_TRUE(first == 0 || first == 2);
    each_yielder_first[first / 2] = true;
  }
  EXPECT_TRUE(each_yielder_first[0] && each_yielder_first[1]);  // the yielders' order is drawn
}

// PCT: a fiber that yields runs after every fiber that has not been demoted.
TEST(Pct, AYieldLowersTheFiberBelowUndemotedFibers) {
  auto pct = make_pct_strategy(9, /*depth=*/1, /*estimated_steps=*/100);
  for (std::uint32_t fiber = 0; fiber < 3; ++fiber) pct->on_spawn(fiber);
  const std::vector<std::uint32_t> runnable = {0, 1, 2};
  std::vector<PendingOp> pending(3, PendingOp{TraceOp::AtomicStore, 1});
  const std::uint32_t top = pct->pick(SchedulerView{runnable, kNoFiber, 1, pending}).value();
  EXPECT_EQ(pct->pick(SchedulerView{runnable, top, 2, pending}).value(), top);  // no yield: keeps running
  pending[top] = PendingOp{TraceOp::Yield, 0};
  const std::uint32_t next = pct->pick(SchedulerView{runnable, top, 3, pending}).value();
  EXPECT_NE(next, top);
  pending[top] = PendingOp{TraceOp::AtomicStore, 1};
  pending[next] = PendingOp{TraceOp::Yield, 0};
  const std::uint32_t third = pct->pick(SchedulerView{runnable, next, 4, pending}).value();
  EXPECT_NE(third, top);  // the earlier yielder stays above the later one
  EXPECT_NE(third, next);
  pending[third] = PendingOp{TraceOp::Yield, 0};
  EXPECT_EQ(pct->pick(SchedulerView{runnable, third, 5, pending}).value(), top);
}

}  // namespace
}  // namespace segsim::sim
