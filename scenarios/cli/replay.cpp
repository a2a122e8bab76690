// segsim replay REPRO: re-run a repro and confirm its failure and trace hash.
#include <cstdlib>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "core/mutants.h"

#include "scenarios/cli/commands.h"
#include "scenarios/cli/options.h"
#include "scenarios/cli/run_outcome.h"
#include "scenarios/repro.h"
#include "scenarios/safe_file.h"
#include "scenarios/sweep.h"
#include "sim/fatal_failure.h"

namespace segsim::scenarios::cli {

namespace {

struct ReplayCommand {
  std::string repro_path;
  std::string repro_out;  // -o: where the replayed run's repro goes; nothing is written without it
  RunOutputs outputs;
};

// A repro whose bug setting the replay cannot honour would run a different
// stack and report a divergence; say what is wrong instead (exit 2).
void check_bug_setting(const Repro& repro, const std::string& path) {
  const std::string& bug = repro.spec.bug;
  if (!bug.empty() && !mutants::kBuilt) {
    bad_input(fmt::format("{} was recorded with the catalogued bug '{}' switched on; this build has no mutants: "
                          "replay it with a mutants build (build/mutants/segsim replay {})",
                          path, bug, path));
  }
  if (repro.failure && repro.failure->bug != bug) {
    bad_input(fmt::format("{}: its failure was found with bug '{}' on, but the repro asks for '{}' "
                          "(\"bug\" field removed or edited?)",
                          path, repro.failure->bug, bug));
  }
}

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

// The repro being replayed, for a run that dies of a failure the simulator
// named (an assertion in a noexcept frame or in teardown: sim/fatal_failure.h).
// A sweep recorded such a seed as failed by that oracle; its replay must say
// whether the same failure recurred and exit 1, not end in SIGABRT.
const Repro* g_replaying = nullptr;

void judge_named_death(const sim::FatalFailure& fatal) {
  if (g_replaying == nullptr) return;
  std::cout << "replay: the run died of a failure the simulator named (on stderr above)\n";
  // No trace hash to compare: the run never finished.
  const int code =
      judge_replay(*g_replaying, g_replaying->expected_trace_hash, named_death_failure(fatal), kExitFailure);
  std::cout.flush();
  std::_Exit(code);  // the process cannot go on: its state is what the assertion found
}

int command_replay(const ReplayCommand& command) {
  check_outputs({command.outputs.trace_out, command.outputs.plot, command.repro_out});
  std::string error;
  auto repro = read_repro(command.repro_path, &error);
  if (!repro.ok()) bad_input(error);
  check_bug_setting(repro.value(), command.repro_path);
  g_replaying = &repro.value();
  sim::set_fatal_failure_reporter(&judge_named_death);
  RunReport report = run_or_die(repro->spec, options_for(command.outputs));
  sim::set_fatal_failure_reporter(nullptr);
  g_replaying = nullptr;
  // After the run: a repro the run refuses is one line (exit 2), not two.
  if (repro->build_id != build_id()) {
    std::cerr << fmt::format("segsim: warning: repro was recorded by build {}, this is {}\n",
                             quoted_text(repro->build_id, 120), quoted_text(build_id(), 120));
  }
  report.spec.strategy = repro->spec.strategy;
  const std::uint64_t trace_hash = report.trace_hash;
  const std::optional<Failure> failure = report.failure;
  const bool write_repro_file = !command.repro_out.empty();
  const int code = finish_run(std::move(report), command.outputs,
                              write_repro_file ? command.repro_out : command.repro_path, write_repro_file);
  return judge_replay(repro.value(), trace_hash, failure, code);
}

}  // namespace

int replay_repro_file(const std::string& repro_path) {
  ReplayCommand command;
  command.repro_path = repro_path;
  return command_replay(command);
}

Subcommand add_replay_command(CLI::App& app) {
  auto command = std::make_shared<ReplayCommand>();
  auto* replay = app.add_subcommand("replay", "re-run a repro and confirm its failure and trace hash");
  replay->add_option("repro", command->repro_path, "repro file")->required();
  add_run_outputs(replay, command->outputs, /*with_report=*/false);
  replay->add_option("-o", command->repro_out, "write the replayed run's repro here (nothing is written without it)");
  return {replay, [command](const std::vector<std::string>&) { return command_replay(*command); }};
}

}  // namespace segsim::scenarios::cli
