// segsim sweep and merge. A sweep keeps its --json current as seeds finish
// (rewritten atomically at most every ~2 s), so SIGINT / SIGTERM / a kill
// loses at most that much; --resume skips the seeds a results file has.
#include <csignal>
#include <cstdlib>
#include <iostream>

#include <unistd.h>

#include <fmt/format.h>

#include "faults/fault_plan.h"
#include "scenarios/cli/commands.h"
#include "scenarios/probe_report.h"
#include "scenarios/safe_file.h"

namespace segsim::scenarios::cli {

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

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
  if (command.json_out.empty()) return "no --json was given, so nothing was kept: add --json F to make a sweep resumable";
  std::string line = "resume: segsim";
  bool has_resume = false;
  for (const std::string& word : command.argv) {
    line += " " + shell_quoted(word);
    has_resume = has_resume || word == "--resume";
  }
  if (!has_resume) line += " --resume";
  return line;
}

SweepResult read_results(const std::string& path) {
  std::string error;
  auto text = read_text_file(path, kMaxSweepResultsBytes, "sweep results", &error);
  if (!text.ok()) bad_input(error);
  auto result = sweep_from_json(text.value(), &error);
  if (!result.ok()) bad_input(fmt::format("{}: {}", quoted_text(path, 200), error));
  return std::move(result.value());
}

std::vector<std::string> read_required(const std::string& path) {
  if (path.empty()) return {};
  std::string error;
  auto names = read_probe_list(path, &error);
  if (!names.ok()) bad_input(error);
  return std::move(names.value());
}

// The probe summary, then the required probes that never fired: false if any.
bool report_probes(const SweepResult& result, const std::vector<std::string>& required) {
  std::cout << probe_summary(result.probes) << "\n";
  const std::vector<std::string> missing = missing_probes(result.probes, required);
  if (missing.empty()) return true;
  std::string names;
  for (const std::string& name : missing) names += (names.empty() ? "" : ", ") + name;
  std::cout << one_line(fmt::format("REQUIRED PROBES NEVER FIRED ({} of {}): {}", missing.size(), required.size(), names),
                        4000)
            << "\n";
  return false;
}

void print_failed_seeds(const SweepResult& result) {
  for (const SeedResult& seed : result.seeds) {
    if (seed.outcome == SeedOutcome::Passed) continue;
    std::cout << fmt::format("  seed {}: {} — {}\n  reproduce: segsim replay {}\n", seed.seed,
                             seed_outcome_name(seed.outcome), one_line(seed.detail),
                             seed.repro_path.empty() ? "(no repro)" : seed.repro_path);
  }
}

// Writes --json / --junit; the first error line, or "".
std::string write_results(const SweepResult& result, const std::string& json_out, const std::string& junit_out) {
  std::string error;
  if (!json_out.empty() && !write_text_file(json_out, sweep_to_json(result), &error).ok()) return error;
  if (!junit_out.empty() && !write_text_file(junit_out, sweep_to_junit(result), &error).ok()) return error;
  return {};
}

}  // namespace

int command_sweep(SweepCommand& command) {
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
  // Validate the spec once here, so a typo is one line, not N failed children.
  if (find_scenario(spec.base.scenario) == nullptr) {
    bad_input(fmt::format("unknown scenario {} (see segsim list)", quoted_text(spec.base.scenario)));
  }
  if (!segsim::faults::make_fault_plan(spec.base.faults, 1, &error).ok()) bad_input(error);
  const std::vector<std::string> required = read_required(command.require_probes);
  // Every output before any seed runs.
  check_outputs({command.json_out, command.junit_out});
  if (!prepare_output_folder(spec.failures_dir, &error).ok()) bad_input(error);

  SweepResult done;
  if (command.resume) {
    if (command.json_out.empty()) bad_input("--resume needs --json F: the results file to continue");
    if (::access(command.json_out.c_str(), F_OK) == 0) {
      done = read_results(command.json_out);
      const std::string difference = settings_difference(sweep_settings(spec.base), done);
      if (!difference.empty()) {
        bad_input(fmt::format("--resume: {} was written with other settings ({})", quoted_text(command.json_out, 200),
                              difference));
      }
      spec.done = &done;
      std::cerr << fmt::format("resuming: {} seeds already in {}\n", done.seeds.size(), command.json_out);
    }
  }

  std::string checkpoint_error;
  if (!command.json_out.empty()) {
    spec.checkpoint = [&](const SweepResult& partial) {
      std::string write_error;
      if (!write_text_file(command.json_out, sweep_to_json(partial), &write_error).ok() && checkpoint_error.empty()) {
        checkpoint_error = write_error;
        std::cerr << "segsim: warning: " << one_line(write_error) << "\n";
      }
    };
  }
  install_stop_handlers();
  spec.stop_signal = &g_stop_signal;
  const bool terminal = ::isatty(STDERR_FILENO) != 0;
  SweepResult result = run_sweep(spec, std::cerr, terminal);

  const std::string write_error = write_results(result, command.json_out, command.junit_out);
  if (!result.environment_error.empty()) {
    bad_input(fmt::format("the sweep stopped: {}", result.environment_error));
  }
  const std::size_t ran = result.seeds.size() - (spec.done != nullptr ? spec.done->seeds.size() : 0);
  std::cout << fmt::format("sweep {}: {} seeds, {} failed, {:.1f} s ({:.1f} seeds/s)\n", result.scenario,
                           result.seeds.size(), result.failures(), result.wall_seconds,
                           result.wall_seconds > 0 ? static_cast<double>(ran) / result.wall_seconds : 0.0);
  print_failed_seeds(result);
  if (result.interrupted != 0) {
    std::cout.flush();
    std::cerr << fmt::format("segsim: sweep interrupted by SIG{} after {} seeds{}; {}\n",
                             sigabbrev_np(result.interrupted) != nullptr ? sigabbrev_np(result.interrupted) : "?",
                             result.seeds.size(), command.json_out.empty() ? "" : ", results in " + command.json_out,
                             resume_hint(command));
    return kExitInterrupted;
  }
  const bool probes_ok = report_probes(result, required);
  if (!write_error.empty()) {
    // Results that cannot be saved: bad output, unless failures were found
    // (printed above): those keep exit 1.
    if (result.failures() == 0 && probes_ok) bad_input(write_error);
    std::cerr << "segsim: " << one_line(write_error) << "\n";
  }
  return result.failures() == 0 && probes_ok ? kExitPassed : kExitFailure;
}

int command_merge(const MergeCommand& command) {
  const std::vector<std::string> required = read_required(command.require_probes);
  check_outputs({command.json_out, command.junit_out});
  std::vector<SweepResult> shards;
  for (const std::string& path : command.inputs) shards.push_back(read_results(path));
  std::string error;
  auto merged = merge_sweeps(shards, &error);
  if (!merged.ok()) bad_input(error);
  std::cout << fmt::format("merged {} shard(s): {} seeds, {} failed\n", shards.size(), merged->seeds.size(),
                           merged->failures());
  print_failed_seeds(merged.value());
  const bool probes_ok = report_probes(merged.value(), required);
  const std::string write_error = write_results(merged.value(), command.json_out, command.junit_out);
  if (!write_error.empty()) {
    if (merged->failures() == 0 && probes_ok) bad_input(write_error);
    std::cerr << "segsim: " << one_line(write_error) << "\n";
  }
  return merged->failures() == 0 && probes_ok ? kExitPassed : kExitFailure;
}

}  // namespace segsim::scenarios::cli
