// Real runs: forked sweeps (crashes, hangs, stop on failure) and shrinking.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <map>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "faults/fault_injector.h"
#include "scenarios/plot_svg.h"
#include "scenarios/repro.h"
#include "scenarios/shrink.h"
#include "scenarios/sweep.h"
#include "scenarios/safe_file.h"
#include "scenarios/tests/test_files.h"
#include "scenarios/trace_json.h"

namespace segsim::scenarios {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::TempDir;

// ---------------------------------------------------------------------------
// real runs: forked sweeps and shrinking

SweepSpec small_sweep(const TempDir& dir, const std::string& scenario) {
  SweepSpec spec;
  spec.base.scenario = scenario;
  spec.base.size = 1;
  spec.failures_dir = (dir.path() / "failures").string();
  spec.seed_timeout_seconds = 600;  // a hang, not slowness, must trip it
  return spec;
}

TEST(RunSweep, EverySeedOfTheShardHasAResultInOrder) {
  TempDir dir;
  SweepSpec spec = small_sweep(dir, "budget");
  spec.seeds = {1, 7};
  spec.shard = {1, 2};  // seeds 2, 4, 6
  spec.jobs = 2;
  std::ostringstream progress;
  const SweepResult result = run_sweep(spec, progress, false);
  ASSERT_EQ(result.seeds.size(), 3u) << progress.str();
  EXPECT_EQ(result.seeds[0].seed, 2u);
  EXPECT_EQ(result.seeds[1].seed, 4u);
  EXPECT_EQ(result.seeds[2].seed, 6u);
  EXPECT_EQ(result.scenario, "budget");
  for (const SeedResult& s : result.seeds) {
    EXPECT_EQ(s.outcome, SeedOutcome::Passed) << s.seed << ": " << s.detail;
    EXPECT_GT(s.steps, 0u);
    // The child reports exactly what a run in this process gives.
    RunSpec run = spec.base;
    run.seed = s.seed;
    const auto report = run_scenario(run);
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(s.trace_hash, report->trace_hash) << "seed " << s.seed;
  }
  EXPECT_NE(progress.str().find("3/3 seeds"), std::string::npos) << progress.str();
}

TEST(RunSweep, FailuresAreRecordedWithReplayableRepros) {
  TempDir dir;
  SweepSpec spec = small_sweep(dir, "chicago");
  spec.base.test_hook = "corrupt-segment";
  spec.seeds = {3, 6};
  spec.jobs = 3;
  std::ostringstream progress;
  const SweepResult result = run_sweep(spec, progress, true);
  ASSERT_EQ(result.seeds.size(), 4u) << progress.str();
  EXPECT_GE(result.failures(), 1u) << "the sabotage hook must make some seed fail";
  for (const SeedResult& s : result.seeds) {
    // Each child's verdict is the verdict of the same run in this process.
    RunSpec run = spec.base;
    run.seed = s.seed;
    const auto report = run_scenario(run);
    ASSERT_TRUE(report.ok());
    if (report->passed) {
      EXPECT_EQ(s.outcome, SeedOutcome::Passed) << s.seed << ": " << s.detail;
      EXPECT_TRUE(s.repro_path.empty());
      continue;
    }
    EXPECT_EQ(s.outcome, SeedOutcome::Failed) << s.seed << ": " << s.detail;
    EXPECT_EQ(s.detail, report->failure->signature());
    EXPECT_EQ(s.repro_path, (fs::path(spec.failures_dir) / fmt::format("chicago-seed{}.json", s.seed)).string());
    std::string error;
    const auto repro = read_repro(s.repro_path, &error);
    ASSERT_TRUE(repro.ok()) << error;
    EXPECT_EQ(repro->spec.seed, s.seed);
    EXPECT_EQ(repro->expected_trace_hash, report->trace_hash);
    ASSERT_TRUE(repro->failure.has_value());
    EXPECT_EQ(repro->failure->signature(), s.detail);
    EXPECT_NE(progress.str().find(fmt::format("seed {}: failed", s.seed)), std::string::npos);
  }
  EXPECT_NE(progress.str().find('\r'), std::string::npos) << "terminal mode redraws in place";
}

TEST(RunSweep, StopOnFailureLaunchesNoMoreSeeds) {
  TempDir dir;
  SweepSpec spec = small_sweep(dir, "chicago");
  spec.base.test_hook = "corrupt-segment";
  spec.seeds = {1, 20};
  spec.jobs = 1;  // one at a time: nothing runs beside the first failure
  spec.stop_on_failure = true;
  std::ostringstream progress;
  const SweepResult result = run_sweep(spec, progress, false);
  ASSERT_FALSE(result.seeds.empty());
  ASSERT_LT(result.seeds.size(), 20u) << "the sabotage hook must make some seed fail";
  EXPECT_EQ(result.failures(), 1u);
  EXPECT_EQ(result.seeds.back().outcome, SeedOutcome::Failed);
  for (std::size_t i = 0; i < result.seeds.size(); ++i) EXPECT_EQ(result.seeds[i].seed, 1 + i);
}

// A seed that outlives its time limit is killed and kept: TimedOut, with a
// repro the parent writes from the spec alone.
TEST(RunSweep, HungSeedIsKilledAndRecorded) {
  TempDir dir;
  SweepSpec spec = small_sweep(dir, "chicago");
  spec.base.size = 1000;  // millions of steps: far beyond the limit below
  spec.base.max_steps = UINT64_MAX;
  spec.base.faults = "swarm";
  spec.seeds = {3, 4};
  spec.jobs = 2;
  spec.seed_timeout_seconds = 0.05;
  std::ostringstream progress;
  const SweepResult result = run_sweep(spec, progress, false);
  ASSERT_EQ(result.seeds.size(), 2u);
  for (const SeedResult& s : result.seeds) {
    if (s.outcome != SeedOutcome::TimedOut) GTEST_SKIP() << "seed " << s.seed << " finished within 50 ms";
    EXPECT_EQ(s.detail, "timed out after 0.05 s");
    std::string error;
    const auto repro = read_repro(s.repro_path, &error);
    ASSERT_TRUE(repro.ok()) << error;
    EXPECT_EQ(repro->spec.seed, s.seed);
    EXPECT_EQ(repro->spec.size, 1000u);
    EXPECT_NE(repro->spec.faults, "swarm") << "repros name the concrete plan";
    ASSERT_TRUE(repro->failure.has_value());
    EXPECT_EQ(repro->failure->oracle, "hang");
    EXPECT_EQ(repro->failure->message, s.detail);
  }
  EXPECT_NE(progress.str().find("timed-out"), std::string::npos);
}

TEST(Shrink, RefusesARunThatPasses) {
  Repro repro;
  repro.spec.scenario = "budget";
  repro.spec.size = 1;
  std::ostringstream log;
  std::string error;
  const auto result = shrink(repro, ShrinkLimits{}, log, &error);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Errc::InvalidConfig);
  EXPECT_EQ(error, "the repro passes: nothing to shrink");
}

