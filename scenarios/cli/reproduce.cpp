// segsim reproduce CRASH.json|crash-<sha1>|REPRO: turn a flight-recorder
// crash report or a fuzz_alloc_ops artifact into a failing run under the
// simulator (scenarios/reproduce.h) and write it as an ordinary repro (-o;
// with --shrink also its shrunk form); a repro file is replayed. Exit 1 reproduced, 3 not within the budget, 2 a bad or
// foreign input (one line).
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "scenarios/cli/commands.h"
#include "scenarios/cli/options.h"
#include "scenarios/crash_report.h"
#include "scenarios/fuzz_artifact.h"
#include "scenarios/reproduce.h"
#include "scenarios/safe_file.h"
#include "scenarios/shrink.h"

namespace segsim::scenarios::cli {

namespace {

struct ReproduceCommand {
  std::string input;
  std::string out;  // the repro; default segsim-failures/<input's name>.repro.json
  bool shrink = false;
  std::string fuzz_target = "alloc_ops";  // whose artifact the input is
  bool fuzz_target_given = false;
  ReproduceLimits limits;
  ShrinkLimits shrink_limits;
};

constexpr const char* kDefaultFolder = "segsim-failures";

std::string default_out(const std::string& input) {
  std::string name = input.substr(input.find_last_of('/') + 1);
  if (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0) name.resize(name.size() - 5);
  return std::string(kDefaultFolder) + "/" + name + ".repro.json";
}

// MIN beside OUT: "x.repro.json" -> "x.min.repro.json".
std::string shrunk_path(const std::string& out) {
  const std::string suffix = ".repro.json";
  if (out.size() > suffix.size() && out.compare(out.size() - suffix.size(), suffix.size(), suffix) == 0) {
    return out.substr(0, out.size() - suffix.size()) + ".min" + suffix;
  }
  return out + ".min";
}

// Shrinks the reproduced run and writes the minimal repro; a shrink that
// fails leaves the full repro standing (the failure was still reproduced).
void write_shrunk(const Repro& repro, const ReproduceCommand& command, const std::string& path) {
  std::string error;
  auto result = shrink(repro, command.shrink_limits, std::cout, &error);
  if (!result.ok() || !write_repro(result->minimal, path, &error).ok()) {
    std::cerr << "segsim: shrink: " << one_line(error) << "\n";
    return;
  }
  std::cout << fmt::format("shrunk repro: {} ({} runs; decisions {} -> {}, threads {} -> {}; replay: segsim replay {})\n",
                           path, result->runs, result->decisions_before, result->decisions_after,
                           result->threads_before, result->threads_after, path);
}

// Prints the outcome; when reproduced writes the repro (and its shrunk form).
int conclude(const ReproduceOutcome& outcome, const ReproduceCommand& command, const std::string& out) {
  if (!outcome.reproduced) {
    std::cout << fmt::format("reproduce: NOT reproduced within {} attempts, {:.2f} s\n", outcome.attempts,
                             outcome.seconds);
    return kExitNotReproduced;
  }
  std::cout << fmt::format("reproduce: reproduced after {} attempt(s), {:.2f} s, {}: {}\n", outcome.attempts,
                           outcome.seconds, outcome.schedule, outcome.failure);
  std::string error;
  if (!write_repro(*outcome.repro, out, &error).ok()) {
    std::cerr << "segsim: " << one_line(error) << "\n";
    return kExitFailure;  // reproduced; only the file is missing
  }
  std::cout << fmt::format("repro: {} (replay: segsim replay {})\n", out, out);
  if (command.shrink) write_shrunk(*outcome.repro, command, shrunk_path(out));
  return kExitFailure;
}

int reproduce_report(const std::string& text, const ReproduceCommand& command, const std::string& out) {
  std::string error;
  auto report = crash_report_from_json(text, &error);
  if (!report.ok()) bad_input(error);
  if (report->build_id != build_id()) {
    std::cerr << fmt::format("segsim: warning: crash report was written by build {}, this is {}\n",
                             quoted_text(report->build_id, 120), quoted_text(build_id(), 120));
  }
  std::size_t events = 0;
  for (const CrashThread& t : report->threads) events += t.events.size();
  std::cout << fmt::format("crash report: {} ({} threads, {} events{})\n", report->text, report->threads.size(), events,
                           report->bug.empty() ? "" : ", bug " + report->bug);
  auto outcome = reproduce_crash(report.value(), command.limits, &error);
  if (!outcome.ok()) bad_input(error);
  return conclude(outcome.value(), command, out);
}

int reproduce_artifact(std::string bytes, const ReproduceCommand& command, const std::string& out) {
  FuzzArtifact artifact{command.fuzz_target, std::move(bytes)};
  std::cout << fmt::format("libFuzzer artifact of fuzz_{}: {} bytes\n", artifact.target, artifact.bytes.size());
  std::string error;
  auto outcome = reproduce_fuzz_artifact(artifact, command.limits, &error);
  if (!outcome.ok()) bad_input(error);
  return conclude(outcome.value(), command, out);
}

// libFuzzer names what it saves crash-<sha1>, leak-, timeout-, oom-, slow-unit-.
bool named_like_artifact(const std::string& path) {
  const std::string name = path.substr(path.find_last_of('/') + 1);
  for (const char* prefix : {"crash-", "leak-", "timeout-", "oom-", "slow-unit-"}) {
    if (name.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

int command_reproduce(const ReproduceCommand& command) {
  const std::string out = command.out.empty() ? default_out(command.input) : command.out;
  std::string error;
  auto text = read_text_file(command.input, kMaxCrashReportBytes, "input", &error);
  if (!text.ok()) bad_input(error);
  const bool artifact = command.fuzz_target_given || named_like_artifact(command.input);
  if (!artifact && text->find("\"segsim-repro\"") != std::string::npos) return replay_repro_file(command.input);
  if (!artifact && !looks_like_crash_report(text.value())) {
    bad_input(fmt::format("{} is neither a segsim crash report, a repro file nor a libFuzzer artifact "
                          "(crash-<sha1>; or say --fuzz-target NAME)",
                          quoted_text(command.input)));
  }
  if (command.out.empty() && !prepare_output_folder(kDefaultFolder, &error).ok()) bad_input(error);
  check_outputs({out, command.shrink ? shrunk_path(out) : ""});
  return artifact ? reproduce_artifact(std::move(text.value()), command, out)
                  : reproduce_report(text.value(), command, out);
}

}  // namespace

Subcommand add_reproduce_command(CLI::App& app) {
  auto command = std::make_shared<ReproduceCommand>();
  auto* reproduce = app.add_subcommand("reproduce", "turn a flight-recorder crash report into a failing simulated run");
  reproduce->add_option("input", command->input,
                        "crash report (segsim-crash-*.json), libFuzzer artifact (crash-<sha1>) or repro file")
      ->required();
  reproduce->add_option("-o,--output", command->out,
                        "where the repro goes (default segsim-failures/<input's name>.repro.json)");
  reproduce->add_flag("--shrink", command->shrink, "also shrink it, into <output>.min.repro.json");
  reproduce->add_option("--fuzz-target", command->fuzz_target,
                        "the input is a libFuzzer artifact of fuzz_NAME (default for crash-<sha1> files: alloc_ops)")
      ->each([command](const std::string&) { command->fuzz_target_given = true; });
  add_whole(reproduce, "--attempts", command->limits.max_attempts, 1, 100000, "schedules tried, at most");
  add_seconds(reproduce, "--budget-seconds", command->limits.max_seconds, 0.001, 86400, "wall time, at most");
  add_seconds(reproduce, "--shrink-seconds", command->shrink_limits.max_seconds, 0.001, kMaxSecondsCeiling,
              "wall time of the shrink, at most");
  return {reproduce, [command](const std::vector<std::string>&) { return command_reproduce(*command); }};
}

}  // namespace segsim::scenarios::cli
