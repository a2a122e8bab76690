#pragma once

#include "scenarios/oracles/oracles.h"
#include "sim/simulation.h"

namespace segsim::scenarios {

// Turns a failed simulation into the run's failure, unless an oracle already failed.
void explain_simulation_failure(const sim::RunResult& result, Oracles& oracles);

}  // namespace segsim::scenarios
