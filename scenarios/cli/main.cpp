// segsim — the command line (DESIGN.md, "The segsim CLI (contract)").
//
//   segsim list
//   segsim run SCENARIO [--seed N] [--strategy random|pct|rr] [--pct-depth D]
//                       [--faults none|swarm|SPEC] [--steps MAX] [--threads T] [--size S]
//                       [--trace-out F.json] [--plot F.svg] [--report F.json]
//   segsim sweep SCENARIO --seeds A..B [--jobs J] [--shard K/N] [--stop-on-failure]
//                         [--json F [--resume]] [--junit F] [--require-probes FILE]
//   segsim replay REPRO [--trace-out F.json]
//   segsim shrink REPRO -o MIN_REPRO
//   segsim merge RESULT.json... [--json F] [--junit F] [--require-probes FILE]
//   segsim hunt [--bug NAME|all] [--strategy random|pct|swarm|all] [--budget-seconds S]
//               [--repeats R] [--jobs J] [--md F] [--json F]          (mutants builds)
//
// Exit codes (scenarios/cli/commands.h): 0 no failure; 1 a failure was found
// (report printed, repro written); 2 bad usage, bad input or an environment
// the harness cannot run in (one clear line on stderr); 130 sweep interrupted.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/fault_point.h"
#include "core/mutants.h"
#include "core/probe.h"
#include "scenarios/cli/commands.h"
#include "scenarios/hunt.h"
#include "scenarios/probe_report.h"
#include "scenarios/safe_file.h"
#include "scenarios/values.h"

namespace segsim::scenarios::cli {
namespace {

// Every number on the command line goes through the one validator
// (scenarios/values.h): out of range is one line and exit 2, never a clamp.
template <class T>
CLI::Option* add_whole(CLI::App* app, const std::string& name, T& target, std::uint64_t min, std::uint64_t max,
                       const std::string& help) {
  return app->add_option_function<std::string>(
      name,
      [&target, name, min, max](const std::string& text) {
        std::string error;
        auto value = parse_whole(text, min, max, name, &error);
        if (!value.ok()) throw CLI::ValidationError(error);
        target = static_cast<T>(value.value());
      },
      fmt::format("{} ({}..{})", help, min, max));
}

CLI::Option* add_seconds(CLI::App* app, const std::string& name, double& target, double min, double max,
                         const std::string& help) {
  return app->add_option_function<std::string>(
      name,
      [&target, name, min, max](const std::string& text) {
        std::string error;
        auto value = parse_seconds(text, min, max, name, &error);
        if (!value.ok()) throw CLI::ValidationError(error);
        target = value.value();
      },
      fmt::format("{} ({}..{} s)", help, min, max));
}

// The knobs run and sweep share.
void add_knobs(CLI::App* app, RunSpec& spec) {
  app->add_option("--strategy", spec.strategy, "random | pct | rr")->check(CLI::IsMember({"random", "pct", "rr"}));
  add_whole(app, "--pct-depth", spec.pct_depth, kMinPctDepth, kMaxPctDepth, "PCT depth");
  app->add_option("--faults", spec.faults, "none | swarm | SPEC");
  add_whole(app, "--steps", spec.max_steps, 1, UINT64_MAX, "step limit (livelock; default: from threads x size)");
  add_whole(app, "--threads", spec.threads, 1, kMaxThreads, "client fibers (default: the scenario's)");
  add_whole(app, "--size", spec.size, 1, kMaxSize, "size knob (default: the scenario's)");
  app->add_option("--bug", spec.bug, "switch a catalogued bug on (mutants builds; segsim list)");
}

int command_list() {
  std::cout << "scenarios:\n";
  for (const ScenarioInfo& s : scenario_catalogue()) {
    std::cout << fmt::format("  {:<13} {} (default threads {}, size {})\n", s.name, s.description,
                             s.default_threads, s.default_size);
  }
  std::cout << "strategies:\n  random        uniform among runnable fibers\n"
               "  pct           PCT with depth D (--pct-depth, default 3)\n"
               "  rr            round robin (debugging)\n"
               "  replay        follow a repro's recorded decisions (segsim replay)\n";
  std::cout << "fault kinds (--faults SPEC, docs/faults.md):\n"
               "  mmap|munmap|madvise|map_file|stat:ERRNO@nth=N|after=N|p=P\n"
               "  async:delay[@p=P]  async:reorder[@p=P]  point:SITE@p=P  none  swarm\n";
  std::cout << "fault points:\n";
  for (const auto& site : fault_points::kFaultPoints) {
    std::cout << fmt::format("  {:<24} {}\n", site.name, site.effect);
  }
  std::cout << "probes (sweep --require-probes FILE; * = required by the CI campaign):\n";
  for (const auto& probe : probes::kProbes) {
    std::cout << fmt::format("  {:<32} {}{}\n", probe.name, probe.what, probe.required ? " *" : "");
  }
  std::cout << "bugs (--bug NAME, segsim hunt):\n";
  if (!segsim::mutants::kBuilt) {
    std::cout << "  (none in this build: configure with the mutants preset)\n";
  } else {
    for (const auto& bug : segsim::mutants::kCatalogue) {
      std::cout << fmt::format("  {:<24} [{}] {}\n", bug.name, bug.scenario, bug.mistake);
    }
  }
  return kExitPassed;
}

int command_hunt(const std::string& bug_name, const std::string& strategy, HuntSpec& spec, const std::string& md,
                 const std::string& json, const std::string& probes_json) {
#if defined(SEGSIM_MUTANTS) && SEGSIM_MUTANTS
  check_outputs({md, json, probes_json});
  if (bug_name == "all") {
    for (const auto& bug : segsim::mutants::kCatalogue) spec.bugs.emplace_back(bug.name);
  } else if (segsim::mutants::find(bug_name) == nullptr) {
    bad_input(fmt::format("unknown bug {} (see segsim list)", quoted_text(bug_name)));
  } else {
    spec.bugs.push_back(bug_name);
  }
  spec.strategies = strategy == "all" ? std::vector<std::string>{"random", "pct", "swarm"}
                                      : std::vector<std::string>{strategy};
  std::vector<ProbeCount> probes;
  std::vector<HuntRow> rows = run_hunt(spec, std::cerr, &probes);
  const std::string table = hunt_markdown(rows);
  std::cout << table;
  std::cout << probe_summary(probes) << "\n";
  std::string error;
  if (!probes_json.empty()) {
    nlohmann::ordered_json doc = {{"probes", nlohmann::ordered_json::object()}};
    for (const ProbeCount& p : probes) doc["probes"][p.name] = p.hits;
    if (!write_text_file(probes_json, doc.dump(2) + "\n", &error).ok()) std::cerr << "segsim: " << one_line(error) << "\n";
  }
  if (!md.empty() && !write_text_file(md, table, &error).ok()) std::cerr << "segsim: " << one_line(error) << "\n";
  if (!json.empty() && !write_text_file(json, hunt_json(rows), &error).ok()) {
    std::cerr << "segsim: " << one_line(error) << "\n";
  }
  // Per bug: found by at least one strategy in at least one hunt.
  std::map<std::string, bool> found;
  for (const HuntRow& row : rows) found[row.bug] = found[row.bug] || row.found > 0;
  bool all_found = true;
  for (const auto& [bug, ok] : found) {
    if (!ok) {
      std::cout << "NOT FOUND: " << bug << "\n";
      all_found = false;
    }
  }
  return all_found && error.empty() ? kExitPassed : kExitFailure;
#else
  (void)bug_name, (void)strategy, (void)spec, (void)md, (void)json, (void)probes_json;
  return kExitBadInput;
#endif
}

}  // namespace
}  // namespace segsim::scenarios::cli

