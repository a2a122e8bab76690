// Simulation semantics: scheduling points, blocking, virtual time, liveness
// failures, fiber failures and clean unwinding.
#include <gtest/gtest.h>

#include <exception>
#include <memory>
#include <stdexcept>
#include <vector>

#include "core/assert.h"
#include "core/platform/async_executor.h"
#include "core/platform/atomic.h"
#include "core/platform/clock.h"
#include "core/platform/mutex.h"
#include "sim/tests/sim_test_util.h"

namespace segsim::sim {
namespace {

using testing::run_program;

SimulationConfig config_for(std::uint64_t seed, const char* strategy = "random") {
  SimulationConfig config;
  config.seed = seed;
  config.strategy = strategy;
  return config;
}

TEST(Simulation, RunsEveryFiberToCompletion) {
  std::vector<int> order;
  Simulation simulation(config_for(1, "rr"));
  for (int i = 0; i < 3; ++i) simulation.spawn("f", [&order, i] { order.push_back(i); });
  RunResult result = simulation.run();
  EXPECT_TRUE(result.passed()) << result.message;
  EXPECT_EQ(result.fibers, 3u);
  EXPECT_EQ(order.size(), 3u);
  EXPECT_GT(result.steps, 0u);
}

TEST(Simulation, EmptySimulationPasses) {
  Simulation simulation(config_for(1));
  EXPECT_TRUE(simulation.run().passed());
}

TEST(Simulation, PlatformOperationsAreSchedulingPoints) {
  // Two fibers yielding in a loop under round robin alternate strictly.
  std::vector<int> order;
  SimulationConfig config = config_for(1, "rr");
  RunResult result = run_program(config, [&](Simulation& s) {
    for (int f = 0; f < 2; ++f) {
      s.spawn("yielder", [&order, f] {
        for (int i = 0; i < 3; ++i) {
          order.push_back(f);
          platform::yield();
        }
      });
    }
  });
  ASSERT_TRUE(result.passed()) << result.message;
  EXPECT_EQ(order, (std::vector<int>{0, 1, 0, 1, 0, 1}));
}

TEST(Simulation, MutexCounterIsCorrectUnderManySeeds) {
  for (const char* strategy : {"random", "pct"}) {
    for (std::uint64_t seed = 1; seed <= testing::scaled_seeds(10000); ++seed) {
      auto mu = std::make_shared<platform::Mutex>();
      auto counter = std::make_shared<long>(0);
      RunResult result = run_program(config_for(seed, strategy), [&](Simulation& s) {
        for (int f = 0; f < 4; ++f) {
          s.spawn("incrementer", [mu, counter] {
            for (int i = 0; i < 5; ++i) {
              platform::LockGuard guard(*mu);
              const long seen = *counter;
              platform::yield();  // a preemption inside the critical section changes nothing
              *counter = seen + 1;
            }
          });
        }
      });
      ASSERT_TRUE(result.passed()) << strategy << " seed " << seed << ": " << result.message;
      ASSERT_EQ(*counter, 20) << strategy << " seed " << seed;
    }
  }
}

TEST(Simulation, CondVarHandsOffWork) {
  for (std::uint64_t seed = 1; seed <= 500; ++seed) {
    platform::Mutex mu;
    platform::CondVar cv;
    std::vector<int> queue;
    int consumed = 0;
    SimulationConfig config = config_for(seed);
    config.spurious_wakeup_probability = 0.05;  // waits must tolerate them
    RunResult result = run_program(config, [&](Simulation& s) {
      s.spawn("producer", [&] {
        for (int i = 1; i <= 10; ++i) {
          platform::LockGuard guard(mu);
          queue.push_back(i);
          cv.notify_one();
        }
      });
      s.spawn("consumer", [&] {
        while (consumed < 10) {
          platform::UniqueLock lock(mu);
          cv.wait(lock, [&] { return !queue.empty(); });
          queue.erase(queue.begin());
          ++consumed;
        }
      });
    });
    ASSERT_TRUE(result.passed()) << "seed " << seed << ": " << result.message;
    ASSERT_EQ(consumed, 10);
  }
}

TEST(Simulation, TimeIsVirtualAndJumpsWhenEveryFiberSleeps) {
  std::vector<std::int64_t> woke_at;
  RunResult result = run_program(config_for(3), [&](Simulation& s) {
    for (std::int64_t delay_ns : {5'000'000'000LL, 1'000'000'000LL}) {
      s.spawn("sleeper", [&woke_at, delay_ns] {
        const std::int64_t start = platform::now_ns();
        platform::sleep_for_ns(delay_ns);
        woke_at.push_back(platform::now_ns() - start);
      });
    }
  });
  ASSERT_TRUE(result.passed()) << result.message;
  ASSERT_EQ(woke_at.size(), 2u);
  // The shorter sleep wakes first; each slept at least its delay (virtual).
  EXPECT_GE(woke_at[0], 1'000'000'000LL);
  EXPECT_GE(woke_at[1], 5'000'000'000LL);
  EXPECT_GE(result.virtual_time_ns, 5'000'000'000LL);
  EXPECT_LT(result.steps, 100u);  // no busy-waiting through 5 virtual seconds
}

TEST(Simulation, TimedWaitTimesOutInVirtualTime) {
  bool notified = true;
  RunResult result = run_program(config_for(1), [&](Simulation& s) {
    s.spawn("waiter", [&] {
      platform::Mutex mu;
      platform::CondVar cv;
      platform::UniqueLock lock(mu);
      notified = cv.wait_for_ns(lock, 1'000'000);
    });
  });
  ASSERT_TRUE(result.passed()) << result.message;
  EXPECT_FALSE(notified);
  EXPECT_GE(result.virtual_time_ns, 1'000'000);
}

TEST(Simulation, DeadlockIsReportedWithEachFibersWait) {
  RunResult result = run_program(config_for(1), [&](Simulation& s) {
    s.spawn("forever", [] {
      platform::Mutex mu;
      platform::CondVar cv;
      platform::UniqueLock lock(mu);
      cv.wait(lock);  // nobody notifies
    });
  });
  ASSERT_EQ(result.outcome, Outcome::Deadlock);
  EXPECT_NE(result.message.find("fiber #0 'forever' waits in condvar.wait"), std::string::npos)
      << result.message;
}

TEST(Simulation, LivelockHitsTheStepLimit) {
  SimulationConfig config = config_for(1);
  config.max_steps = 500;
  RunResult result = run_program(config, [&](Simulation& s) {
    s.spawn("spinner", [] {
      platform::Atomic<bool> flag{false};
      while (!flag.load()) {
      }
    });
  });
  ASSERT_EQ(result.outcome, Outcome::StepLimit);
  EXPECT_EQ(result.failed_fiber, 0u);
  EXPECT_NE(result.message.find("step limit of 500"), std::string::npos);
}

struct DestructorCounter {
  int* count;
  ~DestructorCounter() { ++*count; }
};

TEST(Simulation, ThrowingFiberFailsTheRunAndOthersAreUnwound) {
  int destroyed = 0;
  RunResult result = run_program(config_for(7, "rr"), [&](Simulation& s) {
    s.spawn("thrower", [] {
      platform::yield();
      throw std::runtime_error("boom");
    });
    for (int i = 0; i < 3; ++i) {
      s.spawn("bystander", [&destroyed] {
        DestructorCounter counter{&destroyed};
        platform::Mutex mu;
        platform::LockGuard guard(mu);  // held while unwound: released by RAII
        for (;;) platform::yield();
      });
    }
  });
  ASSERT_EQ(result.outcome, Outcome::FiberFailed);
  EXPECT_EQ(result.failed_fiber, 0u);
  EXPECT_NE(result.message.find("boom"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("'thrower'"), std::string::npos) << result.message;
  EXPECT_GT(result.failure_step, 0u);
  EXPECT_EQ(destroyed, 3);  // every bystander's stack was unwound
}

// A fiber suspended while unwinding (a destructor reaches a scheduling point)
// must not leak its in-flight exception into the others: exception state is
// per fiber, not per thread.
struct YieldingDestructor {
  ~YieldingDestructor() { platform::yield(); }
};

TEST(Simulation, ExceptionStateIsPerFiber) {
  int seen_uncaught_elsewhere = -1;
  bool caught = false;
  RunResult result = run_program(config_for(1, "rr"), [&](Simulation& s) {
    s.spawn("unwinder", [&] {
      try {
        YieldingDestructor d;
        throw std::runtime_error("in flight");
      } catch (const std::runtime_error&) {
        caught = true;
      }
    });
    s.spawn("observer", [&] { seen_uncaught_elsewhere = std::uncaught_exceptions(); });
  });
  ASSERT_TRUE(result.passed()) << result.message;
  EXPECT_TRUE(caught);
  EXPECT_EQ(seen_uncaught_elsewhere, 0);
}

TEST(Simulation, AssertionOnAFiberFailsTheRunNotTheProcess) {
  RunResult result = run_program(config_for(1), [&](Simulation& s) {
    s.spawn("asserter", [] { SEGSIM_ASSERT(1 + 1 == 3, "arithmetic"); });
  });
  ASSERT_EQ(result.outcome, Outcome::FiberFailed);
  EXPECT_NE(result.message.find("assertion failed: 1 + 1 == 3 (arithmetic)"), std::string::npos)
      << result.message;
}

TEST(Simulation, UnlockOfAMutexNotHeldFails) {
  RunResult result = run_program(config_for(1), [&](Simulation& s) {
    s.spawn("bad", [] {
      platform::Mutex mu;
      mu.unlock();
    });
  });
  ASSERT_EQ(result.outcome, Outcome::FiberFailed);
  EXPECT_NE(result.message.find("not held"), std::string::npos) << result.message;
}

TEST(Simulation, SpawnAsyncTasksBecomeFibers) {
  int ran = 0;
  platform::AsyncExecutor executor({1, 8});
  RunResult result = run_program(config_for(5), [&](Simulation& s) {
    s.spawn("spawner", [&] {
      for (int i = 0; i < 3; ++i) ASSERT_TRUE(executor.try_spawn([&ran] { ++ran; }));
      executor.wait_idle();  // blocks this fiber until the task fibers finish
    });
  });
  ASSERT_TRUE(result.passed()) << result.message;
  EXPECT_EQ(ran, 3);
  EXPECT_EQ(result.fibers, 4u);
  EXPECT_EQ(executor.in_flight(), 0u);
}

TEST(Simulation, UnrunSimulationStillEndsItsFibers) {
  int destroyed = 0;
  {
    Simulation simulation(config_for(1));
    simulation.spawn("never run", [c = std::make_shared<DestructorCounter>(
                                                   DestructorCounter{&destroyed})] { (void)c; });
  }
  EXPECT_GE(destroyed, 1);
}

TEST(Simulation, ReplayFollowsTheRecordingAndDetectsDivergence) {
  auto program = [](Simulation& s) {
    for (int f = 0; f < 3; ++f) {
      s.spawn("worker", [] {
        for (int i = 0; i < 4; ++i) platform::yield();
      });
    }
  };
  SimulationConfig config = config_for(11);
  RunResult recorded = run_program(config, program);
  ASSERT_TRUE(recorded.passed());
  RunResult replayed = testing::replay(config, 11, recorded, program);
  ASSERT_TRUE(replayed.passed()) << replayed.message;
  EXPECT_EQ(replayed.trace_hash, recorded.trace_hash);
  EXPECT_EQ(replayed.decisions, recorded.decisions);

  RunResult truncated = recorded;
  truncated.decisions = recorded.decisions.prefix(recorded.decisions.size() / 2);
  RunResult diverged = testing::replay(config, 11, truncated, program);
  ASSERT_EQ(diverged.outcome, Outcome::ReplayDiverged);
  EXPECT_NE(diverged.message.find("only"), std::string::npos) << diverged.message;

  RunResult wrong = recorded;
  std::vector<std::uint32_t> edited = recorded.decisions.to_vector();
  edited[0] = 7;  // no fiber #7
  wrong.decisions = DecisionLog::from_vector(edited);
  RunResult wrong_run = testing::replay(config, 11, wrong, program);
  ASSERT_EQ(wrong_run.outcome, Outcome::ReplayDiverged);
  EXPECT_NE(wrong_run.message.find("not runnable"), std::string::npos) << wrong_run.message;
}

TEST(Simulation, UnknownStrategyIsAConfigError) {
  auto strategy = make_strategy("fifo", StrategyOptions{});
  ASSERT_FALSE(strategy.ok());
  EXPECT_EQ(strategy.error().code, Errc::InvalidConfig);
  StrategyOptions bad;
  bad.pct_depth = 0;
  EXPECT_FALSE(make_strategy("pct", bad).ok());
}

TEST(Simulation, TraceRingKeepsTheLastEvents) {
  SimulationConfig config = config_for(1);
  config.trace_ring_events = 8;
  config.keep_full_trace = true;
  RunResult result = run_program(config, [](Simulation& s) {
    s.spawn("w", [] {
      for (int i = 0; i < 20; ++i) platform::yield();
    });
  });
  ASSERT_TRUE(result.passed());
  ASSERT_EQ(result.last_events.size(), 8u);
  ASSERT_GE(result.full_trace.size(), 20u);
  EXPECT_EQ(result.last_events.back().step, result.full_trace.back().step);
  EXPECT_EQ(result.last_events.back().op, TraceOp::Finish);
}

}  // namespace
}  // namespace segsim::sim
