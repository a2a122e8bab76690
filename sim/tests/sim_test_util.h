// Helpers for simulator tests: run a program (a function that spawns fibers
// into a fresh Simulation) under a config, search seeds for a failure, and
// replay a recorded run.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/platform/atomic.h"
#include "core/sanitizers.h"
#include "sim/simulation.h"

namespace segsim::sim::testing {

// Seed counts for the long sweeps. Under the sanitizers they are cut tenfold:
// the simulator is single-threaded (TSan checks our fiber annotations, not
// races between fibers; ASan sees the same code paths in the first seeds as
// in the ten-thousandth — 70 s of asan's CI time went to one such test), and
// clang-14's TSan runtime was seen to crash (SEGV inside the runtime) after
// tens of thousands of fiber create/destroy cycles in one process
// (sim/README.md). The dev preset runs them all.
#if defined(SEGSIM_HAS_TSAN) || defined(SEGSIM_HAS_ASAN)
inline constexpr std::uint64_t kSeedScaleDivisor = 10;
#else
inline constexpr std::uint64_t kSeedScaleDivisor = 1;
#endif
constexpr std::uint64_t scaled_seeds(std::uint64_t seeds) { return seeds / kSeedScaleDivisor; }

// Spawns the program's fibers; each run gets fresh state from the program itself.
using Program = std::function<void(Simulation&)>;

inline RunResult run_program(const SimulationConfig& config, const Program& program) {
  Simulation simulation(config);
  program(simulation);
  return simulation.run();
}

// Two fibers that each count on their own atomic: no conflicts, many
// scheduling points (the strategies' determinism tests).
inline void two_counters(Simulation& s) {
  for (int f = 0; f < 2; ++f) {
    auto counter = std::make_shared<platform::Atomic<int>>(0);
    s.spawn("counter", [counter] {
      for (int i = 0; i < 50; ++i) counter->fetch_add(1);
    });
  }
}

struct Found {
  std::uint64_t seed;
  RunResult result;
};

// The first seed in [first, first + seeds) whose run fails, if any.
inline std::optional<Found> find_failure(SimulationConfig config, const Program& program,
                                         std::uint64_t first, std::uint64_t seeds) {
  for (std::uint64_t seed = first; seed < first + seeds; ++seed) {
    config.seed = seed;
    RunResult result = run_program(config, program);
    if (!result.passed()) return Found{seed, std::move(result)};
  }
  return std::nullopt;
}

// How many of `seeds` runs fail.
inline int count_failures(SimulationConfig config, const Program& program, std::uint64_t seeds) {
  int failures = 0;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    config.seed = seed;
    failures += run_program(config, program).passed() ? 0 : 1;
  }
  return failures;
}

// Re-runs `recorded` (made with `config` at `seed`) under the replay strategy.
inline RunResult replay(SimulationConfig config, std::uint64_t seed, const RunResult& recorded,
                        const Program& program) {
  config.seed = seed;
  config.strategy = "replay";
  config.replay_decisions = recorded.decisions;
  return run_program(config, program);
}

// Cross-process determinism: a child-process helper test prints one line per
// seed with print_child_hash(); the parent runs this very binary again (new
// ASLR, new heap history) with `env_flag`=1 and `gtest_filter`, and gets the
// child's seed → trace hash map (empty if the child failed to run).
inline void print_child_hash(std::uint64_t seed, std::uint64_t hash) {
  std::printf("trace_hash seed=%llu hash=%llu\n", static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(hash));
}

inline std::map<std::uint64_t, std::uint64_t> child_process_hashes(const std::string& env_flag,
                                                                   const std::string& gtest_filter) {
  const std::string command = env_flag + "=1 /proc/" + std::to_string(::getpid()) +
                              "/exe --gtest_filter=" + gtest_filter + " 2>&1";
  std::map<std::uint64_t, std::uint64_t> hashes;
  FILE* child = ::popen(command.c_str(), "r");
  if (child == nullptr) return hashes;
  char line[512];
  while (std::fgets(line, sizeof line, child) != nullptr) {
    unsigned long long seed = 0, hash = 0;
    if (std::sscanf(line, "trace_hash seed=%llu hash=%llu", &seed, &hash) == 2) hashes[seed] = hash;
  }
  if (::pclose(child) != 0) hashes.clear();
  return hashes;
}

}  // namespace segsim::sim::testing