int main(int argc, char** argv) {
  using namespace segsim::scenarios;
  using namespace segsim::scenarios::cli;
  // A closed stdout or stderr (`| head -1`) must not kill a run or a sweep
  // half-way: writes to it fail instead, and the results files are kept.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"segsim: deterministic simulation and fault injection for a database memory stack"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "all subcommands' options");

  // run
  RunSpec run_spec;
  Outputs run_outputs;
  auto* run = app.add_subcommand("run", "run one scenario under one seed");
  run->add_option("scenario", run_spec.scenario, "scenario name (segsim list)")->required();
  add_whole(run, "--seed", run_spec.seed, 0, UINT64_MAX, "root seed");
  add_knobs(run, run_spec);
  run->add_option("--test-hook", run_spec.test_hook, "test-only sabotage (corrupt-segment)");
  run->add_option("--trace-out", run_outputs.trace_out, "Chrome trace-event JSON (Perfetto)");
  run->add_option("--plot", run_outputs.plot, "SVG of virtual and resident bytes over simulated time");
  run->add_option("--report", run_outputs.report, "summary as JSON");
  bool check_determinism = false;
  run->add_flag("--check-determinism", check_determinism,
                "run the seed twice and compare trace hashes (exit 1 if they differ)");

  // sweep
  SweepCommand sweep_command;
  SweepSpec& sweep_spec = sweep_command.spec;
  auto* sweep = app.add_subcommand("sweep", "run seeds A..B, each in a forked child");
  sweep->add_option("scenario", sweep_spec.base.scenario, "scenario name")->required();
  sweep->add_option("--seeds", sweep_command.seeds_text, "seed range A..B")->required();
  add_whole(sweep, "--jobs", sweep_spec.jobs, 1, 64, "children at once");
  sweep->add_option("--shard", sweep_command.shard_text, "K/N: run shard K (0-based) of N");
  sweep->add_flag("--stop-on-failure", sweep_spec.stop_on_failure, "stop at the first failing seed");
  sweep->add_option("--json", sweep_command.json_out, "results as JSON, kept current as seeds finish (segsim merge)");
  sweep->add_flag("--resume", sweep_command.resume, "skip the seeds already in --json (same settings)");
  sweep->add_option("--junit", sweep_command.junit_out, "results as JUnit XML");
  sweep->add_option("--require-probes", sweep_command.require_probes,
                    "probe list (one name per line, # comments): exit 1 when one never fired");
  add_knobs(sweep, sweep_spec.base);
  add_seconds(sweep, "--timeout", sweep_spec.seed_timeout_seconds, kMinSeedTimeoutSeconds, kMaxSeedTimeoutSeconds,
              "seconds per seed before it counts as a hang");
  sweep->add_option("--failures-dir", sweep_spec.failures_dir, "where failing seeds' repros go");

  // hunt
  std::string hunt_bug = "all", hunt_strategy = "swarm", hunt_md, hunt_json_out;
  HuntSpec hunt_spec;
  auto* hunt = app.add_subcommand("hunt", "find the catalogued bugs (mutants builds)");
  hunt->add_option("--bug", hunt_bug, "a bug name, or all")->capture_default_str();
  hunt->add_option("--strategy", hunt_strategy, "random | pct | swarm | all")
      ->check(CLI::IsMember({"random", "pct", "swarm", "all"}))->capture_default_str();
  add_seconds(hunt, "--budget-seconds", hunt_spec.budget_seconds, 0.1, 3600.0, "per hunt");
  add_whole(hunt, "--repeats", hunt_spec.repeats, 1, 100, "independent hunts per bug and strategy");
  add_whole(hunt, "--jobs", hunt_spec.jobs, 1, 64, "children at once");
  hunt->add_option("--md", hunt_md, "the table as Markdown");
  hunt->add_option("--json", hunt_json_out, "the table as JSON");
  std::string hunt_probes_json;
  hunt->add_option("--probes-json", hunt_probes_json, "probe hits over every seed run, as JSON");

  // replay
  std::string replay_path;
  Outputs replay_outputs;
  auto* replay = app.add_subcommand("replay", "re-run a repro and confirm its failure and trace hash");
  replay->add_option("repro", replay_path, "repro file")->required();
  replay->add_option("--trace-out", replay_outputs.trace_out, "Chrome trace-event JSON");
  replay->add_option("--plot", replay_outputs.plot, "SVG memory plot");

  // shrink
  std::string shrink_in, shrink_out;
  ShrinkLimits shrink_limits;
  auto* shrink_cmd = app.add_subcommand("shrink", "minimise a failing run");
  shrink_cmd->add_option("repro", shrink_in, "failing repro file")->required();
  shrink_cmd->add_option("-o,--output", shrink_out, "where the smaller repro goes")->required();
  add_whole(shrink_cmd, "--max-runs", shrink_limits.max_runs, 1, kMaxRunsCeiling, "candidate runs, at most");
  add_seconds(shrink_cmd, "--max-seconds", shrink_limits.max_seconds, 0.001, kMaxSecondsCeiling, "wall time, at most");

  // merge
  MergeCommand merge_command;
  auto* merge = app.add_subcommand("merge", "combine shard results of one sweep");
  merge->add_option("results", merge_command.inputs, "RESULT.json files (segsim sweep --json)")->required();
  merge->add_option("--json", merge_command.json_out, "merged results as JSON");
  merge->add_option("--junit", merge_command.junit_out, "merged results as JUnit XML");
  merge->add_option("--require-probes", merge_command.require_probes,
                    "probe list (one name per line, # comments): exit 1 when one never fired");

  app.add_subcommand("list", "scenarios, strategies, fault kinds, fault points, probes, bugs");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One clear line, exit 2 (CLI11's own exit codes are not our contract).
    std::cerr << "segsim: " << one_line(e.what()) << " (see segsim --help)\n";
    return kExitBadInput;
  }

  if (app.got_subcommand("list")) return command_list();

  if (run->parsed() || sweep->parsed() || hunt->parsed()) {
    const std::string& bug = run->parsed() ? run_spec.bug : sweep->parsed() ? sweep_spec.base.bug : hunt_bug;
    if (!bug.empty() && !segsim::mutants::kBuilt) {
      bad_input("this build has no mutants: --bug and hunt need the mutants preset "
                "(cmake --preset mutants && cmake --build --preset mutants)");
    }
  }
  if (hunt->parsed()) {
    return command_hunt(hunt_bug, hunt_strategy, hunt_spec, hunt_md, hunt_json_out, hunt_probes_json);
  }
  if (run->parsed()) return command_run(run_spec, run_outputs, check_determinism);
  if (sweep->parsed()) {
    sweep_command.argv.assign(argv + 1, argv + argc);
    return command_sweep(sweep_command);
  }
  if (replay->parsed()) return command_replay(replay_path, replay_outputs);
  if (shrink_cmd->parsed()) return command_shrink(shrink_in, shrink_out, shrink_limits);
  if (merge->parsed()) return command_merge(merge_command);
  return kExitBadInput;
}
