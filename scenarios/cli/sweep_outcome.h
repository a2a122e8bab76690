// What sweep and merge share: reading results and probe lists (exit 2 when
// they are bad), printing failed seeds and probes, writing --json / --junit.
#pragma once

#include <string>
#include <vector>

#include "scenarios/cli/options.h"
#include "scenarios/sweep.h"

namespace segsim::scenarios::cli {

SweepResult read_results_or_die(const std::string& path);

// The probe names a --require-probes file lists (none for "").
std::vector<std::string> read_required_or_die(const std::string& path);

void print_failed_seeds(const SweepResult& result);

// The probe summary, then the required probes that never fired: false if any.
bool report_probes(const SweepResult& result, const std::vector<std::string>& required);

// Writes --json / --junit; the first error line, or "".
std::string write_results(const SweepResult& result, const ResultsOutputs& outputs);

// 0 when no seed failed and every required probe fired, else 1. Results
// that could not be saved (`write_error`) are bad output (exit 2), unless
// failures were found (printed already): those keep exit 1.
int results_exit_code(const SweepResult& result, bool probes_ok, const std::string& write_error);

}  // namespace segsim::scenarios::cli
