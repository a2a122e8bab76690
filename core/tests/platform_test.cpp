// The platform seam: std primitives with no runtime installed, and every
// operation routed to the installed Runtime otherwise (what the simulator
// relies on to turn them into scheduling points).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "core/platform/async_executor.h"
#include "core/platform/atomic.h"
#include "core/platform/clock.h"
#include "core/platform/mutex.h"
#include "core/platform/runtime.h"

namespace segsim::platform {
namespace {

// Records what the seam asks of it; single-fiber semantics (never blocks).
class RecordingRuntime final : public Runtime {
 public:
  void mutex_lock(SimTag& t) override { log("lock", t); }
  bool mutex_try_lock(SimTag& t) override { log("try_lock", t); return true; }
  void mutex_unlock(SimTag& t) override { log("unlock", t); }
  void condvar_wait(SimTag& cv, SimTag&) override { log("wait", cv); }
  bool condvar_wait_for(SimTag& cv, SimTag&, std::int64_t timeout_ns) override {
    log("wait_for", cv);
    now += timeout_ns;
    return false;
  }
  void condvar_notify(SimTag& cv, bool all) override { log(all ? "notify_all" : "notify_one", cv); }
  void atomic_access(SimTag& t, AtomicOp op) override {
    log("atomic" + std::to_string(static_cast<int>(op)), t);
  }
  bool spawn(Task task) override {
    ops.push_back("spawn");
    task();  // run inline: enough to observe the routing
    return true;
  }
  std::int64_t now_ns() override { return now; }
  void sleep_for_ns(std::int64_t d) override { ops.push_back("sleep"); now += d; }
  void yield() override { ops.push_back("yield"); }

  std::vector<std::string> ops;
  std::int64_t now = 1000;

 private:
  void log(const std::string& op, SimTag& tag) {
    if (tag.id == 0) tag = SimTag{1, next_id++};  // ids in order of first use
    ops.push_back(op + "#" + std::to_string(tag.id));
  }
  std::uint32_t next_id = 1;
};

TEST(PlatformSeam, NoRuntimeByDefault) { EXPECT_EQ(current_runtime(), nullptr); }

TEST(PlatformSeam, NativeMutexExcludesRealThreads) {
  Mutex mu;
  long counter = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        LockGuard guard(mu);
        ++counter;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(counter, 80000);
}

TEST(PlatformSeam, NativeCondVarWakesAndTimesOut) {
  Mutex mu;
  CondVar cv;
  bool ready = false;
  std::thread notifier([&] {
    LockGuard guard(mu);
    ready = true;
    cv.notify_all();
  });
  {
    UniqueLock lock(mu);
    cv.wait(lock, [&] { return ready; });
    EXPECT_TRUE(ready);
    EXPECT_FALSE(cv.wait_for_ns(lock, 1'000'000));  // nobody notifies again: times out
    EXPECT_TRUE(lock.owns_lock());
  }
  notifier.join();
}

TEST(PlatformSeam, NativeClockIsMonotonic) {
  const std::int64_t a = now_ns();
  sleep_for_ns(1000);
  EXPECT_GT(now_ns(), a);
}

TEST(PlatformSeam, EveryOperationRoutesToTheInstalledRuntime) {
  RecordingRuntime rt;
  Mutex mu;
  CondVar cv;
  Atomic<int> counter{0};
  {
    RuntimeScope scope(&rt);
    EXPECT_EQ(current_runtime(), &rt);
    mu.lock();
    EXPECT_TRUE(mu.try_lock());
    mu.unlock();
    counter.fetch_add(1);
    EXPECT_EQ(counter.load(), 1);
    int expected = 1;
    EXPECT_TRUE(counter.compare_exchange_strong(expected, 5));
    {
      UniqueLock lock(mu);
      EXPECT_FALSE(cv.wait_for_ns(lock, 50));
    }
    cv.notify_one();
    EXPECT_EQ(now_ns(), 1050);  // virtual time moved by the timed wait
    sleep_for_ns(10);
    EXPECT_EQ(now_ns(), 1060);
    yield();
  }
  EXPECT_EQ(current_runtime(), nullptr);
  const std::vector<std::string> expected_ops = {
      "lock#1",    "try_lock#1", "unlock#1",   "atomic4#2", "atomic0#2",     "atomic3#2",
      "lock#1",    "wait_for#3", "unlock#1",   "notify_one#3", "sleep",      "yield"};
  EXPECT_EQ(rt.ops, expected_ops);
  EXPECT_EQ(counter.load(), 5);
}

TEST(PlatformSeam, SpawnAsyncBecomesARuntimeTask) {
  RecordingRuntime rt;
  AsyncExecutor executor({1, 4});
  int ran = 0;
  {
    RuntimeScope scope(&rt);
    ASSERT_TRUE(executor.try_spawn([&] { ++ran; }));
    executor.wait_idle();
    executor.shutdown();
  }
  EXPECT_EQ(ran, 1);
  EXPECT_NE(std::find(rt.ops.begin(), rt.ops.end(), "spawn"), rt.ops.end());
}

TEST(PlatformSeam, RuntimeIsPerThread) {
  RecordingRuntime rt;
  RuntimeScope scope(&rt);
  Runtime* seen_elsewhere = &rt;
  std::thread other([&] { seen_elsewhere = current_runtime(); });
  other.join();
  EXPECT_EQ(seen_elsewhere, nullptr);
}

}  // namespace
}  // namespace segsim::platform
