// segsim run SCENARIO: one seed (twice with --check-determinism).
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "scenarios/cli/commands.h"
#include "scenarios/cli/options.h"
#include "scenarios/cli/run_outcome.h"

namespace segsim::scenarios::cli {

namespace {

struct RunCommand {
  RunSpec spec;
  RunOutputs outputs;
  bool check_determinism = false;
};

int command_run(const RunCommand& command) {
  require_mutants_for(command.spec.bug);
  const RunOutputs& outputs = command.outputs;
  check_outputs({outputs.trace_out, outputs.plot, outputs.report});
  const RunOptions options = options_for(outputs);
  RunReport first = run_or_die(command.spec, options);
  if (command.check_determinism) {
    const RunReport second = run_or_die(command.spec, options);
    if (second.trace_hash != first.trace_hash || second.failure.has_value() != first.failure.has_value()) {
      std::cout << fmt::format("determinism: NOT deterministic — trace hash {:#018x} then {:#018x}\n",
                               first.trace_hash, second.trace_hash);
      return kExitFailure;
    }
    std::cout << fmt::format("determinism: two runs, same trace hash {:#018x}\n", first.trace_hash);
  }
  return finish_run(std::move(first), outputs);
}

}  // namespace

Subcommand add_run_command(CLI::App& app) {
  auto command = std::make_shared<RunCommand>();
  auto* run = app.add_subcommand("run", "run one scenario under one seed");
  run->add_option("scenario", command->spec.scenario, "scenario name (segsim list)")->required();
  add_whole(run, "--seed", command->spec.seed, 0, UINT64_MAX, "root seed");
  add_run_knobs(run, command->spec);
  run->add_option("--test-hook", command->spec.test_hook, fmt::format("test-only sabotage (corrupt-segment, {}, {}, {}, {})", kCrashHook,
                                                                kUseAfterUnmapHook, kAssertInDestructorHook,
                                                                kAssertInTeardownHook));
  add_run_outputs(run, command->outputs, /*with_report=*/true);
  run->add_flag("--check-determinism", command->check_determinism,
                "run the seed twice and compare trace hashes (exit 1 if they differ)");
  return {run, [command](const std::vector<std::string>&) { return command_run(*command); }};
}

}  // namespace segsim::scenarios::cli
