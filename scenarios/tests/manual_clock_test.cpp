// ManualClock (scenarios/workloads/manual_clock.h): the single-caller runtime
// the policy episodes and drills install. Its actions are what a drill's
// "another thread did this meanwhile" rests on.
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "core/platform/runtime.h"
#include "scenarios/workloads/manual_clock.h"

namespace segsim::scenarios {
namespace {

TEST(ManualClock, AtNextAtomicRunsOnceAtTheNextAtomicAccessWithItsOperation) {
  ManualClock clock(0, [](const std::string& what) -> void { throw std::logic_error(what); });
  platform::RuntimeScope installed(&clock);
  platform::SimTag tag;
  int runs = 0;
  platform::AtomicOp seen = platform::AtomicOp::Load;
  clock.at_next_atomic([&](platform::AtomicOp op) {
    ++runs;
    seen = op;
  });
  EXPECT_EQ(runs, 0);
  platform::current_runtime()->atomic_access(tag, platform::AtomicOp::CompareExchange);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(seen, platform::AtomicOp::CompareExchange);
  platform::current_runtime()->atomic_access(tag, platform::AtomicOp::Store);
  EXPECT_EQ(runs, 1);  // once
}

TEST(ManualClock, ActAsThreadChangesTheThreadKeyTheCachesSee) {
  ManualClock clock(0, [](const std::string& what) -> void { throw std::logic_error(what); });
  platform::RuntimeScope installed(&clock);
  EXPECT_EQ(platform::current_runtime()->thread_key(), 0u);
  clock.act_as_thread(2);
  EXPECT_EQ(platform::current_runtime()->thread_key(), 2u);
  clock.act_as_thread(1);
  EXPECT_EQ(platform::current_runtime()->thread_key(), 1u);
}

// An action may lock and unlock (another thread's whole call) at that point.
TEST(ManualClock, AnActionRunsAWholeCallWithItsLocks) {
  ManualClock clock(0, [](const std::string& what) -> void { throw std::logic_error(what); });
  platform::RuntimeScope installed(&clock);
  platform::SimTag mutex;
  platform::SimTag atomic;
  clock.at_next_atomic([&](platform::AtomicOp) {
    clock.mutex_lock(mutex);
    clock.mutex_unlock(mutex);
  });
  EXPECT_NO_THROW(clock.atomic_access(atomic, platform::AtomicOp::Load));
  clock.mutex_lock(mutex);
  EXPECT_THROW(clock.mutex_lock(mutex), std::logic_error);  // the one caller, a held mutex: a self-deadlock
}

}  // namespace
}  // namespace segsim::scenarios
