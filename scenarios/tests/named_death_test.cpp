// A seed whose process dies of an assertion the simulator could not throw —
// in a noexcept destructor on a fiber, in the run's teardown — is a seed
// failed by the oracle "assertion" (sim/fatal_failure.h), with its repro,
// not a crash; the worker's other seeds are unchanged.
#include <filesystem>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "scenarios/repro.h"
#include "scenarios/sweep.h"
#include "scenarios/tests/test_files.h"

namespace segsim::scenarios {
namespace {

using testing::TempDir;

SweepResult sweep_with_hook(const TempDir& dir, const std::string& hook) {
  SweepSpec spec;
  spec.base.scenario = "chicago";
  spec.base.size = 1;
  spec.base.test_hook = hook;
  spec.failures_dir = (dir.path() / hook).string();
  spec.seed_timeout_seconds = 600;  // a hang, not slowness, must trip it
  spec.seeds = {1, 3};
  spec.jobs = 1;
  spec.seeds_per_worker = 100;  // each seed kills its worker: the next one starts fresh
  std::ostringstream progress;
  SweepResult result = run_sweep(spec, progress, false);
  EXPECT_TRUE(result.environment_error.empty()) << result.environment_error;
  return result;
}

void expect_named(const SweepResult& result, const std::string& condition, const std::string& where) {
  ASSERT_EQ(result.seeds.size(), 3u);
  for (const SeedResult& s : result.seeds) {
    EXPECT_EQ(s.outcome, SeedOutcome::Failed) << "seed " << s.seed << ": " << s.detail;
    EXPECT_EQ(s.detail.rfind("assertion: ", 0), 0u) << s.detail;
    EXPECT_NE(s.detail.find(condition), std::string::npos) << s.detail;
    EXPECT_NE(s.detail.find(where), std::string::npos) << s.detail;
    std::string error;
    const auto repro = read_repro(s.repro_path, &error);
    ASSERT_TRUE(repro.ok()) << s.repro_path << ": " << error;
    EXPECT_EQ(repro->spec.seed, s.seed);
    ASSERT_TRUE(repro->failure.has_value());
    EXPECT_EQ(repro->failure->oracle, "assertion");
    EXPECT_NE(repro->failure->message.find(condition), std::string::npos) << repro->failure->message;
  }
}

TEST(NamedDeath, AnAssertionInANoexceptDestructorOnAFiberFailsTheSeedByName) {
  TempDir dir;
  expect_named(sweep_with_hook(dir, kAssertInDestructorHook),
               "fiber #0 'conductor' assertion failed: !armed (test hook: an assertion in a noexcept destructor",
               "the process aborted: it was thrown through a frame that cannot throw");
}

TEST(NamedDeath, AnAssertionInTheRunsTeardownFailsTheSeedByName) {
  TempDir dir;
  expect_named(sweep_with_hook(dir, kAssertInTeardownHook),
               "assertion failed: spec.test_hook != kAssertInTeardownHook (test hook: an assertion in the run's "
               "teardown)",
               "the process aborted: it fired after the simulation ended");
}

}  // namespace
}  // namespace segsim::scenarios
