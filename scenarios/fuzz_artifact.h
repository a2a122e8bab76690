// A libFuzzer artifact (crash-<sha1>, timeout-…, oom-…, leak-…) of one of our
// fuzz targets, as a run's workload: the "fuzz-alloc-ops" scenario decodes
// it the way fuzz_alloc_ops does (scenarios/alloc_ops_input.h) and runs its
// operations under the simulator and the oracles. A RunSpec carries it and a
// repro file embeds it (base64), so `segsim reproduce crash-<sha1>` writes an
// ordinary repro.
#pragma once

#include <string>
#include <string_view>

namespace segsim::scenarios {

// fuzz_scenario's inputs are whole runs (scenarios/fuzz_input.h), not a
// scenario's workload: `reproduce` runs them as they are.
inline constexpr std::string_view kFuzzScenarioTarget = "scenario";

struct FuzzArtifact {
  std::string target;  // the fuzz target's name without "fuzz_": "alloc_ops"
  std::string bytes;   // the artifact as saved
};

// The fuzz targets whose artifacts a scenario runs, and that scenario's name
// ("" when the target has none).
std::string_view scenario_for_fuzz_target(std::string_view target);

}  // namespace segsim::scenarios
