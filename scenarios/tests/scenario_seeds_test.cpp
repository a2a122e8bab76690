// Every scenario over a small seed range, without faults and with swarm
// faults: no oracle may fail, and each run is deterministic (run twice, same
// trace hash).
#include <gtest/gtest.h>

#include <string>

#include "core/sanitizers.h"
#include "scenarios/run.h"
#include "scenarios/workloads/native_thread.h"

namespace segsim::scenarios {
namespace {

struct Case {
  std::string scenario;
  std::string faults;
  bool native_threads;  // ScenarioInfo::native_threads
};

class ScenarioSeeds : public ::testing::TestWithParam<Case> {};

constexpr std::uint64_t kSeeds = 6;

TEST_P(ScenarioSeeds, NoOracleFails) {
#ifdef SEGSIM_HAS_TSAN
  // TSan is here for the races between real threads (ci/test.sh runs these
  // tests with label scenario_threads); a scenario that runs none is one
  // thread switching fibers, and dev and asan run it.
  if (!GetParam().native_threads) GTEST_SKIP() << GetParam().scenario << " runs no real thread";
#endif
  const std::uint64_t episodes_before = native_thread_episodes_run();
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    RunSpec spec;
    spec.scenario = GetParam().scenario;
    spec.faults = GetParam().faults;
    spec.seed = seed;
    spec.strategy = seed % 2 == 0 ? sim::StrategyKind::Pct : sim::StrategyKind::Random;
    std::string error;
    auto report = run_scenario(spec, {}, &error);
    ASSERT_TRUE(report.ok()) << error;
    ASSERT_TRUE(report->passed) << spec.scenario << " seed " << seed << " faults " << spec.faults << ": "
                                << report->failure->signature();
    EXPECT_GT(report->steps, 100u);
    if (seed == 1) {
      auto again = run_scenario(spec, {}, &error);
      ASSERT_TRUE(again.ok());
      EXPECT_EQ(again->trace_hash, report->trace_hash) << "not deterministic";
    }
  }
  // What the catalogue says decides where TSan looks: it must be true.
  const std::uint64_t episodes = native_thread_episodes_run() - episodes_before;
  if (GetParam().native_threads) {
    EXPECT_GT(episodes, 0u) << "ScenarioInfo::native_threads says " << GetParam().scenario
                            << " runs real threads; seeds 1.." << kSeeds << " ran no native-thread episode";
  } else {
    EXPECT_EQ(episodes, 0u) << GetParam().scenario << " ran a native-thread episode: set ScenarioInfo::native_threads";
  }
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (const ScenarioInfo& info : scenario_catalogue()) {
    cases.push_back({info.name, "none", info.native_threads});
    cases.push_back({info.name, "swarm", info.native_threads});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(All, ScenarioSeeds, ::testing::ValuesIn(all_cases()), [](const auto& info) {
  std::string name = info.param.scenario + "_" + info.param.faults;
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
});

TEST(RunSpecValidation, BadSpecsAreOneLine) {
  struct Bad {
    RunSpec spec;
    const char* says;
  };
  RunSpec unknown;
  unknown.scenario = "nope";
  RunSpec faults;
  faults.scenario = "chicago";
  faults.faults = "mmap:ENOMEM";
  RunSpec replay;
  replay.scenario = "chicago";
  replay.strategy = sim::StrategyKind::Replay;
  RunSpec hook;
  hook.scenario = "chicago";
  hook.test_hook = "explode";
  for (const Bad& bad : {Bad{unknown, "unknown scenario"},
                         Bad{faults, "need a trigger"}, Bad{replay, "needs recorded decisions"},
                         Bad{hook, "unknown test hook"}}) {
    std::string error;
    auto report = run_scenario(bad.spec, {}, &error);
    ASSERT_FALSE(report.ok());
    EXPECT_NE(error.find(bad.says), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos);
  }
}

TEST(TestHook, CorruptSegmentIsCaughtByTheContentOracleWithHistory) {
  RunSpec spec;
  spec.scenario = "chicago";
  spec.seed = 42;
  spec.test_hook = "corrupt-segment";
  auto report = run_scenario(spec);
  ASSERT_TRUE(report.ok());
  ASSERT_FALSE(report->passed);
  EXPECT_EQ(report->failure->oracle, "content");
  EXPECT_FALSE(report->failure->segment.empty());
  EXPECT_FALSE(report->failure->segment_history.empty());
  // The recorded decisions replay it exactly.
  RunSpec replay = spec;
  replay.strategy = sim::StrategyKind::Replay;
  replay.decisions = report->decisions;
  auto replayed = run_scenario(replay);
  ASSERT_TRUE(replayed.ok());
  ASSERT_FALSE(replayed->passed);
  EXPECT_EQ(replayed->failure->signature(), report->failure->signature());
  EXPECT_EQ(replayed->trace_hash, report->trace_hash);
}

}  // namespace
}  // namespace segsim::scenarios
