// segsim sweep SCENARIO --seeds A..B: seeds in forked worker processes
// (--seeds-per-worker each; a crash or hang costs one seed). A sweep
// keeps its --json current as seeds finish (rewritten atomically at most
// every ~2 s), so SIGINT / SIGTERM / a kill loses at most that much;
// --resume skips the seeds a results file has.
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>

#include <unistd.h>

#include <fmt/format.h>

#include "faults/fault_plan.h"
#include "scenarios/cli/commands.h"
#include "scenarios/cli/options.h"
#include "scenarios/cli/sweep_outcome.h"
#include "scenarios/in_child.h"
#include "scenarios/safe_file.h"

namespace segsim::scenarios::cli {

namespace {

struct SweepCommand {
  SweepSpec spec;
  std::string seeds_text, shard_text;
  ResultsOutputs outputs;
  bool resume = false;
  std::vector<std::string> argv;  // for the resume hint
};

volatile std::sig_atomic_t g_stop_signal = 0;

// PCT's k when the calibration run gives none (the fixed k before issue 10).
constexpr std::uint64_t kPctFallbackSteps = 20'000;

// PCT's calibration run in its child: the longest it may take (a stack that
// hangs there costs the sweep its calibration too, not the sweep).
constexpr std::chrono::seconds kCalibrationTimeLimit{60};

// PCT's k, calibrated once (pct_steps_for: a run at seed 1) in a child
// process: a stack that dies in that run must cost the sweep its calibration,
// not the sweep — its seeds still run in workers and are judged one by one.
std::uint64_t calibrated_pct_steps(const RunSpec& base) {
  constexpr std::size_t kStepsTextBytes = 20;  // digits of the largest std::uint64_t
  const ChildOutcome child =
      run_in_child([&] { return std::to_string(pct_steps_for(base)); }, kStepsTextBytes, kCalibrationTimeLimit);
  if (child.end == ChildOutcome::End::NotStarted) return pct_steps_for(base);
  std::uint64_t steps = 0;
  const char* const end = child.bytes.data() + child.bytes.size();
  if (child.complete() && !child.bytes.empty() && std::from_chars(child.bytes.data(), end, steps).ptr == end) {
    return steps;
  }
  std::string what = "gave no step count";
  if (child.end == ChildOutcome::End::Signalled) what = fmt::format("died of signal {}", child.signal);
  if (child.end == ChildOutcome::End::TimedOut) {
    what = fmt::format("did not end within its time limit of {} s and was killed", kCalibrationTimeLimit.count());
  }
  std::cerr << fmt::format("segsim: warning: PCT's calibration run ({} seed 1, random strategy) {}; k = {} steps "
                           "(--pct-steps N chooses it)\n",
                           base.scenario, what, kPctFallbackSteps);
  return kPctFallbackSteps;
}

void on_stop_signal(int signal_number) { g_stop_signal = signal_number; }

// SIGINT / SIGTERM stop the sweep (no SA_RESTART: the parent's poll wakes).
void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

std::string shell_quoted(const std::string& word) {
  const bool plain = !word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                             "0123456789-_./=:,@%+") == std::string::npos;
  if (plain) return word;
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string resume_hint(const SweepCommand& command) {
  if (command.outputs.json_out.empty()) {
    return "no --json was given, so nothing was kept: add --json F to make a sweep resumable";
  }
  std::string line = "resume: segsim";
  bool has_resume = false;
  for (const std::string& word : command.argv) {
    line += " " + shell_quoted(word);
    has_resume = has_resume || word == "--resume";
  }
  if (!has_resume) line += " --resume";
  return line;
}

// --seeds, then --shard or ctest's GTEST_SHARD_INDEX / GTEST_TOTAL_SHARDS.
void parse_seeds_and_shard(SweepCommand& command) {
  SweepSpec& spec = command.spec;
  std::string error;
  auto range = parse_seed_range(command.seeds_text, &error);
  if (!range.ok()) bad_input(error);
  spec.seeds = range.value();
  if (!command.shard_text.empty()) {
    auto shard = parse_shard(command.shard_text, &error);
    if (!shard.ok()) bad_input(error);
    spec.shard = shard.value();
  } else if (const char* index = std::getenv("GTEST_SHARD_INDEX"); index != nullptr) {
    const char* total = std::getenv("GTEST_TOTAL_SHARDS");
    auto shard = parse_shard(fmt::format("{}/{}", index, total == nullptr ? "" : total), &error);
    if (!shard.ok()) bad_input("GTEST_SHARD_INDEX / GTEST_TOTAL_SHARDS: " + error);
    spec.shard = shard.value();
  }
}

// The spec once here, so a typo is one line, not N failed children.
void validate_spec(const SweepSpec& spec) {
  if (find_scenario(spec.base.scenario) == nullptr) {
    bad_input(fmt::format("unknown scenario {} (see segsim list)", quoted_text(spec.base.scenario)));
  }
  std::string error;
  if (!segsim::faults::make_fault_plan(spec.base.faults, 1, &error).ok()) bad_input(error);
}

// --resume: the seeds the results file already has (same settings), or none.
void load_done_seeds(SweepCommand& command, SweepResult& done) {
  const std::string& json_out = command.outputs.json_out;
  if (json_out.empty()) bad_input("--resume needs --json F: the results file to continue");
  if (::access(json_out.c_str(), F_OK) != 0) return;
  done = read_results_or_die(json_out);
  const std::string difference = settings_difference(sweep_settings(command.spec.base), done);
  if (!difference.empty()) {
    bad_input(fmt::format("--resume: {} was written with other settings ({})", quoted_text(json_out, 200),
                          difference));
  }
  command.spec.done = &done;
  std::cerr << fmt::format("resuming: {} seeds already in {}\n", done.seeds.size(), json_out);
}

void print_sweep_line(const SweepCommand& command, const SweepResult& result) {
  const std::size_t ran = result.seeds.size() - (command.spec.done != nullptr ? command.spec.done->seeds.size() : 0);
  std::cout << fmt::format("sweep {}: {} seeds, {} failed, {:.1f} s ({:.1f} seeds/s)\n", result.scenario,
                           result.seeds.size(), result.failures(), result.wall_seconds,
                           result.wall_seconds > 0 ? static_cast<double>(ran) / result.wall_seconds : 0.0);
  print_failed_seeds(result);
}

int report_interrupted(const SweepCommand& command, const SweepResult& result) {
  std::cout.flush();
  const std::string& json_out = command.outputs.json_out;
  std::cerr << fmt::format("segsim: sweep interrupted by SIG{} after {} seeds{}; {}\n",
                           sigabbrev_np(result.interrupted) != nullptr ? sigabbrev_np(result.interrupted) : "?",
                           result.seeds.size(), json_out.empty() ? "" : ", results in " + json_out,
                           resume_hint(command));
  return kExitInterrupted;
}

int command_sweep(SweepCommand& command) {
  SweepSpec& spec = command.spec;
  require_mutants_for(spec.base.bug);
  parse_seeds_and_shard(command);
  validate_spec(spec);
  const std::vector<std::string> required = read_required_or_die(command.outputs.require_probes);
  // Every output before any seed runs.
  check_outputs({command.outputs.json_out, command.outputs.junit_out});
  std::string error;
  if (!prepare_output_folder(spec.failures_dir, &error).ok()) bad_input(error);
  SweepResult done;
  if (command.resume) load_done_seeds(command, done);
  if (!command.outputs.json_out.empty()) {
    spec.checkpoint = [&json_out = command.outputs.json_out, warned = false](const SweepResult& partial) mutable {
      std::string write_error;
      if (!write_text_file(json_out, sweep_to_json(partial), &write_error).ok() && !warned) {
        warned = true;
        std::cerr << "segsim: warning: " << one_line(write_error) << "\n";
      }
    };
  }
  // PCT's k is calibrated once here, not in every worker.
  if (spec.base.strategy == sim::StrategyKind::Pct) spec.base.pct_steps = calibrated_pct_steps(spec.base);
  install_stop_handlers();
  spec.stop_signal = &g_stop_signal;
  const bool terminal = ::isatty(STDERR_FILENO) != 0;
  const SweepResult result = run_sweep(spec, std::cerr, terminal);
  const std::string write_error = write_results(result, command.outputs);
  if (!result.environment_error.empty()) bad_input(fmt::format("the sweep stopped: {}", result.environment_error));
  print_sweep_line(command, result);
  if (result.interrupted != 0) return report_interrupted(command, result);
  const bool probes_ok = report_probes(result, required);
  return results_exit_code(result, probes_ok, write_error);
}

}  // namespace

Subcommand add_sweep_command(CLI::App& app) {
  auto command = std::make_shared<SweepCommand>();
  SweepSpec& spec = command->spec;
  auto* sweep = app.add_subcommand("sweep", "run seeds A..B in forked worker processes");
  sweep->add_option("scenario", spec.base.scenario, "scenario name")->required();
  sweep->add_option("--seeds", command->seeds_text, "seed range A..B")->required();
  add_whole(sweep, "--jobs", spec.jobs, 1, 64, "worker processes at once");
  add_whole(sweep, "--seeds-per-worker", spec.seeds_per_worker, 1, kMaxSeedsPerWorker,
            fmt::format("seeds a worker process runs before it is replaced; 1: a fresh process per seed "
                        "(default {})", kDefaultSeedsPerWorker));
  sweep->add_option("--shard", command->shard_text, "K/N: run shard K (0-based) of N");
  sweep->add_flag("--stop-on-failure", spec.stop_on_failure, "stop at the first failing seed");
  add_results_outputs(sweep, command->outputs, "results as JSON, kept current as seeds finish (segsim merge)");
  sweep->add_flag("--resume", command->resume, "skip the seeds already in --json (same settings)");
  add_run_knobs(sweep, spec.base);
  add_seconds(sweep, "--timeout", spec.seed_timeout_seconds, kMinSeedTimeoutSeconds, kMaxSeedTimeoutSeconds,
              "seconds per seed before it counts as a hang");
  sweep->add_option("--failures-dir", spec.failures_dir, "where failing seeds' repros go");
  return {sweep, [command](const std::vector<std::string>& argv) {
            command->argv = argv;
            return command_sweep(*command);
          }};
}

}  // namespace segsim::scenarios::cli
