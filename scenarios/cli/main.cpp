// segsim — the command line (DESIGN.md, "The segsim CLI (contract)").
//
//   segsim list
//   segsim run SCENARIO [--seed N] [--strategy random|pct|pos|rr] [--pct-depth D] [--pct-steps K]
//                       [--faults none|swarm|SPEC] [--steps MAX] [--threads T] [--size S]
//                       [--trace-out F.json] [--plot F.svg] [--report F.json]
//   segsim sweep SCENARIO --seeds A..B [--jobs J] [--shard K/N] [--stop-on-failure]
//                         [--json F [--resume]] [--junit F] [--require-probes FILE]
//   segsim replay REPRO [--trace-out F.json]
//   segsim shrink REPRO -o MIN_REPRO
//   segsim merge RESULT.json... [--json F] [--junit F] [--require-probes FILE]
//   segsim hunt [--bug NAME|all] [--strategy random|pct|pos|swarm|all] [--budget-seconds S]
//               [--repeats R] [--jobs J] [--md F] [--json F]          (mutants builds)
//   segsim reproduce CRASH.json|REPRO [--attempts N] [--budget-seconds S]
//   segsim fuzz-artifact INPUT -o REPRO [--bug NAME] [--test-hook H]   (fuzz_scenario input → repro)
//
// Each subcommand is one file in scenarios/cli/; exit codes in commands.h.
#include <csignal>
#include <iostream>

#include <CLI/CLI.hpp>

#include "scenarios/cli/commands.h"
#include "scenarios/safe_file.h"

int main(int argc, char** argv) {
  using namespace segsim::scenarios::cli;
  // A closed stdout or stderr (`| head -1`) must not kill a run or a sweep
  // half-way: writes to it fail instead, and the results files are kept.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"segsim: deterministic simulation and fault injection for a database memory stack"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "all subcommands' options");
  const std::vector<Subcommand> commands = {add_run_command(app),    add_sweep_command(app), add_hunt_command(app),
                                            add_replay_command(app), add_shrink_command(app), add_merge_command(app),
                                            add_list_command(app),   add_reproduce_command(app),
                                            add_fuzz_artifact_command(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One clear line, exit 2 (CLI11's own exit codes are not our contract).
    std::cerr << "segsim: " << segsim::scenarios::one_line(e.what()) << " (see segsim --help)\n";
    return kExitBadInput;
  }
  for (const Subcommand& command : commands) {
    if (command.app->parsed()) return command.run(std::vector<std::string>(argv + 1, argv + argc));
  }
  return kExitBadInput;
}
