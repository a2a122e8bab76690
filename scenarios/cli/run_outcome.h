// What run and replay share: the run itself (a refused spec is exit 2), its
// one-screen summary, its output files and, when it fails, its repro.
#pragma once

#include <string>

#include "scenarios/cli/options.h"
#include "scenarios/run.h"

namespace segsim::scenarios::cli {

// The run options the requested outputs need (full trace, memory samples).
RunOptions options_for(const RunOutputs& outputs);

// run_scenario, or one line and exit 2 when it refuses the spec.
RunReport run_or_die(const RunSpec& spec, const RunOptions& options);

// Prints the run's summary, writes its outputs and, when it failed, its
// repro (to `repro_override` when given). A found failure stays exit 1 even
// when a file cannot be written.
int finish_run(RunReport report, const RunOutputs& outputs, const std::string& repro_override = "");

}  // namespace segsim::scenarios::cli
