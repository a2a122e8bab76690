// segsim reproduce CRASH.json|REPRO: turn a flight-recorder crash report
// into a failing run under the simulator (scenarios/reproduce.h); a repro
// file is replayed. Exit 1 reproduced, 3 not within the budget, 2 a bad or
// foreign input (one line).
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "scenarios/cli/commands.h"
#include "scenarios/cli/options.h"
#include "scenarios/crash_report.h"
#include "scenarios/reproduce.h"
#include "scenarios/safe_file.h"

namespace segsim::scenarios::cli {

namespace {

struct ReproduceCommand {
  std::string input;
  ReproduceLimits limits;
};

int command_reproduce(const ReproduceCommand& command) {
  std::string error;
  auto text = read_text_file(command.input, kMaxCrashReportBytes, "crash report", &error);
  if (!text.ok()) bad_input(error);
  if (text->find("\"segsim-repro\"") != std::string::npos) return replay_repro_file(command.input);
  if (!looks_like_crash_report(text.value())) {
    bad_input(fmt::format("{} is neither a segsim crash report nor a repro file (libFuzzer artifacts are not "
                          "read by this build)",
                          quoted_text(command.input)));
  }
  auto report = crash_report_from_json(text.value(), &error);
  if (!report.ok()) bad_input(error);
  if (report->kind != "refused") {
    bad_input(fmt::format("{}: a crash report of a {}: this build reproduces refused releases and resets only",
                          quoted_text(command.input), report->text));
  }
  if (report->build_id != build_id()) {
    std::cerr << fmt::format("segsim: warning: crash report was written by build {}, this is {}\n",
                             quoted_text(report->build_id, 120), quoted_text(build_id(), 120));
  }
  std::cout << fmt::format("crash report: {} ({} threads, {} events)\n", report->text, report->threads.size(), [&] {
    std::size_t n = 0;
    for (const CrashThread& t : report->threads) n += t.events.size();
    return n;
  }());
  auto outcome = reproduce_crash(report.value(), command.limits, &error);
  if (!outcome.ok()) bad_input(error);
  if (!outcome->reproduced) {
    std::cout << fmt::format("reproduce: NOT reproduced within {} attempts, {:.2f} s\n", outcome->attempts,
                             outcome->seconds);
    return kExitNotReproduced;
  }
  std::cout << fmt::format("reproduce: reproduced after {} attempt(s), {:.2f} s, {}: {}\n", outcome->attempts,
                           outcome->seconds, outcome->schedule, outcome->failure);
  return kExitFailure;
}

}  // namespace

Subcommand add_reproduce_command(CLI::App& app) {
  auto command = std::make_shared<ReproduceCommand>();
  auto* reproduce = app.add_subcommand("reproduce", "turn a flight-recorder crash report into a failing simulated run");
  reproduce->add_option("input", command->input, "crash report (segsim-crash-*.json) or repro file")->required();
  add_whole(reproduce, "--attempts", command->limits.max_attempts, 1, 100000, "schedules tried, at most");
  add_seconds(reproduce, "--budget-seconds", command->limits.max_seconds, 0.001, 86400, "wall time, at most");
  return {reproduce, [command](const std::vector<std::string>&) { return command_reproduce(*command); }};
}

}  // namespace segsim::scenarios::cli
