// segsim replay REPRO: re-run a repro and confirm its failure and trace hash.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "scenarios/cli/commands.h"
#include "scenarios/cli/options.h"
#include "scenarios/cli/run_outcome.h"
#include "scenarios/repro.h"
#include "scenarios/safe_file.h"

namespace segsim::scenarios::cli {

namespace {

struct ReplayCommand {
  std::string repro_path;
  RunOutputs outputs;
};

// Not reproduced: never exit 0 for a recorded failure that did not recur.
// A hash that moved under another build is expected; under this one it is not.
int judge_replay(const Repro& repro, std::uint64_t trace_hash, const std::optional<Failure>& failure, int code) {
  // A repro written by a sweep's parent for a crash or hang has no hash.
  const bool hash_recorded = repro.expected_trace_hash != 0;
  const bool same_hash = !hash_recorded || trace_hash == repro.expected_trace_hash;
  const bool same_failure = failure.has_value() == repro.failure.has_value() &&
                            (!failure || failure->signature() == repro.failure->signature());
  if (same_hash && same_failure) {
    std::cout << "replay: reproduced exactly (same " << (failure ? "failure" : "result")
              << (hash_recorded ? " and trace hash" : "") << ")\n";
    return code;
  }
  if (!same_hash) {
    std::cout << fmt::format("replay: trace hash differs: recorded {:#018x}, now {:#018x}\n",
                             repro.expected_trace_hash, trace_hash);
  }
  if (!same_failure) {
    std::cout << fmt::format("replay: outcome differs: recorded '{}', now '{}'\n",
                             repro.failure ? repro.failure->signature() : "passed",
                             failure ? failure->signature() : "passed");
  }
  if (!same_failure || repro.build_id == build_id()) {
    std::cout << "replay: NOT reproduced\n";
    return kExitFailure;
  }
  return code;
}

int command_replay(const ReplayCommand& command) {
  check_outputs({command.outputs.trace_out, command.outputs.plot});
  std::string error;
  auto repro = read_repro(command.repro_path, &error);
  if (!repro.ok()) bad_input(error);
  RunReport report = run_or_die(repro->spec, options_for(command.outputs));
  // After the run: a repro the run refuses is one line (exit 2), not two.
  if (repro->build_id != build_id()) {
    std::cerr << fmt::format("segsim: warning: repro was recorded by build {}, this is {}\n",
                             quoted_text(repro->build_id, 120), quoted_text(build_id(), 120));
  }
  report.spec.strategy = repro->spec.strategy;
  const std::uint64_t trace_hash = report.trace_hash;
  const std::optional<Failure> failure = report.failure;
  const int code = finish_run(std::move(report), command.outputs, command.repro_path + ".replayed.json");
  return judge_replay(repro.value(), trace_hash, failure, code);
}

}  // namespace

Subcommand add_replay_command(CLI::App& app) {
  auto command = std::make_shared<ReplayCommand>();
  auto* replay = app.add_subcommand("replay", "re-run a repro and confirm its failure and trace hash");
  replay->add_option("repro", command->repro_path, "repro file")->required();
  add_run_outputs(replay, command->outputs, /*with_report=*/false);
  return {replay, [command](const std::vector<std::string>&) { return command_replay(*command); }};
}

}  // namespace segsim::scenarios::cli
