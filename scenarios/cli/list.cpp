// segsim list: scenarios, strategies, fault kinds, fault points, probes, bugs.
#include <iostream>

#include <fmt/format.h>

#include "core/fault_point.h"
#include "core/mutants.h"
#include "core/probe.h"
#include "scenarios/cli/commands.h"
#include "scenarios/cli/options.h"

namespace segsim::scenarios::cli {

namespace {

void list_scenarios_and_strategies() {
  std::cout << "scenarios:\n";
  for (const ScenarioInfo& s : scenario_catalogue()) {
    std::cout << fmt::format("  {:<13} {} (default threads {}, size {})\n", s.name, s.description,
                             s.default_threads, s.default_size);
  }
  std::cout << "strategies:\n  random        uniform among runnable fibers\n"
               "  pct           PCT with depth D (--pct-depth, default 3), k calibrated (--pct-steps)\n"
               "  pos           POS, partial order sampling (conflicting operations re-drawn)\n"
               "  rr            round robin (debugging)\n"
               "  replay        follow a repro's recorded decisions (segsim replay)\n"
               "  fuzz          a fuzzer's input bytes (fuzz_scenario; segsim fuzz-artifact)\n";
}

void list_faults_and_probes() {
  std::cout << "fault kinds (--faults SPEC, docs/faults.md):\n"
               "  mmap|munmap|madvise|map_file|stat|create|write|close:ERRNO@nth=N|after=N|p=P\n"
               "  async:delay[@p=P]  async:reorder[@p=P]  point:SITE@p=P  none  swarm\n";
  std::cout << "fault points:\n";
  for (const auto& site : fault_points::kFaultPoints) {
    std::cout << fmt::format("  {:<24} {}\n", site.name, site.effect);
  }
  std::cout << "probes (sweep --require-probes FILE; * = required by the CI campaign):\n";
  for (const auto& probe : probes::kProbes) {
    std::cout << fmt::format("  {:<32} {}{}\n", probe.name, probe.what, probe.required ? " *" : "");
  }
}

int command_list() {
  list_scenarios_and_strategies();
  list_faults_and_probes();
  std::cout << "bugs (--bug NAME, segsim hunt):\n";
  if (!segsim::mutants::kBuilt) {
    std::cout << "  (none in this build: configure with the mutants preset)\n";
  } else {
    for (const auto& bug : segsim::mutants::kCatalogue) {
      std::cout << fmt::format("  {:<24} [{}] {}\n", bug.name, bug.scenario, bug.mistake);
    }
  }
  return kExitPassed;
}

}  // namespace

Subcommand add_list_command(CLI::App& app) {
  auto* list = app.add_subcommand("list", "scenarios, strategies, fault kinds, fault points, probes, bugs");
  return {list, [](const std::vector<std::string>&) { return command_list(); }};
}

}  // namespace segsim::scenarios::cli
