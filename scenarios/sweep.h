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
#include "scenarios/seed_range.h"
#include "scenarios/sweep_result.h"

namespace segsim::scenarios {

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

// Runs the sweep. Progress goes to `progress`: a one-line bar redrawn in place
// (seeds done, seeds/s, failures) when `terminal`, plain lines otherwise.
SweepResult run_sweep(const SweepSpec& spec, std::ostream& progress, bool terminal);

}  // namespace segsim::scenarios
