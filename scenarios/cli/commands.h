// The segsim CLI's subcommands, one file each (run.cpp, replay.cpp, ...);
// main.cpp registers them, parses, and runs the one that was given.
// Exit codes: 0 no failure; 1 a failure was found (report printed, repro
// written); 2 bad usage, bad input or an environment the harness cannot run
// in (one line on stderr); 3 reproduce did not reproduce within its budget;
// 130 a sweep interrupted by SIGINT/SIGTERM.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace segsim::scenarios::cli {

inline constexpr int kExitPassed = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitNotReproduced = 3;
inline constexpr int kExitInterrupted = 130;

// One line on stderr ("segsim: ..."), control characters escaped, cut to a
// sane length; exit 2.
[[noreturn]] void bad_input(const std::string& line);

// Before any work: every named output must be writable (exit 2 otherwise).
void check_outputs(const std::vector<std::string>& paths);

// A subcommand's options live as long as `run`, which is called once after a
// successful parse with the command line's words after the program name.
struct Subcommand {
  CLI::App* app = nullptr;
  std::function<int(const std::vector<std::string>& argv)> run;
};

Subcommand add_run_command(CLI::App& app);
Subcommand add_sweep_command(CLI::App& app);
Subcommand add_hunt_command(CLI::App& app);
Subcommand add_replay_command(CLI::App& app);
Subcommand add_shrink_command(CLI::App& app);
Subcommand add_merge_command(CLI::App& app);
Subcommand add_list_command(CLI::App& app);
Subcommand add_reproduce_command(CLI::App& app);
Subcommand add_fuzz_artifact_command(CLI::App& app);

// segsim replay of `repro_path`, writing nothing (reproduce takes repros too).
int replay_repro_file(const std::string& repro_path);

}  // namespace segsim::scenarios::cli
