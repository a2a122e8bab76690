// Reproducing a crash report (DESIGN.md, "Crash reports"; PRES, SOSP 2009):
// the report becomes a run of the "recorded" scenario (scenarios/recording.h,
// scenarios/workloads/recorded.cpp) — its recorded operations, one fiber per
// recorded thread, on a fresh allocator with the report's region size and
// budget, with the catalogued bug the report names — under the simulator.
// Attempt 1 follows the recorded order; later attempts explore around it
// (random and PCT schedules by turns, one seed each). The first attempt whose
// failure is the report's recurring (recurs_in: same kind, operation and
// stable ids) is the outcome, as an ordinary repro file: its spec embeds the
// recording, so `segsim replay` of it fails the same way in any process.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/result.h"
#include "scenarios/crash_report.h"
#include "scenarios/fuzz_artifact.h"
#include "scenarios/repro.h"

namespace segsim::scenarios {

struct ReproduceLimits {
  std::uint32_t max_attempts = 32;
  double max_seconds = 60;
};

struct ReproduceOutcome {
  bool reproduced = false;
  std::uint32_t attempts = 0;
  double seconds = 0;
  std::string schedule;        // "recorded order", "random seed 3", "pct seed 4"
  std::string failure;         // what recurred: the failure's signature
  std::optional<Repro> repro;  // when reproduced: the reproducing attempt's run
};

// InvalidConfig (with `error_line`) for a report this cannot run: a stack
// config the allocator refuses, a failure kind it cannot match, a bug this
// build cannot switch on; OutOfMemory ("environment: ...") when the
// simulator cannot set itself up.
Result<ReproduceOutcome> reproduce_crash(const CrashReport& report, const ReproduceLimits& limits,
                                         std::string* error_line);

// A libFuzzer artifact of one of our fuzz targets (scenarios/fuzz_artifact.h):
// fuzz_alloc_ops' operations under the simulator, one seed per attempt; a
// fuzz_scenario input is the whole run it encodes (scenarios/fuzz_input.h),
// run once. Any failure of the oracles is the outcome. InvalidConfig for a
// target no scenario runs.
Result<ReproduceOutcome> reproduce_fuzz_artifact(const FuzzArtifact& artifact, const ReproduceLimits& limits,
                                                 std::string* error_line);

}  // namespace segsim::scenarios