TEST(Shrink, MinimalReproFailsTheSameWayAndReplaysExactly) {
  RunSpec spec;
  spec.scenario = "chicago";
  spec.seed = 4;
  spec.size = 2;
  spec.test_hook = "corrupt-segment";
  const auto original = run_scenario(spec);
  ASSERT_TRUE(original.ok());
  ASSERT_FALSE(original->passed);
  const Repro failing = repro_from_report(*original);

  std::ostringstream log;
  std::string error;
  const auto shrunk = shrink(failing, ShrinkLimits{.max_runs = 60, .max_seconds = 120}, log, &error);
  ASSERT_TRUE(shrunk.ok()) << error;
  EXPECT_LE(shrunk->runs, 60u);
  EXPECT_LE(shrunk->threads_after, shrunk->threads_before);
  EXPECT_LE(shrunk->size_after, shrunk->size_before);
  EXPECT_LE(shrunk->decisions_after, shrunk->decisions_before);
  EXPECT_EQ(shrunk->decisions_before, original->decisions.size());
  EXPECT_GE(shrunk->threads_after, 1u);
  const Repro& minimal = shrunk->minimal;
  ASSERT_TRUE(minimal.failure.has_value());
  EXPECT_EQ(minimal.failure->oracle, original->failure->oracle);
  EXPECT_EQ(minimal.spec.threads, shrunk->threads_after);
  EXPECT_EQ(minimal.spec.decisions.size(), shrunk->decisions_after);

  // The minimal repro is exact: replaying it (as `segsim replay` does, from
  // the file) gives its recorded failure and trace hash.
  const auto reread = repro_from_json(repro_to_json(minimal), &error);
  ASSERT_TRUE(reread.ok()) << error;
  const auto replay = run_scenario(reread->spec);
  ASSERT_TRUE(replay.ok());
  ASSERT_FALSE(replay->passed);
  EXPECT_EQ(replay->failure->oracle, original->failure->oracle);
  EXPECT_EQ(replay->trace_hash, minimal.expected_trace_hash);
  EXPECT_NE(log.str().find("done after"), std::string::npos) << log.str();
}

}  // namespace
}  // namespace segsim::scenarios
