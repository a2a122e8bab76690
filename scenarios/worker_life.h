// A sweep worker's life (sweep_child.h): how many seeds it runs before it
// is replaced, and the process-wide state it puts back between seeds.
//
// A worker is replaced after `seeds_per_worker` seeds, or sooner when its
// resident memory has grown more than `rss_growth_bytes` past what it held
// after its first seed: a slow leak (of the harness or of the stack under
// test) can then neither exhaust memory nor — since every seed starts from
// the state reset_between_seeds() restores — change any seed's result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace segsim::scenarios::sweep_detail {

class WorkerLife {
 public:
  WorkerLife(std::uint32_t seeds_per_worker, std::size_t rss_growth_bytes)
      : seeds_per_worker_(seeds_per_worker), rss_growth_bytes_(rss_growth_bytes) {}
  // After a seed: whether the worker retires now.
  bool seed_done();

 private:
  const std::uint32_t seeds_per_worker_;
  const std::size_t rss_growth_bytes_;
  std::uint32_t seeds_ = 0;
  std::optional<std::size_t> baseline_rss_bytes_;  // after the first seed
};

// This process's resident bytes (/proc/self/statm), nullopt when unreadable.
std::optional<std::size_t> resident_bytes();

// Before each seed in a worker: the process-wide state a run leaves behind
// and a fresh process would not have, put back. run_scenario() already
// scopes most of it to the run (probe counts, the fault-point controller,
// the bug switch, the simulation's thread identity); what is left:
//  * the flight recorder's per-process report count (a run that turns the
//    recorder on — alloc-api — writes reports numbered from it, and stops
//    at kMaxReportsPerProcess) — reset only while the recorder is off;
//  * the logical clock of the recorder's order (platform/sync_clock.h);
//  * the simulator's note that this thread's last simulation ended, which
//    names an assert in a run's teardown (sim/fatal_failure.h).
void reset_between_seeds();

}  // namespace segsim::scenarios::sweep_detail
