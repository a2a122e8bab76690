// `segsim sweep`: many seeds of one RunSpec, each in a forked child with a
// time limit, `jobs` at a time. A crash (signal, sanitizer abort) or a hang
// of the system under test is a recorded failure with its repro — never lost,
// never stopping the sweep unless stop_on_failure.
#pragma once

#include <csignal>
#include <cstdint>
#include <functional>
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

struct SweepResult;

// A seed's time limit (sweep --timeout) must lie in this range.
inline constexpr double kMinSeedTimeoutSeconds = 0.01;
inline constexpr double kMaxSeedTimeoutSeconds = 7 * 24 * 3600.0;

struct SweepSpec {
  RunSpec base;  // seed is replaced per run
  SeedRange seeds;
  Shard shard;
  std::uint32_t jobs = 1;
  bool stop_on_failure = false;
  double seed_timeout_seconds = 60;   // a seed running longer is a hang: killed, recorded
  std::string failures_dir = "segsim-failures";  // repro files of failing seeds
  // Seeds already done (--resume): not run again, kept in the result.
  const SweepResult* done = nullptr;
  // Called with the results so far at most every checkpoint_seconds (longer
  // when the call itself is slow) as seeds finish, so a killed sweep loses at
  // most that much (the CLI rewrites --json atomically). Not called at the
  // end: the caller writes the returned result.
  std::function<void(const SweepResult&)> checkpoint;
  double checkpoint_seconds = 2;
  // Set (by a signal handler) to stop: running children are killed and not
  // recorded, no more start, the result has interrupted = the signal.
  const volatile std::sig_atomic_t* stop_signal = nullptr;
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

struct ProbeCount {
  std::string name;
  std::uint64_t hits = 0;
  bool operator==(const ProbeCount&) const = default;
};

struct SweepResult {
  // The settings every seed ran with (resolved: threads, size and max_steps
  // are never 0 in a sweep's results). Seeds of one sweep are comparable
  // only under equal settings: merge refuses a mix.
  std::string scenario;
  std::string strategy;
  std::string faults;
  int pct_depth = 0;
  std::uint32_t threads = 0;
  std::uint32_t size = 0;
  std::uint64_t max_steps = 0;
  std::string test_hook;
  std::string bug;
  std::string build_id;

  std::vector<SeedResult> seeds;  // in seed order
  // Hits of every probe of core/ summed over the seeds (in probes::kProbes
  // order, zeros included); seeds that crashed or hung report none.
  std::vector<ProbeCount> probes;
  double wall_seconds = 0;
  int interrupted = 0;            // the signal that stopped the sweep, 0 if none
  std::string environment_error;  // the harness could not set a run up: the sweep stopped
  std::size_t failures() const;   // everything but Passed
};

// The settings of `spec` (resolved) into an empty result.
SweepResult sweep_settings(const RunSpec& spec);
// "" when a and b ran with the same settings, else one line naming the first difference.
std::string settings_difference(const SweepResult& a, const SweepResult& b);

// Runs the sweep. Progress goes to `progress`: a one-line bar redrawn in place
// (seeds done, seeds/s, failures) when `terminal`, plain lines otherwise.
SweepResult run_sweep(const SweepSpec& spec, std::ostream& progress, bool terminal);

// Results as JSON (for `--json` and `merge`) and as JUnit XML (for CI).
std::string sweep_to_json(const SweepResult& result);
Result<SweepResult> sweep_from_json(const std::string& text, std::string* error_line);
std::string sweep_to_junit(const SweepResult& result);
// Combines shard results of one sweep (same settings); probe hits are summed.
Result<SweepResult> merge_sweeps(const std::vector<SweepResult>& shards, std::string* error_line);
// Sweep results are read whole: at most this many bytes.
inline constexpr std::size_t kMaxSweepResultsBytes = std::size_t{256} << 20;

}  // namespace segsim::scenarios
