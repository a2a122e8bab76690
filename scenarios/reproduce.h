// Reproducing a crash report (DESIGN.md, "Crash reports"; PRES, SOSP 2009):
// the recorded operations of each thread become a fiber running the same
// operations with the same sizes on a fresh allocator (same region size and
// budget) over a SimOs, under the simulator. The first attempt follows the
// recorded order (a gate lets each operation run only when its sequence
// number is the next recorded one; equal numbers were concurrent and run in
// either order); later attempts explore around
// it (random and PCT schedules, one seed each). Handles are matched by the
// recorded stable ids (region, slice, generation) of their allocation;
// slices allocated before the rings' window are allocated up front. The
// failure recurs when the same call (release / reset) of the same recorded
// handle is refused with the same Errc.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"
#include "scenarios/crash_report.h"

namespace segsim::scenarios {

struct ReproduceLimits {
  std::uint32_t max_attempts = 32;
  double max_seconds = 60;
};

struct ReproduceOutcome {
  bool reproduced = false;
  std::uint32_t attempts = 0;
  double seconds = 0;
  std::string schedule;  // "recorded order", "random seed 3", "pct seed 4"
  std::string failure;   // what recurred, one line
};

// InvalidConfig (with `error_line`) for a report this cannot run: a stack
// config the allocator refuses, a failure kind it cannot match.
Result<ReproduceOutcome> reproduce_crash(const CrashReport& report, const ReproduceLimits& limits,
                                         std::string* error_line);

}  // namespace segsim::scenarios
