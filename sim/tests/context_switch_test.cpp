// The simulator's own context switch (sim/context_switch.h): a fresh context
// gets its argument, values live in callee-saved registers survive switches
// both ways, and a fiber that changes the floating-point control state —
// which the switch leaves shared — is reported, not silently leaked.
#include <gtest/gtest.h>

#include <cfenv>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/context_switch.h"
#include "sim/simulation.h"

namespace segsim::sim {
namespace {

struct Pair {
  ContextSp main = nullptr;
  ContextSp other = nullptr;
  std::uint64_t rounds = 0;
  std::uint64_t sum = 0;
};

[[noreturn]] void counting_entry(void* arg) noexcept {
  auto& pair = *static_cast<Pair*>(arg);
  // Kept across switches in callee-saved registers (or on this stack): a
  // switch that lost a register would corrupt it.
  std::uint64_t local = 0;
  for (std::uint64_t i = 1;; ++i) {
    local += i * 3;
    pair.sum = local;
    pair.rounds = i;
    switch_context(&pair.other, pair.main);
  }
}

TEST(ContextSwitch, FreshContextGetsItsArgumentAndKeepsItsStateAcrossSwitches) {
  std::vector<char> stack(64 * 1024);
  Pair pair;
  pair.other = make_context(stack.data() + stack.size(), stack.size(), &counting_entry, &pair);
  std::uint64_t expected = 0;
  for (std::uint64_t i = 1; i <= 1000; ++i) {
    const std::uint64_t mine = i * 7;  // live across the switch on this side too
    switch_context(&pair.main, pair.other);
    expected += i * 3;
    ASSERT_EQ(pair.rounds, i);
    ASSERT_EQ(pair.sum, expected);
    ASSERT_EQ(mine, i * 7);
  }
  // The other context stays suspended in its loop; its stack is plain memory.
}

#if defined(__x86_64__) && !defined(SEGSIM_SIM_FCONTEXT_SWITCH)
TEST(ContextSwitch, FiberChangingTheRoundingModeFailsTheRunAndItIsRestored) {
  ASSERT_EQ(std::fegetround(), FE_TONEAREST);
  Simulation simulation(SimulationConfig{});
  simulation.spawn("rounding", [] { std::fesetround(FE_UPWARD); });
  const RunResult result = simulation.run();
  EXPECT_EQ(result.outcome, Outcome::FiberFailed);
  EXPECT_NE(result.message.find("floating-point control state"), std::string::npos) << result.message;
  EXPECT_EQ(std::fegetround(), FE_TONEAREST);
}

TEST(ContextSwitch, FiberRestoringTheRoundingModeBeforeItsNextPointPasses) {
  Simulation simulation(SimulationConfig{});
  simulation.spawn("rounding", [] {
    std::fesetround(FE_DOWNWARD);
    std::fesetround(FE_TONEAREST);
  });
  EXPECT_TRUE(simulation.run().passed());
}

TEST(ContextSwitch, FloatControlIgnoresTheStickyExceptionFlags) {
  const std::uint64_t before = float_control();
  volatile double third = 1.0;
  third = third / 3.0;  // inexact: sets MXCSR's precision flag
  EXPECT_EQ(float_control(), before);
  std::feclearexcept(FE_ALL_EXCEPT);
}
#endif

}  // namespace
}  // namespace segsim::sim
