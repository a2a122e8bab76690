// segsim merge RESULT.json...: combine the shard results of one sweep.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "scenarios/cli/commands.h"
#include "scenarios/cli/options.h"
#include "scenarios/cli/sweep_outcome.h"

namespace segsim::scenarios::cli {

namespace {

struct MergeCommand {
  std::vector<std::string> inputs;
  ResultsOutputs outputs;
};

int command_merge(const MergeCommand& command) {
  const std::vector<std::string> required = read_required_or_die(command.outputs.require_probes);
  check_outputs({command.outputs.json_out, command.outputs.junit_out});
  std::vector<SweepResult> shards;
  for (const std::string& path : command.inputs) shards.push_back(read_results_or_die(path));
  std::string error;
  auto merged = merge_sweeps(shards, &error);
  if (!merged.ok()) bad_input(error);
  std::cout << fmt::format("merged {} shard(s): {} seeds, {} failed\n", shards.size(), merged->seeds.size(),
                           merged->failures());
  print_failed_seeds(merged.value());
  const bool probes_ok = report_probes(merged.value(), required);
  return results_exit_code(merged.value(), probes_ok, write_results(merged.value(), command.outputs));
}

}  // namespace

Subcommand add_merge_command(CLI::App& app) {
  auto command = std::make_shared<MergeCommand>();
  auto* merge = app.add_subcommand("merge", "combine shard results of one sweep");
  merge->add_option("results", command->inputs, "RESULT.json files (segsim sweep --json)")->required();
  add_results_outputs(merge, command->outputs, "merged results as JSON");
  return {merge, [command](const std::vector<std::string>&) { return command_merge(*command); }};
}

}  // namespace segsim::scenarios::cli
