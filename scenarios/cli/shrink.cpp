// segsim shrink REPRO -o MIN_REPRO: minimise a failing run.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "scenarios/cli/commands.h"
#include "scenarios/cli/options.h"
#include "scenarios/repro.h"
#include "scenarios/safe_file.h"
#include "scenarios/shrink.h"

namespace segsim::scenarios::cli {

namespace {

struct ShrinkCommand {
  std::string in, out;
  ShrinkLimits limits;
};

int command_shrink(const ShrinkCommand& command) {
  const std::string& out = command.out;
  check_outputs({out});
  std::string error;
  auto repro = read_repro(command.in, &error);
  if (!repro.ok()) bad_input(error);
  auto result = shrink(repro.value(), command.limits, std::cout, &error);
  if (!result.ok()) bad_input(error);
  if (!write_repro(result->minimal, out, &error).ok()) {
    std::cerr << "segsim: " << one_line(error) << "\n";
    return kExitFailure;  // the failure still stands; only the smaller repro is missing
  }
  std::cout << fmt::format(
      "shrink: {} runs; decisions {} -> {}, threads {} -> {}, size {} -> {}, fault rules {} -> {}\n"
      "minimal repro: {} (reproduce: segsim replay {})\n",
      result->runs, result->decisions_before, result->decisions_after, result->threads_before, result->threads_after,
      result->size_before, result->size_after, result->fault_rules_before, result->fault_rules_after, out, out);
  return kExitFailure;  // the minimal repro still fails
}

}  // namespace

Subcommand add_shrink_command(CLI::App& app) {
  auto command = std::make_shared<ShrinkCommand>();
  auto* shrink_cmd = app.add_subcommand("shrink", "minimise a failing run");
  shrink_cmd->add_option("repro", command->in, "failing repro file")->required();
  shrink_cmd->add_option("-o,--output", command->out, "where the smaller repro goes")->required();
  add_whole(shrink_cmd, "--max-runs", command->limits.max_runs, 1, kMaxRunsCeiling, "candidate runs, at most");
  add_seconds(shrink_cmd, "--max-seconds", command->limits.max_seconds, 0.001, kMaxSecondsCeiling,
              "wall time, at most");
  return {shrink_cmd, [command](const std::vector<std::string>&) { return command_shrink(*command); }};
}

}  // namespace segsim::scenarios::cli
