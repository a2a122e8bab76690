// segsim merge RESULT.json...: combine the shard results of one sweep.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "scenarios/cli/commands.h"
#include "scenarios/cli/options.h"
#include "scenarios/cli/sweep_outcome.h"
#include "scenarios/failure_groups.h"
#include "scenarios/safe_file.h"

namespace segsim::scenarios::cli {

namespace {

struct MergeCommand {
  std::vector<std::string> inputs;
  ResultsOutputs outputs;
  std::string groups_out;  // failures grouped by signature, as JSON (failure_groups.h)
};

// Writes --groups F.json; the error line, or "".
std::string write_groups(const SweepResult& merged, const std::vector<FailureGroup>& groups, const std::string& path) {
  std::string error;
  if (path.empty() || write_text_file(path, failure_groups_to_json(merged, groups), &error).ok()) return {};
  return error;
}

int command_merge(const MergeCommand& command) {
  const std::vector<std::string> required = read_required_or_die(command.outputs.require_probes);
  check_outputs({command.outputs.json_out, command.outputs.junit_out, command.groups_out});
  std::vector<SweepResult> shards;
  for (const std::string& path : command.inputs) shards.push_back(read_results_or_die(path));
  std::string error;
  auto merged = merge_sweeps(shards, &error);
  if (!merged.ok()) bad_input(error);
  std::cout << fmt::format("merged {} shard(s): {} seeds, {} failed\n", shards.size(), merged->seeds.size(),
                           merged->failures());
  // Grouped, not seed by seed: a campaign's summary must fit one screen.
  const std::vector<FailureGroup> groups = group_failures(merged.value());
  std::cout << failure_groups_summary(merged.value(), groups);
  const bool probes_ok = report_probes(merged.value(), required);
  std::string write_error = write_results(merged.value(), command.outputs);
  if (write_error.empty()) write_error = write_groups(merged.value(), groups, command.groups_out);
  return results_exit_code(merged.value(), probes_ok, write_error);
}

}  // namespace

Subcommand add_merge_command(CLI::App& app) {
  auto command = std::make_shared<MergeCommand>();
  auto* merge = app.add_subcommand("merge", "combine shard results of one sweep");
  merge->add_option("results", command->inputs, "RESULT.json files (segsim sweep --json)")->required();
  add_results_outputs(merge, command->outputs, "merged results as JSON");
  merge->add_option("--groups", command->groups_out, "failures grouped by signature, one repro each, as JSON");
  return {merge, [command](const std::vector<std::string>&) { return command_merge(*command); }};
}

}  // namespace segsim::scenarios::cli
