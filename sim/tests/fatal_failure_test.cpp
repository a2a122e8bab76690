// Failures that end the process instead of the run are still named
// (sim/fatal_failure.h): an assertion in a noexcept destructor on a fiber, in
// the scheduler's teardown, after the simulation; an exception a fiber throws
// through a noexcept frame.
#include <gtest/gtest.h>

#include <cstdio>
#include <stdexcept>

#include "core/assert.h"
#include "core/platform/mutex.h"
#include "sim/fatal_failure.h"
#include "sim/simulation.h"

namespace segsim::sim {
namespace {

// Destructors are implicitly noexcept: a throw from one calls std::terminate.
struct AssertsWhenDestroyed {
  ~AssertsWhenDestroyed() { SEGSIM_ASSERT(2 + 2 == 5, "a destructor's check"); }
};

[[gnu::noinline]] void throw_runtime_error() { throw std::runtime_error("a throw in a noexcept function"); }

struct ThrowsThroughNoexcept {
  static void call() noexcept { throw_runtime_error(); }
};

// A harness's reporter (a sweep worker's is its result channel): here the
// fields, on stderr, for the death test to match.
void print_fields(const FatalFailure& failure) {
  std::fprintf(stderr, "REPORTED oracle=%s fiber=%u step>0=%d message=[%s] where=[%s]\n", failure.oracle.c_str(),
               failure.fiber, failure.step > 0 ? 1 : 0, failure.message.c_str(), failure.where.c_str());
}

SimulationConfig seeded(std::uint64_t seed) {
  SimulationConfig config;
  config.seed = seed;
  return config;
}

// Two fibers, the second taking a lock first, so the assertion fires at a
// step past the start and on fiber #1.
void run_with_second_fiber(void (*second)()) {
  Simulation simulation(seeded(7));
  platform::Mutex mu;
  simulation.spawn("bystander", [&] { platform::LockGuard guard(mu); });
  simulation.spawn("victim", [&, second] {
    { platform::LockGuard guard(mu); }
    second();
  });
  (void)simulation.run();
}

TEST(FatalFailureDeathTest, AnAssertionInANoexceptDestructorOnAFiberIsNamedWithFiberAndStep) {
  EXPECT_DEATH(run_with_second_fiber([] { AssertsWhenDestroyed object; }),
               "segsim: assertion: fiber #1 'victim' assertion failed: 2 \\+ 2 == 5 \\(a destructor's check\\) at "
               ".*fatal_failure_test.cpp:[0-9]+ \\(step [0-9]+; the process aborted: it was thrown through a frame "
               "that cannot throw");
}

TEST(FatalFailureDeathTest, TheReporterGetsTheFieldsOnce) {
  EXPECT_DEATH(
      {
        set_fatal_failure_reporter(&print_fields);
        run_with_second_fiber([] { AssertsWhenDestroyed object; });
      },
      "REPORTED oracle=assertion fiber=1 step>0=1 message=\\[fiber #1 'victim' assertion failed: 2 \\+ 2 == 5");
}

TEST(FatalFailureDeathTest, AnAssertionAfterTheSimulationIsNamedAsTeardown) {
  EXPECT_DEATH(
      {
        Simulation simulation(seeded(3));
        simulation.spawn("only", [] {});
        (void)simulation.run();
        SEGSIM_ASSERT(simulation.step() == 0, "teardown's check");
      },
      "segsim: assertion: assertion failed: simulation.step\\(\\) == 0 \\(teardown's check\\) at .* \\(step [0-9]+; "
      "the process aborted: it fired after the simulation ended");
}

TEST(FatalFailureDeathTest, AnExceptionThroughANoexceptFrameOnAFiberIsNamed) {
  EXPECT_DEATH(run_with_second_fiber([] { ThrowsThroughNoexcept::call(); }),
               "segsim: exception: fiber #1 'victim' threw .*runtime_error: a throw in a noexcept function \\(step "
               "[0-9]+; the process aborted: it was thrown through a frame that cannot throw");
}

TEST(FatalFailure, AnAssertionWhereItCanThrowStillFailsTheRunAndReportsNothing) {
  Simulation simulation(seeded(5));
  simulation.spawn("asserter", [] { SEGSIM_ASSERT(1 + 1 == 3, "arithmetic"); });
  const RunResult result = simulation.run();
  EXPECT_EQ(result.outcome, Outcome::FiberFailed);
  EXPECT_NE(result.message.find("fiber #0 'asserter' assertion failed: 1 + 1 == 3 (arithmetic)"), std::string::npos)
      << result.message;
}

TEST(FatalFailure, DescribeStartsLikeTheRunsSignature) {
  const FatalFailure failure{.oracle = "assertion",
                             .message = "fiber #2 'client-1' assertion failed: x (y) at f.cpp:3",
                             .fiber = 2,
                             .step = 40,
                             .where = "somewhere"};
  EXPECT_EQ(failure.describe(),
            "assertion: fiber #2 'client-1' assertion failed: x (y) at f.cpp:3 (step 40; the process aborted: "
            "somewhere)");
  FatalFailure outside = failure;
  outside.step = 0;
  EXPECT_EQ(outside.describe(),
            "assertion: fiber #2 'client-1' assertion failed: x (y) at f.cpp:3 (the process aborted: somewhere)");
}

}  // namespace
}  // namespace segsim::sim
