// What sweep and merge share (sweep_outcome.h).
#include "scenarios/cli/sweep_outcome.h"

#include <iostream>

#include <fmt/format.h>

#include "scenarios/cli/commands.h"
#include "scenarios/probe_report.h"
#include "scenarios/safe_file.h"

namespace segsim::scenarios::cli {

SweepResult read_results_or_die(const std::string& path) {
  std::string error;
  auto text = read_text_file(path, kMaxSweepResultsBytes, "sweep results", &error);
  if (!text.ok()) bad_input(error);
  auto result = sweep_from_json(text.value(), &error);
  if (!result.ok()) bad_input(fmt::format("{}: {}", quoted_text(path, 200), error));
  return std::move(result.value());
}

std::vector<std::string> read_required_or_die(const std::string& path) {
  if (path.empty()) return {};
  std::string error;
  auto names = read_probe_list(path, &error);
  if (!names.ok()) bad_input(error);
  return std::move(names.value());
}

bool report_probes(const SweepResult& result, const std::vector<std::string>& required) {
  std::cout << probe_summary(result.probes) << "\n";
  if (!result.fault_point_asks.empty()) {
    std::cout << fault_point_summary(result.fault_point_asks, result.fault_point_fires) << "\n";
  }
  const std::vector<std::string> missing = missing_probes(result.probes, required);
  if (missing.empty()) return true;
  std::string names;
  for (const std::string& name : missing) names += (names.empty() ? "" : ", ") + name;
  std::cout << one_line(fmt::format("REQUIRED PROBES NEVER FIRED ({} of {}): {}", missing.size(), required.size(), names),
                        4000)
            << "\n";
  return false;
}

void print_failed_seeds(const SweepResult& result) {
  for (const SeedResult& seed : result.seeds) {
    if (seed.outcome == SeedOutcome::Passed) continue;
    std::cout << fmt::format("  seed {}: {} — {}\n", seed.seed, seed_outcome_name(seed.outcome), one_line(seed.detail));
    if (!seed.worker_stderr.empty()) std::cout << fmt::format("  its stderr: {}\n", one_line(seed.worker_stderr));
    std::cout << fmt::format("  reproduce: segsim replay {}\n", seed.repro_path.empty() ? "(no repro)" : seed.repro_path);
  }
}

std::string write_results(const SweepResult& result, const ResultsOutputs& outputs) {
  std::string error;
  if (!outputs.json_out.empty() && !write_text_file(outputs.json_out, sweep_to_json(result), &error).ok()) {
    return error;
  }
  if (!outputs.junit_out.empty() && !write_text_file(outputs.junit_out, sweep_to_junit(result), &error).ok()) {
    return error;
  }
  return {};
}

int results_exit_code(const SweepResult& result, bool probes_ok, const std::string& write_error) {
  if (!write_error.empty()) {
    if (result.failures() == 0 && probes_ok) bad_input(write_error);
    std::cerr << "segsim: " << one_line(write_error) << "\n";
  }
  return result.failures() == 0 && probes_ok ? kExitPassed : kExitFailure;
}

}  // namespace segsim::scenarios::cli
