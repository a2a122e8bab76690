// `segsim sweep`: many seeds of one RunSpec, each in a forked child with a
// time limit, `jobs` at a time. A crash (signal, sanitizer abort) or a hang
// of the system under test is a recorded failure with its repro — never lost,
// never stopping the sweep unless stop_on_failure.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "core/result.h"
#include "scenarios/run.h"

namespace segsim::scenarios {

struct SeedRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
};
// "A..B" with A <= B (decimal). InvalidConfig with `error_line` otherwise.
Result<SeedRange> parse_seed_range(const std::string& text, std::string* error_line);

struct Shard {
  std::uint32_t index = 0;  // 0-based
  std::uint32_t count = 1;
};
// "K/N" with 0 <= K < N (0-based, as GTEST_SHARD_INDEX).
Result<Shard> parse_shard(const std::string& text, std::string* error_line);
// The seeds of `range` this shard runs: every seed s with (s - first) % count == index.
std::vector<std::uint64_t> shard_seeds(const SeedRange& range, const Shard& shard);

struct SweepSpec {
  RunSpec base;  // seed is replaced per run
  SeedRange seeds;
  Shard shard;
  std::uint32_t jobs = 1;
  bool stop_on_failure = false;
  double seed_timeout_seconds = 60;   // a seed running longer is a hang: killed, recorded
  std::string failures_dir = "segsim-failures";  // repro files of failing seeds
};

enum class SeedOutcome { Passed, Failed, Crashed, TimedOut };
std::string_view seed_outcome_name(SeedOutcome outcome);

struct SeedResult {
  std::uint64_t seed = 0;
  SeedOutcome outcome = SeedOutcome::Passed;
  std::string detail;       // failure signature, "killed by SIGSEGV", "timed out after 60 s"
  std::string repro_path;   // for anything but Passed
  std::uint64_t trace_hash = 0;  // Passed / Failed
  std::uint64_t steps = 0;
  double seconds = 0;
};

struct SweepResult {
  std::string scenario;
  std::string strategy;
  std::string faults;
  std::vector<SeedResult> seeds;  // in seed order
  double wall_seconds = 0;
  std::size_t failures() const;   // everything but Passed
};

// Runs the sweep. Progress goes to `progress`: a one-line bar redrawn in place
// (seeds done, seeds/s, failures) when `terminal`, plain lines otherwise.
SweepResult run_sweep(const SweepSpec& spec, std::ostream& progress, bool terminal);

// Results as JSON (for `--json` and `merge`) and as JUnit XML (for CI).
std::string sweep_to_json(const SweepResult& result);
Result<SweepResult> sweep_from_json(const std::string& text, std::string* error_line);
std::string sweep_to_junit(const SweepResult& result);
// Combines shard results of one sweep (same scenario, strategy, faults).
Result<SweepResult> merge_sweeps(const std::vector<SweepResult>& shards, std::string* error_line);

}  // namespace segsim::scenarios
