// A seed whose process dies of an assertion the simulator could not throw —
// in a noexcept destructor on a fiber, in the run's teardown — is a seed
// failed by the oracle "assertion" (sim/fatal_failure.h), with its repro,
// not a crash; so is a SIGSEGV inside SimOs memory that was unmapped (oracle
// use-after-release); the worker's other seeds are unchanged.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "core/sanitizers.h"
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

void expect_named(const SweepResult& result, const std::string& condition, const std::string& where,
                  const std::string& oracle = "assertion") {
  ASSERT_EQ(result.seeds.size(), 3u);
  for (const SeedResult& s : result.seeds) {
    EXPECT_EQ(s.outcome, SeedOutcome::Failed) << "seed " << s.seed << ": " << s.detail;
    EXPECT_EQ(s.detail.rfind(oracle + ": ", 0), 0u) << s.detail;
    EXPECT_NE(s.detail.find(condition), std::string::npos) << s.detail;
    EXPECT_NE(s.detail.find(where), std::string::npos) << s.detail;
    std::string error;
    const auto repro = read_repro(s.repro_path, &error);
    ASSERT_TRUE(repro.ok()) << s.repro_path << ": " << error;
    EXPECT_EQ(repro->spec.seed, s.seed);
    ASSERT_TRUE(repro->failure.has_value());
    EXPECT_EQ(repro->failure->oracle, oracle);
    EXPECT_NE(repro->failure->message.find(condition), std::string::npos) << repro->failure->message;
  }
}

// `segsim replay` of the repro a sweep wrote for a named death: the run dies
// again, and replay says whether it was the same failure and exits 1 — it
// does not end in SIGABRT.
void expect_replay_reproduces(const SweepResult& result) {
  if (!std::filesystem::exists(SEGSIM_CLI_BINARY)) {
    GTEST_SKIP() << "no " << SEGSIM_CLI_BINARY << " in this build: replay not checked";
  }
  ASSERT_FALSE(result.seeds.empty());
  const std::string command = std::string(SEGSIM_CLI_BINARY) + " replay '" + result.seeds[0].repro_path + "' 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  const int status = ::pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status)) << "replay did not exit (signal " << WTERMSIG(status) << "): " << out;
  EXPECT_EQ(WEXITSTATUS(status), 1) << out;
  EXPECT_NE(out.find("replay: reproduced exactly (same failure)"), std::string::npos) << out;
}

TEST(NamedDeath, AnAssertionInANoexceptDestructorOnAFiberFailsTheSeedByName) {
  TempDir dir;
  const SweepResult result = sweep_with_hook(dir, kAssertInDestructorHook);
  expect_named(result,
               "fiber #0 'conductor' assertion failed: !armed (test hook: an assertion in a noexcept destructor",
               "the process aborted: it was thrown through a frame that cannot throw");
  expect_replay_reproduces(result);
}

TEST(NamedDeath, AnAssertionInTheRunsTeardownFailsTheSeedByName) {
  TempDir dir;
  const SweepResult result = sweep_with_hook(dir, kAssertInTeardownHook);
  expect_named(result,
               "assertion failed: spec.test_hook != kAssertInTeardownHook (test hook: an assertion in the run's "
               "teardown)",
               "the process aborted: it fired after the simulation ended");
  expect_replay_reproduces(result);
}

// The SimOs guard's diagnosis goes through a signal handler, which allocates:
// ThreadSanitizer reports any allocation in a handler, so not under TSan.
TEST(NamedDeath, AWriteToUnmappedSimOsMemoryFailsTheSeedAsUseAfterRelease) {
#if defined(SEGSIM_HAS_TSAN)
  GTEST_SKIP() << "the guard's report allocates in a signal handler, which TSan reports";
#endif
  TempDir dir;
  const SweepResult result = sweep_with_hook(dir, kUseAfterUnmapHook);
  expect_named(result,
               "fiber #0 'conductor' accessed SimOs memory at offset 0x",
               "the process aborted: a SIGSEGV, which the run cannot survive", "use-after-release");
  expect_replay_reproduces(result);
}

}  // namespace
}  // namespace segsim::scenarios
