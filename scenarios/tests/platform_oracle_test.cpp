// The platform oracle's judges (scenarios/oracles/platform.h): silent on the
// answers the contracts allow, firing on each wrong one.
#include <gtest/gtest.h>

#include "scenarios/oracles/platform.h"

namespace segsim::scenarios::platform_judge {
namespace {

TEST(PlatformOracle, AtomicReturnsTheValueBefore) {
  EXPECT_EQ(atomic(AtomicCall::FetchAdd, 5, 5), std::nullopt);
  EXPECT_TRUE(atomic(AtomicCall::FetchAdd, 6, 5));  // returned the value after
  EXPECT_TRUE(atomic(AtomicCall::Exchange, 0, 5));
}

TEST(PlatformOracle, TryLockSucceedsExactlyWhenFree) {
  EXPECT_EQ(try_lock(true, false), std::nullopt);
  EXPECT_EQ(try_lock(false, true), std::nullopt);
  EXPECT_TRUE(try_lock(true, true));
  EXPECT_TRUE(try_lock(false, false));
}

TEST(PlatformOracle, TimedWaitNeedsANotifyOrItsTimeout) {
  EXPECT_EQ(timed_wait(true, 1, 10, 100), std::nullopt);
  EXPECT_EQ(timed_wait(false, 0, 100, 100), std::nullopt);
  EXPECT_TRUE(timed_wait(true, 0, 10, 100));   // woke as notified, nobody notified
  EXPECT_TRUE(timed_wait(false, 0, 99, 100));  // timed out early
}

TEST(PlatformOracle, ExecutorInFlightWithinItsBounds) {
  EXPECT_EQ(executor(2, 2, 1, 0, false), std::nullopt);
  EXPECT_EQ(executor(0, 2, 0, 0, true), std::nullopt);
  EXPECT_TRUE(executor(2, 2, 3, 0, false));  // more unended tasks than capacity
  EXPECT_TRUE(executor(0, 2, 1, 0, false));  // in flight below the unended tasks
  EXPECT_TRUE(executor(3, 2, 1, 0, false));  // in flight past capacity
  EXPECT_TRUE(executor(1, 2, 0, 0, true));   // busy when idle
  EXPECT_TRUE(executor(0, 2, 0, 1, false));  // a failed task counted under simulation
}

}  // namespace
}  // namespace segsim::scenarios::platform_judge
