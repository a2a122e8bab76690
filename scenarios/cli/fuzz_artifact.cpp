// segsim fuzz-artifact INPUT -o REPRO [--bug NAME] [--test-hook NAME]: a fuzz_scenario input (a crash
// artifact, a corpus entry) run again as the run it encodes
// (scenarios/fuzz_input.h) — in this build, so a crash that a sanitizer of the
// fuzz build cut short ends here at an oracle — and, when it fails, written as
// an ordinary repro that `segsim replay` runs from its recorded decisions.
// Exit 1 when the run fails (repro written), 0 when it passes (nothing written).
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "scenarios/cli/commands.h"
#include "scenarios/cli/options.h"
#include "scenarios/cli/run_outcome.h"
#include "scenarios/fuzz_input.h"
#include "scenarios/safe_file.h"

namespace segsim::scenarios::cli {

namespace {

// An artifact is at most libFuzzer's -max_len (4 KiB by default); anything
// far beyond is not one.
constexpr std::size_t kMaxArtifactBytes = std::size_t{1} << 20;

struct FuzzArtifactCommand {
  std::string input_path;
  std::string repro_out;
  std::string bug;
  std::string test_hook;
};

int command_fuzz_artifact(const FuzzArtifactCommand& command) {
  require_mutants_for(command.bug);
  check_outputs({command.repro_out});
  std::string error;
  auto bytes = read_text_file(command.input_path, kMaxArtifactBytes, "fuzz input", &error);
  if (!bytes.ok()) bad_input(error);
  RunSpec spec = fuzz_run_spec(bytes.value());
  spec.bug = command.bug;
  spec.test_hook = command.test_hook;
  RunReport report = run_or_die(spec, RunOptions{});
  if (report.passed) {
    std::cout << fmt::format("fuzz-artifact: {} runs {} seed {} and passes in this build: no repro written\n",
                             command.input_path, spec.scenario, spec.seed);
  }
  return finish_run(std::move(report), RunOutputs{}, command.repro_out);
}

}  // namespace

Subcommand add_fuzz_artifact_command(CLI::App& app) {
  auto command = std::make_shared<FuzzArtifactCommand>();
  auto* sub = app.add_subcommand("fuzz-artifact", "turn a fuzz_scenario input (crash artifact) into a repro");
  sub->add_option("input", command->input_path, "the fuzzer's input file")->required();
  sub->add_option("-o", command->repro_out, "where the repro goes")->required();
  sub->add_option("--bug", command->bug,
                  "the catalogued bug the fuzzer ran with (its SEGSIM_MUTANT; mutants builds)");
  sub->add_option("--test-hook", command->test_hook, "the test hook it ran with (its SEGSIM_FUZZ_TEST_HOOK)");
  return {sub, [command](const std::vector<std::string>&) { return command_fuzz_artifact(*command); }};
}

}  // namespace segsim::scenarios::cli
