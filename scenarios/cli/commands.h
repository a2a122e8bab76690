// The segsim CLI's commands (main.cpp parses the options and dispatches).
// Exit codes: 0 no failure; 1 a failure was found (report printed, repro
// written); 2 bad usage, bad input or an environment the harness cannot run
// in (one line on stderr); 130 a sweep interrupted by SIGINT/SIGTERM.
#pragma once

#include <string>
#include <vector>

#include "scenarios/run.h"
#include "scenarios/shrink.h"
#include "scenarios/sweep.h"

namespace segsim::scenarios::cli {

inline constexpr int kExitPassed = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitInterrupted = 130;

// One line on stderr ("segsim: ..."), control characters escaped, cut to a
// sane length; exit 2.
[[noreturn]] void bad_input(const std::string& line);

// Before any work: every named output must be writable (exit 2 otherwise).
void check_outputs(const std::vector<std::string>& paths);

struct Outputs {
  std::string trace_out, plot, report;
};

int command_run(const RunSpec& spec, const Outputs& outputs, bool check_determinism);
int command_replay(const std::string& repro_path, const Outputs& outputs);
int command_shrink(const std::string& in, const std::string& out, const ShrinkLimits& limits);

struct SweepCommand {
  SweepSpec spec;
  std::string seeds_text, shard_text;
  std::string json_out, junit_out;
  std::string require_probes;  // a probe list file, or ""
  bool resume = false;
  std::vector<std::string> argv;  // for the resume hint
};
int command_sweep(SweepCommand& command);

struct MergeCommand {
  std::vector<std::string> inputs;
  std::string json_out, junit_out;
  std::string require_probes;
};
int command_merge(const MergeCommand& command);

}  // namespace segsim::scenarios::cli
