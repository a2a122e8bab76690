// Sweep workers (issue 17, "Cheaper seeds"): a crash in the middle of a
// worker's seeds costs exactly that seed; workers that retire (seed quota,
// memory growth) are replaced without losing or changing a seed; what a
// worker resets between seeds is reset.
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/flight_recorder.h"
#include "core/sanitizers.h"
#include "scenarios/repro.h"
#include "scenarios/sweep.h"
#include "scenarios/tests/test_files.h"
#include "scenarios/worker_life.h"

namespace segsim::scenarios {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

SweepSpec worker_sweep(const TempDir& dir, const std::string& name) {
  SweepSpec spec;
  spec.base.scenario = "chicago";
  spec.base.size = 1;
  spec.failures_dir = (dir.path() / name).string();
  spec.seed_timeout_seconds = 600;  // a hang, not slowness, must trip it
  return spec;
}

SweepResult sweep(const SweepSpec& spec) {
  std::ostringstream progress;
  SweepResult result = run_sweep(spec, progress, false);
  EXPECT_TRUE(result.environment_error.empty()) << result.environment_error;
  return result;
}

// Seed for seed: the outcome and everything a passing or failing seed reports.
void expect_same_seeds(const SweepResult& a, const SweepResult& b) {
  ASSERT_EQ(a.seeds.size(), b.seeds.size());
  for (std::size_t i = 0; i < a.seeds.size(); ++i) {
    const SeedResult& x = a.seeds[i];
    const SeedResult& y = b.seeds[i];
    EXPECT_EQ(x.seed, y.seed);
    EXPECT_EQ(x.outcome, y.outcome) << "seed " << x.seed << ": " << x.detail << " vs " << y.detail;
    EXPECT_EQ(x.trace_hash, y.trace_hash) << "seed " << x.seed;
    EXPECT_EQ(x.steps, y.steps) << "seed " << x.seed;
  }
  EXPECT_EQ(a.probes, b.probes);
}

TEST(SweepWorkers, ACrashingSeedCostsExactlyThatSeedAndTheWorkerIsReplaced) {
  TempDir dir;
  SweepSpec spec = worker_sweep(dir, "reused");
  spec.base.test_hook = kCrashHook;  // seeds 4 and 8 die of SIGSEGV mid-run
  spec.seeds = {1, 10};
  spec.jobs = 1;                     // one worker gets seeds 1..4, its replacement 5..8, the next 9..10
  spec.seeds_per_worker = 100;
  const SweepResult reused = sweep(spec);
  ASSERT_EQ(reused.seeds.size(), 10u);
  for (const SeedResult& s : reused.seeds) {
    if (s.seed % 4 != 0) {
      EXPECT_EQ(s.outcome, SeedOutcome::Passed) << "seed " << s.seed << ": " << s.detail;
      EXPECT_NE(s.trace_hash, 0u);
      RunSpec alone = spec.base;  // and exactly what the seed gives run alone
      alone.seed = s.seed;
      const auto report = run_scenario(alone);
      ASSERT_TRUE(report.ok());
      EXPECT_EQ(s.trace_hash, report->trace_hash) << "seed " << s.seed;
      continue;
    }
    EXPECT_EQ(s.outcome, SeedOutcome::Crashed) << "seed " << s.seed;
    // A sanitizer may turn the SIGSEGV into an abort or an exit: a crash all the same.
    EXPECT_FALSE(s.detail.empty());
    // The worker's last stderr line for this seed, never an earlier seed's:
    // the hook's own, or the sanitizer's last words after it (ASan's SUMMARY
    // line; TSan may end on "ThreadSanitizer: nested bug ..., aborting").
#if defined(SEGSIM_HAS_ASAN) || defined(SEGSIM_HAS_TSAN)
    EXPECT_TRUE(s.worker_stderr.starts_with("SUMMARY: ") || s.worker_stderr.find("Sanitizer") != std::string::npos)
        << s.worker_stderr;
#else
    EXPECT_EQ(s.worker_stderr, fmt::format("crash hook: seed {} writes to an inaccessible page", s.seed));
#endif
    EXPECT_EQ(s.repro_path, (fs::path(spec.failures_dir) / fmt::format("chicago-seed{}.json", s.seed)).string());
    std::string error;
    const auto repro = read_repro(s.repro_path, &error);
    ASSERT_TRUE(repro.ok()) << error;
    EXPECT_EQ(repro->spec.seed, s.seed);
    EXPECT_EQ(repro->spec.test_hook, kCrashHook);
    ASSERT_TRUE(repro->failure.has_value());
    EXPECT_EQ(repro->failure->oracle, "crash");
  }
  EXPECT_EQ(reused.failures(), 2u);
  // The same sweep with a process per seed: the same outcomes, details, hashes.
  spec.seeds_per_worker = 1;
  spec.failures_dir = (dir.path() / "fresh").string();
  const SweepResult fresh = sweep(spec);
  expect_same_seeds(reused, fresh);
  for (std::size_t i = 0; i < reused.seeds.size(); ++i) {
    EXPECT_EQ(reused.seeds[i].detail, fresh.seeds[i].detail);
    EXPECT_EQ(reused.seeds[i].worker_stderr, fresh.seeds[i].worker_stderr);
  }
}

TEST(SweepWorkers, StopOnFailureStopsEveryWorker) {
  TempDir dir;
  SweepSpec spec = worker_sweep(dir, "f");
  spec.base.test_hook = kCrashHook;
  spec.seeds = {1, 40};
  spec.jobs = 1;
  spec.stop_on_failure = true;
  const SweepResult result = sweep(spec);
  ASSERT_EQ(result.seeds.size(), 4u) << "seeds 1..3 pass, seed 4 crashes, nothing after it starts";
  EXPECT_EQ(result.seeds.back().outcome, SeedOutcome::Crashed);
}

TEST(SweepWorkers, RetiredWorkersAreReplacedWithoutChangingASeed) {
  TempDir dir;
  SweepSpec spec = worker_sweep(dir, "f");
  spec.base.scenario = "alloc-api";  // the flight recorder on in half its seeds
  spec.base.faults = "swarm";
  // 16 seeds took 97 s under TSan (an alloc-api seed costs ~2 s there); 10
  // still retire three workers by quota, 6 under the sanitizers one a job.
#if defined(SEGSIM_HAS_TSAN) || defined(SEGSIM_HAS_ASAN)
  spec.seeds = {1, 6};
#else
  spec.seeds = {1, 10};
#endif
  spec.jobs = 2;
  spec.seeds_per_worker = 1;
  const SweepResult fresh = sweep(spec);
  spec.seeds_per_worker = 3;  // retired by quota mid-sweep
  expect_same_seeds(sweep(spec), fresh);
  spec.seeds_per_worker = 1000;
  spec.worker_rss_growth_bytes = 0;  // retired as soon as its memory grows at all
  expect_same_seeds(sweep(spec), fresh);
  spec.worker_rss_growth_bytes = kDefaultWorkerRssGrowthBytes;
  expect_same_seeds(sweep(spec), fresh);
  for (const SeedResult& s : fresh.seeds) EXPECT_EQ(s.outcome, SeedOutcome::Passed) << s.seed << ": " << s.detail;
}

TEST(WorkerLife, RetiresAfterItsSeedQuota) {
  sweep_detail::WorkerLife life(3, std::size_t{1} << 40);
  EXPECT_FALSE(life.seed_done());
  EXPECT_FALSE(life.seed_done());
  EXPECT_TRUE(life.seed_done());
  sweep_detail::WorkerLife one(1, std::size_t{1} << 40);
  EXPECT_TRUE(one.seed_done()) << "one seed per worker: a fresh process per seed";
}

TEST(WorkerLife, RetiresWhenItsMemoryGrowsPastTheLimit) {
  ASSERT_TRUE(sweep_detail::resident_bytes().has_value()) << "no /proc/self/statm";
  constexpr std::size_t kLimitBytes = std::size_t{8} << 20;
  sweep_detail::WorkerLife life(1000, kLimitBytes);
  EXPECT_FALSE(life.seed_done()) << "the first seed sets the baseline";
  EXPECT_FALSE(life.seed_done()) << "no growth yet";
  // A "leak" of 4x the limit, touched so it is resident.
  std::vector<char> leak(4 * kLimitBytes);
  std::memset(leak.data(), 1, leak.size());
  EXPECT_TRUE(life.seed_done());
  EXPECT_EQ(leak[leak.size() / 2], 1);
}

TEST(WorkerLife, ResetBetweenSeedsPutsTheRecorderReportCountBack) {
  TempDir dir;
  flight_recorder::Config config;
  config.dir = dir.path().string();
  config.catch_signals = false;
  std::string error;
  ASSERT_TRUE(flight_recorder::enable(config, &error)) << error;
  for (std::size_t i = 0; i < flight_recorder::kMaxReportsPerProcess; ++i) {
    EXPECT_FALSE(flight_recorder::write_report("test").empty());
  }
  EXPECT_EQ(flight_recorder::reports_written(), flight_recorder::kMaxReportsPerProcess);
  EXPECT_TRUE(flight_recorder::write_report("test").empty()) << "past the per-process cap";
  sweep_detail::reset_between_seeds();
  EXPECT_EQ(flight_recorder::reports_written(), flight_recorder::kMaxReportsPerProcess)
      << "while the recorder is on its count stays: new reports would reuse earlier names";
  flight_recorder::disable();
  sweep_detail::reset_between_seeds();
  EXPECT_EQ(flight_recorder::reports_written(), 0u) << "a worker's next seed starts as a fresh process";
}

}  // namespace
}  // namespace segsim::scenarios
