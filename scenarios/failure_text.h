// A failure as a person reads it (the CLI's report) and as JSON (--report):
// the oracle and message, the first offending operation with its fiber and
// step, the slice involved by stable id and its history, and the trace
// events and slice operations around the failing step.
#pragma once

#include <ostream>

#include <nlohmann/json.hpp>

#include "scenarios/run.h"

namespace segsim::scenarios {

// Everything but the `reproduce:` line, which depends on where the repro went.
void print_failure_details(const RunReport& report, std::ostream& out);

nlohmann::json failure_json(const Failure& failure);

}  // namespace segsim::scenarios
