// `segsim sweep`: many seeds of one RunSpec in forked worker processes, each
// seed with a time limit, `jobs` at a time. A worker runs up to
// seeds_per_worker seeds one after another (sweep_child.h has the protocol);
// a crash (signal, sanitizer abort) or a hang of the system under test costs
// exactly the seed that was running — a recorded failure with its repro,
// never lost, never stopping the sweep unless stop_on_failure — and the
// worker is replaced.
#pragma once

#include <csignal>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "core/result.h"
#include "scenarios/run.h"
#include "scenarios/seed_range.h"
#include "scenarios/sweep_result.h"
#include "sim/fatal_failure.h"

namespace segsim::scenarios {

// A seed's time limit (sweep --timeout) must lie in this range.
inline constexpr double kMinSeedTimeoutSeconds = 0.01;
inline constexpr double kMaxSeedTimeoutSeconds = 7 * 24 * 3600.0;
// Seeds one worker process runs before it is replaced (sweep --seeds-per-worker).
// 1 is a fresh process per seed. The default amortises fork and process
// set-up over many cheap seeds while bounding what a worker can accumulate.
inline constexpr std::uint32_t kDefaultSeedsPerWorker = 100;
inline constexpr std::uint32_t kMaxSeedsPerWorker = 1'000'000;
// A worker whose resident memory grew this much past its first seed's is replaced.
inline constexpr std::size_t kDefaultWorkerRssGrowthBytes = std::size_t{256} << 20;

struct SweepSpec {
  RunSpec base;  // seed is replaced per run
  SeedRange seeds;
  Shard shard;
  std::uint32_t jobs = 1;
  bool stop_on_failure = false;
  double seed_timeout_seconds = 60;   // a seed running longer is a hang: killed, recorded
  // A worker process runs at most this many seeds (>= 1; 1: a process per
  // seed), and is replaced sooner when its memory grew past the limit. Forced
  // to 1 while the flight recorder is on at the start (its crash reports are
  // per process: numbered, and at most kMaxReportsPerProcess).
  std::uint32_t seeds_per_worker = kDefaultSeedsPerWorker;
  std::size_t worker_rss_growth_bytes = kDefaultWorkerRssGrowthBytes;
  std::string failures_dir = "segsim-failures";  // repro files of failing seeds
  // Seeds already done (--resume): not run again, kept in the result.
  const SweepResult* done = nullptr;
  // Called with the results so far at most every checkpoint_seconds (longer
  // when the call itself is slow) as seeds finish, so a killed sweep loses at
  // most that much (the CLI rewrites --json atomically). Not called at the
  // end: the caller writes the returned result.
  std::function<void(const SweepResult&)> checkpoint;
  double checkpoint_seconds = 2;
  // Set (by a signal handler) to stop: running seeds are killed and not
  // recorded, no more start, the result has interrupted = the signal.
  const volatile std::sig_atomic_t* stop_signal = nullptr;
};

// Runs the sweep. Progress goes to `progress`: a one-line bar redrawn in place
// (seeds done, seeds/s, failures) when `terminal`, plain lines otherwise.
SweepResult run_sweep(const SweepSpec& spec, std::ostream& progress, bool terminal);

// The failure a sweep records for a seed whose process died of a failure the
// simulator still named (sim/fatal_failure.h) — what its repro holds, and
// what `segsim replay` of that repro compares the replayed death with.
Failure named_death_failure(const sim::FatalFailure& fatal);

}  // namespace segsim::scenarios
