// ManualClock (scenarios/workloads/manual_clock.h): the single-caller runtime
// the policy episodes and drills install. Its actions are what a drill's
// "another thread did this meanwhile" rests on.
#include <stdexcept>
#include <string>
#include <vector>

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

// at_lock runs before the mutex is taken, at every lock until it says done;
// the locks it makes itself (another thread's call) do not run it again.
TEST(ManualClock, AtLockRunsBeforeEachLockUntilItReturnsTrue) {
  ManualClock clock(0, [](const std::string& what) -> void { throw std::logic_error(what); });
  platform::RuntimeScope installed(&clock);
  platform::SimTag first;
  platform::SimTag second;
  std::vector<const platform::SimTag*> seen;
  int inner_locks = 0;
  clock.at_lock([&](const platform::SimTag& mutex) {
    seen.push_back(&mutex);
    if (&mutex != &second) return false;
    clock.mutex_lock(second);  // free still: the caller has not taken it yet
    clock.mutex_unlock(second);
    ++inner_locks;
    return true;
  });
  clock.mutex_lock(first);
  clock.mutex_unlock(first);
  EXPECT_EQ(seen, (std::vector<const platform::SimTag*>{&first}));
  clock.mutex_lock(second);
  EXPECT_EQ(seen, (std::vector<const platform::SimTag*>{&first, &second}));
  EXPECT_EQ(inner_locks, 1);
  clock.mutex_unlock(second);
  clock.mutex_lock(first);  // done: not run again
  clock.mutex_unlock(first);
  EXPECT_EQ(seen.size(), 2u);
}

TEST(ManualClock, AtLockNullDisarms) {
  ManualClock clock(0, [](const std::string& what) -> void { throw std::logic_error(what); });
  platform::RuntimeScope installed(&clock);
  platform::SimTag mutex;
  int runs = 0;
  clock.at_lock([&](const platform::SimTag&) {
    ++runs;
    return false;
  });
  clock.mutex_lock(mutex);
  clock.mutex_unlock(mutex);
  clock.at_lock(nullptr);
  clock.mutex_lock(mutex);
  clock.mutex_unlock(mutex);
  EXPECT_EQ(runs, 1);
}

}  // namespace
}  // namespace segsim::scenarios
