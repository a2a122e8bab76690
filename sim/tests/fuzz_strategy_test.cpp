// The fuzz strategy (sim/fuzz_strategy.cpp): bytes pick a runnable fiber by
// index and how long it keeps the CPU (up to its next yield); past the bytes a seeded stream
// decides; no runnable fiber is passed over more than kFuzzMaxWaitDecisions
// times in a row; a run under the simulator is determined by (bytes, seed).
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "core/platform/atomic.h"
#include "sim/random.h"
#include "sim/strategy.h"
#include "sim/tests/sim_test_util.h"

namespace segsim::sim {
namespace {

// The choices over `steps` decisions with `runnable` always runnable.
std::vector<std::uint32_t> choices(const std::string& bytes, std::uint64_t seed,
                                   const std::vector<std::uint32_t>& runnable, std::uint64_t steps) {
  auto fuzz = make_fuzz_strategy(bytes, seed);
  std::vector<std::uint32_t> chosen;
  std::uint32_t current = kNoFiber;
  for (std::uint64_t step = 1; step <= steps; ++step) {
    current = fuzz->pick(SchedulerView{runnable, current, step}).value();
    chosen.push_back(current);
  }
  return chosen;
}

TEST(Fuzz, ALowByteRunsThatIndexForOneDecisionAHighOneHoldsTheCpu) {
  const std::vector<std::uint32_t> runnable = {3, 7, 9};
  // 0x01: index 1 (fiber 7) once; 0x02: fiber 9 once; 0x20: fiber 3 for 2 decisions;
  // 0x44: index 4 % 3 = 1 (fiber 7) for 4 decisions.
  const std::string bytes = {'\x01', '\x02', '\x20', '\x44'};
  const auto chosen = choices(bytes, 1, runnable, 8);
  const std::vector<std::uint32_t> expected = {7, 9, 3, 3, 7, 7, 7, 7};
  EXPECT_EQ(chosen, expected);
}

TEST(Fuzz, PastTheBytesTheSeedDecidesAndOnlyRunnableFibersRun) {
  const std::vector<std::uint32_t> runnable = {0, 2, 5, 6};
  const auto a = choices("\x01", 5, runnable, 3000);
  EXPECT_EQ(a, choices("\x01", 5, runnable, 3000));
  EXPECT_NE(a, choices("\x01", 6, runnable, 3000));
  for (std::uint32_t fiber : a) EXPECT_TRUE(std::binary_search(runnable.begin(), runnable.end(), fiber));
  for (std::uint32_t fiber : runnable) EXPECT_NE(std::count(a.begin(), a.end(), fiber), 0) << fiber;
}

TEST(Fuzz, ASingleRunnableFiberSpendsNoByte) {
  auto fuzz = make_fuzz_strategy("\x01", 1);
  const std::vector<std::uint32_t> alone = {4}, two = {4, 8};
  EXPECT_EQ(fuzz->pick(SchedulerView{alone, kNoFiber, 1}).value(), 4u);
  EXPECT_EQ(fuzz->pick(SchedulerView{two, 4, 2}).value(), 8u);  // the byte is still there: index 1
}

// A yield marks a window: the holder's hold ends there and the next byte decides.
TEST(Fuzz, AYieldOfTheHolderEndsItsHold) {
  auto fuzz = make_fuzz_strategy(std::string("\xe0\x01", 2), 1);  // index 0 for 128 decisions; index 1
  const std::vector<std::uint32_t> runnable = {0, 1};
  std::vector<PendingOp> pending(2);
  EXPECT_EQ(fuzz->pick(SchedulerView{runnable, kNoFiber, 1, pending}).value(), 0u);
  EXPECT_EQ(fuzz->pick(SchedulerView{runnable, 0, 2, pending}).value(), 0u);  // held
  pending[0].op = TraceOp::Yield;
  EXPECT_EQ(fuzz->pick(SchedulerView{runnable, 0, 3, pending}).value(), 1u);  // the next byte: index 1
}

// Bytes that always pick index 0 and hold for 128 decisions would starve
// fiber 1 forever; the bound makes it run within kFuzzMaxWaitDecisions.
TEST(Fuzz, NoRunnableFiberWaitsLongerThanTheBound) {
  const std::string greedy(4096, '\xe0');  // index 0, hold 128
  const std::vector<std::uint32_t> runnable = {0, 1};
  const auto chosen = choices(greedy, 1, runnable, 20 * kFuzzMaxWaitDecisions);
  std::uint64_t waited = 0, longest = 0, runs_of_1 = 0;
  for (std::uint32_t fiber : chosen) {
    waited = fiber == 1 ? 0 : waited + 1;
    runs_of_1 += fiber == 1 ? 1 : 0;
    longest = std::max(longest, waited);
  }
  EXPECT_EQ(longest, kFuzzMaxWaitDecisions);
  EXPECT_GE(runs_of_1, 19u);
}

TEST(Fuzz, RunsUnderTheSimulatorDeterminedByBytesAndSeed) {
  SimulationConfig config;
  config.strategy = "fuzz";
  config.seed = 3;
  config.fuzz_bytes = std::string("\x01\x00\x21\x41\x00\x01", 6);
  const RunResult first = testing::run_program(config, testing::two_counters);
  const RunResult second = testing::run_program(config, testing::two_counters);
  EXPECT_TRUE(first.passed()) << first.message;
  EXPECT_EQ(first.trace_hash, second.trace_hash);
  EXPECT_EQ(first.decisions, second.decisions);
  config.fuzz_bytes = std::string("\x00\x01\x21\x41\x00\x01", 6);
  EXPECT_NE(testing::run_program(config, testing::two_counters).trace_hash, first.trace_hash);
  EXPECT_TRUE(fair_strategy(StrategyKind::Fuzz));
}

}  // namespace
}  // namespace segsim::sim
