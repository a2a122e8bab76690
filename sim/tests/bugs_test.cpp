// Classic concurrency bugs, each a tiny program on the platform seam. Each
// must be *found* within a stated number of seeds and then *reproduced*
// exactly by the replay strategy: same failure signature, same trace hash.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

#include "core/platform/atomic.h"
#include "core/platform/clock.h"
#include "core/platform/mutex.h"
#include "sim/tests/sim_test_util.h"

namespace segsim::sim {
namespace {

using testing::Program;

// PCT's k (estimated steps) is set to about the length of these tiny
// programs: change points drawn from a much longer range would rarely fall
// inside the run, and PCT would degenerate to preemption-free priorities.
SimulationConfig strategy_config(const char* strategy) {
  SimulationConfig config;
  config.strategy = strategy;
  config.pct_estimated_steps = 16;
  return config;
}

// Finds a failure within `seeds` seeds, replays it, and checks it reproduces.
RunResult find_and_replay(const SimulationConfig& config, const Program& program,
                          std::uint64_t seeds, Outcome expected) {
  auto found = testing::find_failure(config, program, 1, seeds);
  EXPECT_TRUE(found.has_value()) << "not found within " << seeds << " seeds (" << config.strategy
                                 << ")";
  if (!found) return {};
  EXPECT_EQ(found->result.outcome, expected) << found->result.message;
  RunResult replayed = testing::replay(config, found->seed, found->result, program);
  EXPECT_EQ(replayed.signature(), found->result.signature());
  EXPECT_EQ(replayed.trace_hash, found->result.trace_hash);
  std::printf("  %s: found at seed %llu (step %llu): %s\n", config.strategy.c_str(),
              static_cast<unsigned long long>(found->seed),
              static_cast<unsigned long long>(found->result.failure_step),
              found->result.message.c_str());
  return found->result;
}

// Lost update: a read-modify-write made of a separate load and store.
void lost_update(Simulation& s) {
  auto counter = std::make_shared<platform::Atomic<int>>(0);
  auto done = std::make_shared<platform::Atomic<int>>(0);
  for (int f = 0; f < 2; ++f) {
    s.spawn("incrementer", [counter, done] {
      const int seen = counter->load();
      counter->store(seen + 1);
      if (done->fetch_add(1) == 1 && counter->load() != 2) {
        throw std::runtime_error("lost update: counter is " + std::to_string(counter->load()));
      }
    });
  }
}

// Check-then-act: two withdrawals both pass the balance check.
void check_then_act(Simulation& s) {
  auto balance = std::make_shared<platform::Atomic<int>>(10);
  for (int f = 0; f < 2; ++f) {
    s.spawn("withdraw", [balance] {
      if (balance->load() >= 10) {
        balance->store(balance->load() - 10);
        if (balance->load() < 0) throw std::runtime_error("overdraft");
      }
    });
  }
}

// Order violation: the publisher sets `ready` before the data it guards.
void use_before_init(Simulation& s) {
  auto ready = std::make_shared<platform::Atomic<bool>>(false);
  auto data = std::make_shared<platform::Atomic<int>>(0);
  s.spawn("publisher", [ready, data] {
    ready->store(true);
    data->store(42);
  });
  s.spawn("reader", [ready, data] {
    if (ready->load() && data->load() != 42) throw std::runtime_error("read before init");
  });
}

// ABBA: two fibers take two mutexes in opposite orders.
void abba(Simulation& s) {
  auto a = std::make_shared<platform::Mutex>();
  auto b = std::make_shared<platform::Mutex>();
  s.spawn("ab", [a, b] {
    platform::LockGuard first(*a);
    platform::LockGuard second(*b);
  });
  s.spawn("ba", [a, b] {
    platform::LockGuard first(*b);
    platform::LockGuard second(*a);
  });
}

TEST(ClassicBugs, LostUpdate) {
  for (const char* strategy : {"random", "pct", "pos"}) {
    find_and_replay(strategy_config(strategy), lost_update, 100, Outcome::FiberFailed);
  }
}

TEST(ClassicBugs, CheckThenAct) {
  for (const char* strategy : {"random", "pct", "pos"}) {
    find_and_replay(strategy_config(strategy), check_then_act, 100, Outcome::FiberFailed);
  }
}

TEST(ClassicBugs, UseBeforeInitialisation) {
  for (const char* strategy : {"random", "pct", "pos"}) {
    find_and_replay(strategy_config(strategy), use_before_init, 100, Outcome::FiberFailed);
  }
}

TEST(ClassicBugs, AbbaDeadlock) {
  for (const char* strategy : {"random", "pct", "pos"}) {
    RunResult result = find_and_replay(strategy_config(strategy), abba, 100, Outcome::Deadlock);
    EXPECT_NE(result.message.find("held by fiber"), std::string::npos) << result.message;
  }
}

// A depth-3 bug: fiber C must run all of its steps while A and B are both
// preempted part-way through theirs. C's steps are operations on its own
// atomic, not yields: a yield says "others may run here", and pct and pos
// let them (sim/README.md, "Strategies"). PCT with d = 3 needs two well-placed
// priority change points (probability about 1/(3 k^2) per run, k the
// estimated steps); random scheduling needs C to win kSteps+2 consecutive
// three-way draws (about 3^-12).
constexpr int kSteps = 10;
void depth_three(Simulation& s) {
  auto a = std::make_shared<platform::Atomic<int>>(0);
  auto b = std::make_shared<platform::Atomic<int>>(0);
  s.spawn("A", [a] {
    for (int i = 0; i < kSteps; ++i) a->fetch_add(1);
  });
  s.spawn("B", [b] {
    for (int i = 0; i < kSteps; ++i) b->fetch_add(1);
  });
  auto c = std::make_shared<platform::Atomic<int>>(0);
  s.spawn("C", [a, b, c] {
    const int a0 = a->load();
    const int b0 = b->load();
    for (int i = 0; i < kSteps; ++i) c->fetch_add(1);
    const bool both_midway = a0 > 0 && a0 < kSteps && b0 > 0 && b0 < kSteps;
    if (both_midway && a->load() == a0 && b->load() == b0) {
      throw std::runtime_error("depth-3 window hit");
    }
  });
}

TEST(ClassicBugs, DepthThreeBugPctFindsMuchFasterThanRandom) {
  constexpr std::uint64_t kSeeds = 3000;
  SimulationConfig pct = strategy_config("pct");
  pct.pct_depth = 3;
  pct.pct_estimated_steps = 3 * kSteps + 8;  // about the decisions of one run
  const int pct_failures = testing::count_failures(pct, depth_three, kSeeds);
  const int random_failures = testing::count_failures(strategy_config("random"), depth_three, kSeeds);
  std::printf("  depth-3 bug over %llu seeds: pct found %d (%.2f%%), random found %d (%.2f%%)\n",
              static_cast<unsigned long long>(kSeeds), pct_failures, 100.0 * pct_failures / kSeeds,
              random_failures, 100.0 * random_failures / kSeeds);
  ::testing::Test::RecordProperty("pct_failures", pct_failures);
  ::testing::Test::RecordProperty("random_failures", random_failures);
  EXPECT_GE(pct_failures, 10);
  EXPECT_GE(pct_failures, 10 * std::max(random_failures, 1));
  find_and_replay(pct, depth_three, kSeeds, Outcome::FiberFailed);
}

// POS on the same depth-3 bug, the same 3,000 seeds: deterministic counts.
// POS needs no depth and no k. C's steps are events of its own (they race
// with nothing), so POS must draw C's fresh priority above A's and B's kept
// ones at each of them: rarer than PCT's two change points with k tuned to
// the program, and far more often than random's 3^-12.
TEST(ClassicBugs, DepthThreeBugPosFindsMuchFasterThanRandom) {
  constexpr std::uint64_t kSeeds = 3000;
  const int pos_failures = testing::count_failures(strategy_config("pos"), depth_three, kSeeds);
  const int random_failures = testing::count_failures(strategy_config("random"), depth_three, kSeeds);
  std::printf("  depth-3 bug over %llu seeds: pos found %d (%.2f%%), random found %d (%.2f%%)\n",
              static_cast<unsigned long long>(kSeeds), pos_failures, 100.0 * pos_failures / kSeeds,
              random_failures, 100.0 * random_failures / kSeeds);
  ::testing::Test::RecordProperty("pos_failures", pos_failures);
  EXPECT_GE(pos_failures, 10);
  EXPECT_GE(pos_failures, 10 * std::max(random_failures, 1));
  find_and_replay(strategy_config("pos"), depth_three, kSeeds, Outcome::FiberFailed);
}

}  // namespace
}  // namespace segsim::sim
