#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>

#include "core/platform/async_executor.h"
#include "core/platform/mutex.h"

namespace segsim::platform {
namespace {

TEST(AsyncExecutor, RunsEveryAcceptedTask) {
  std::atomic<int> ran{0};
  {
    AsyncExecutor executor({2, 128});
    int accepted = 0;
    for (int i = 0; i < 100; ++i) accepted += executor.try_spawn([&] { ++ran; }) ? 1 : 0;
    executor.wait_idle();
    EXPECT_EQ(ran.load(), accepted);
    EXPECT_EQ(accepted, 100);
    EXPECT_EQ(executor.in_flight(), 0u);
  }
}

TEST(AsyncExecutor, RefusesWhenTheQueueIsFull) {
  AsyncExecutor executor({1, 2});
  Mutex gate;
  UniqueLock hold(gate);  // the first task blocks until released
  std::atomic<int> ran{0};
  ASSERT_TRUE(executor.try_spawn([&] { LockGuard g(gate); ++ran; }));
  ASSERT_TRUE(executor.try_spawn([&] { ++ran; }));
  EXPECT_FALSE(executor.try_spawn([&] { ++ran; }));  // capacity 2: queued + running
  EXPECT_EQ(executor.in_flight(), 2u);
  hold.unlock();
  executor.wait_idle();
  EXPECT_EQ(ran.load(), 2);
  EXPECT_TRUE(executor.try_spawn([&] { ++ran; }));  // room again
  executor.wait_idle();
  EXPECT_EQ(ran.load(), 3);
}

TEST(AsyncExecutor, ShutdownFinishesAcceptedTasksThenRefuses) {
  std::atomic<int> ran{0};
  AsyncExecutor executor({1, 64});
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(executor.try_spawn([&] { ++ran; }));
  executor.shutdown();
  EXPECT_EQ(ran.load(), 20);
  EXPECT_FALSE(executor.try_spawn([&] { ++ran; }));
  executor.shutdown();  // idempotent
  EXPECT_EQ(ran.load(), 20);
}

TEST(AsyncExecutor, ThrowingTaskIsCountedAndTheWorkerSurvives) {
  AsyncExecutor executor({1, 8});
  std::atomic<int> ran{0};
  ASSERT_TRUE(executor.try_spawn([] { throw std::runtime_error("task failed"); }));
  ASSERT_TRUE(executor.try_spawn([&] { ++ran; }));
  executor.wait_idle();
  EXPECT_EQ(executor.tasks_failed(), 1u);
  EXPECT_EQ(ran.load(), 1);
}

TEST(AsyncExecutor, NoThreadUntilFirstTask) {
  // Construction and destruction of an unused executor must not block or spawn.
  AsyncExecutor executor;
  EXPECT_EQ(executor.in_flight(), 0u);
}

}  // namespace
}  // namespace segsim::platform
