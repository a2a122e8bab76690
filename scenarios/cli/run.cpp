// segsim run SCENARIO: one seed (three times with --check-determinism: fresh_run.h).
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "scenarios/cli/commands.h"
#include "scenarios/cli/fresh_run.h"
#include "scenarios/cli/options.h"
#include "scenarios/cli/run_outcome.h"

namespace segsim::scenarios::cli {

namespace {

struct RunCommand {
  RunSpec spec;
  RunOutputs outputs;
  bool check_determinism = false;
};

// The fresh process's time limit: 20 times the first run's wall time, and a
// minute (a hang there is cut off and named).
constexpr double kFreshRunSlackSeconds = 60;
constexpr double kFreshRunTimesFirst = 20;

// The seed once more in this process (after the first run: another heap
// history, the statics it left), then in a fresh process under another heap
// (fresh_run.h): the same trace hash and outcome each time. Prints the verdict.
bool check_determinism(const RunSpec& spec, const RunOptions& options, const RunReport& first) {
  const RunReport second = run_or_die(spec, options);
  if (second.trace_hash != first.trace_hash || second.passed != first.passed) {
    std::cout << fmt::format("determinism: NOT deterministic — trace hash {:#018x} ({}), then {:#018x} ({}) in this "
                             "process\n",
                             first.trace_hash, first.passed ? "passed" : "failed", second.trace_hash,
                             second.passed ? "passed" : "failed");
    return false;
  }
  std::string heap;
  for (const std::string& assignment : other_heap_environment(std::getenv("ASAN_OPTIONS"))) {
    heap += (heap.empty() ? "" : " ") + assignment;
  }
  const FreshRun fresh = run_in_fresh_process(spec, kFreshRunSlackSeconds + kFreshRunTimesFirst * first.wall_seconds);
  if (!fresh.started) {
    std::cout << fmt::format("determinism: two runs in this process, same trace hash {:#018x}; NOT checked in a "
                             "fresh process: {}\n",
                             first.trace_hash, fresh.error);
    return true;
  }
  if (!fresh.ran || fresh.trace_hash != first.trace_hash || fresh.passed != first.passed) {
    const std::string there = fresh.ran ? fmt::format("trace hash {:#018x} ({})", fresh.trace_hash,
                                                      fresh.passed ? "passed" : "failed")
                                        : fresh.error;
    std::cout << fmt::format("determinism: NOT deterministic — trace hash {:#018x} ({}) twice in this process; in a "
                             "fresh process under another heap ({}): {}\n",
                             first.trace_hash, first.passed ? "passed" : "failed", heap, there);
    return false;
  }
  std::cout << fmt::format("determinism: three runs, same trace hash {:#018x} (two in this process, one in a fresh "
                           "process under another heap: {})\n",
                           first.trace_hash, heap);
  return true;
}

int command_run(const RunCommand& command) {
  require_mutants_for(command.spec.bug);
  const RunOutputs& outputs = command.outputs;
  check_outputs({outputs.trace_out, outputs.plot, outputs.report});
  const RunOptions options = options_for(outputs);
  RunReport first = run_or_die(command.spec, options);
  if (command.check_determinism && !check_determinism(command.spec, options, first)) return kExitFailure;
  return finish_run(std::move(first), outputs);
}

}  // namespace

Subcommand add_run_command(CLI::App& app) {
  auto command = std::make_shared<RunCommand>();
  auto* run = app.add_subcommand("run", "run one scenario under one seed");
  run->add_option("scenario", command->spec.scenario, "scenario name (segsim list)")->required();
  add_whole(run, "--seed", command->spec.seed, 0, UINT64_MAX, "root seed");
  add_run_knobs(run, command->spec);
  run->add_option("--test-hook", command->spec.test_hook, fmt::format("test-only sabotage (corrupt-segment, {}, {}, {}, {}, {})", kCrashHook,
                                                                kUseAfterUnmapHook, kAssertInDestructorHook,
                                                                kAssertInTeardownHook, kHeapReuseHook));
  add_run_outputs(run, command->outputs, /*with_report=*/true);
  run->add_flag("--check-determinism", command->check_determinism,
                "run the seed twice here and once in a fresh process under another heap; "
                "compare trace hashes and outcomes (exit 1 if they differ)");
  return {run, [command](const std::vector<std::string>&) { return command_run(*command); }};
}

}  // namespace segsim::scenarios::cli
