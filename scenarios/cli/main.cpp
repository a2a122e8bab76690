// segsim — the command line (DESIGN.md, "The segsim CLI (contract)").
//
//   segsim list
//   segsim run SCENARIO [--seed N] [--strategy random|pct|pos|rr] [--pct-depth D] [--pct-steps K]
//                       [--faults none|swarm|SPEC] [--steps MAX] [--threads T] [--size S]
//                       [--trace-out F.json] [--plot F.svg] [--report F.json]
//   segsim sweep SCENARIO --seeds A..B [--jobs J] [--shard K/N] [--stop-on-failure]
//                         [--json F] [--junit F]
//   segsim replay REPRO [--trace-out F.json]
//   segsim shrink REPRO -o MIN_REPRO
//   segsim merge RESULT.json...
//   segsim hunt [--bug NAME|all] [--strategy random|pct|pos|swarm|all] [--budget-seconds S]
//               [--repeats R] [--jobs J] [--md F] [--json F]          (mutants builds)
//
// Exit codes: 0 no failure; 1 a failure was found (report printed, repro
// written); 2 bad usage or bad input (one clear line on stderr).
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/fault_point.h"
#include "core/mutants.h"
#include "faults/fault_plan.h"
#include "scenarios/hunt.h"
#include "scenarios/plot_svg.h"
#include "scenarios/repro.h"
#include "scenarios/run.h"
#include "scenarios/shrink.h"
#include "scenarios/sweep.h"
#include "scenarios/trace_json.h"

namespace segsim::scenarios {
namespace {

constexpr int kExitPassed = 0;
constexpr int kExitFailure = 1;
constexpr int kExitBadInput = 2;

[[noreturn]] void bad_input(const std::string& line) {
  std::cerr << "segsim: " << line << "\n";
  std::exit(kExitBadInput);
}

std::string mib(std::uint64_t bytes) { return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20)); }

// The one-screen summary of a run.
void print_summary(const RunReport& r, std::ostream& out) {
  out << fmt::format("scenario       {}\n", r.spec.scenario);
  out << fmt::format("seed           {}\n", r.spec.seed);
  out << fmt::format("strategy       {}{}\n", r.spec.strategy,
                     r.spec.strategy == "pct" ? fmt::format(" (depth {}, k {} steps)", r.spec.pct_depth, r.spec.pct_steps) : "");
  out << fmt::format("faults         {}{}\n", r.spec.faults == "swarm" ? "swarm: " : "", r.concrete_faults);
  out << fmt::format("threads, size  {}, {}\n", r.spec.threads, r.spec.size);
  out << fmt::format("steps          {} ({} fibers, {} faults injected)\n", r.steps, r.fibers, r.faults_injected);
  out << fmt::format("virtual time   {:.3f} ms\n", static_cast<double>(r.virtual_time_ns) / 1e6);
  out << fmt::format("peak memory    {} virtual, {} resident\n", mib(r.peak_virtual_bytes), mib(r.peak_resident_bytes));
  out << fmt::format("trace hash     {:#018x}\n", r.trace_hash);
  out << fmt::format("wall time      {:.3f} s\n", r.wall_seconds);
  out << fmt::format("result         {}\n", r.passed ? "PASSED" : "FAILED");
}

void print_failure(const RunReport& r, const std::string& repro_path, std::ostream& out) {
  const Failure& f = *r.failure;
  out << fmt::format("\nFAILURE: oracle {} — {}\n", f.oracle, f.message);
  if (f.fiber == segsim::sim::kNoFiber) {
    out << fmt::format("  at quiescence, after step {}\n", r.steps);
  } else {
    out << fmt::format("  in fiber #{} at step {}\n", f.fiber, f.step);
  }
  if (!f.segment.empty()) out << fmt::format("  segment: {}\n", f.segment);
  for (const SegmentEvent& e : f.segment_history) {
    out << fmt::format("    {} by fiber #{} at step {}\n", e.what, e.fiber, e.step);
  }
  if (!r.last_events.empty()) {
    out << "  last trace events:\n";
    const std::size_t first = r.last_events.size() > 12 ? r.last_events.size() - 12 : 0;
    for (std::size_t i = first; i < r.last_events.size(); ++i) out << "    " << r.last_events[i].describe() << "\n";
  }
  out << fmt::format("reproduce: segsim replay {}\n", repro_path);
}

nlohmann::json report_json(const RunReport& r) {
  nlohmann::json j = {{"scenario", r.spec.scenario}, {"seed", r.spec.seed}, {"strategy", r.spec.strategy},
                      {"pct_depth", r.spec.pct_depth}, {"pct_steps", r.spec.pct_steps}, {"faults", r.spec.faults}, {"concrete_faults", r.concrete_faults},
                      {"threads", r.spec.threads}, {"size", r.spec.size}, {"steps", r.steps},
                      {"virtual_time_ns", r.virtual_time_ns}, {"peak_virtual_bytes", r.peak_virtual_bytes},
                      {"peak_resident_bytes", r.peak_resident_bytes}, {"faults_injected", r.faults_injected},
                      {"trace_hash", fmt::format("{:#018x}", r.trace_hash)}, {"passed", r.passed},
                      {"wall_seconds", r.wall_seconds}, {"build_id", build_id()}};
  if (r.failure) {
    j["failure"] = {{"oracle", r.failure->oracle}, {"message", r.failure->message},
                    {"fiber", r.failure->fiber}, {"step", r.failure->step}, {"segment", r.failure->segment}};
  }
  return j;
}

void write_or_die(const std::string& path, const std::string& text) {
  std::string error;
  if (!write_text_file(path, text, &error).ok()) bad_input(error);
}

// Where a failing run's repro goes: next to --report, else ./segsim-failures/.
std::string repro_path_for(const RunReport& r, const std::string& report_path) {
  const std::string name = fmt::format("{}-seed{}.repro.json", r.spec.scenario, r.spec.seed);
  if (!report_path.empty()) {
    const auto slash = report_path.find_last_of('/');
    return slash == std::string::npos ? name : report_path.substr(0, slash + 1) + name;
  }
  ::mkdir("segsim-failures", 0755);
  return "segsim-failures/" + name;
}

struct Outputs {
  std::string trace_out, plot, report;
};

int finish_run(const RunReport& report, const Outputs& outputs, const std::string& repro_override = "") {
  print_summary(report, std::cout);
  if (!outputs.trace_out.empty()) write_or_die(outputs.trace_out, chrome_trace_json(report));
  if (!outputs.plot.empty()) write_or_die(outputs.plot, memory_plot_svg(report));
  if (!outputs.report.empty()) write_or_die(outputs.report, report_json(report).dump(2) + "\n");
  if (report.passed) return kExitPassed;
  const std::string path = repro_override.empty() ? repro_path_for(report, outputs.report) : repro_override;
  std::string error;
  if (!write_repro(repro_from_report(report), path, &error).ok()) bad_input(error);
  print_failure(report, path, std::cout);
  return kExitFailure;
}

RunReport run_or_die(const RunSpec& spec, const RunOptions& options) {
  std::string error;
  auto report = run_scenario(spec, options, &error);
  if (!report.ok()) bad_input(error);
  return std::move(report.value());
}

int command_list() {
  std::cout << "scenarios:\n";
  for (const ScenarioInfo& s : scenario_catalogue()) {
    std::cout << fmt::format("  {:<13} {} (default threads {}, size {})\n", s.name, s.description,
                             s.default_threads, s.default_size);
  }
  std::cout << "strategies:\n  random        uniform among runnable fibers\n"
               "  pct           PCT with depth D (--pct-depth, default 3), k calibrated (--pct-steps)\n"
               "  pos           POS, partial order sampling (conflicting operations re-drawn)\n"
               "  rr            round robin (debugging)\n"
               "  replay        follow a repro's recorded decisions (segsim replay)\n";
  std::cout << "fault kinds (--faults SPEC, docs/faults.md):\n"
               "  mmap|munmap|madvise|map_file|stat:ERRNO@nth=N|after=N|p=P\n"
               "  async:delay[@p=P]  async:reorder[@p=P]  point:SITE@p=P  none  swarm\n";
  std::cout << "fault points:\n";
  for (const auto& site : fault_points::kFaultPoints) {
    std::cout << fmt::format("  {:<24} {}\n", site.name, site.effect);
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

}  // namespace
}  // namespace segsim::scenarios

int main(int argc, char** argv) {
  using namespace segsim::scenarios;
  CLI::App app{"segsim: deterministic simulation and fault injection for a database memory stack"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "all subcommands' options");

  // run
  RunSpec run_spec;
  Outputs run_outputs;
  auto* run = app.add_subcommand("run", "run one scenario under one seed");
  run->add_option("scenario", run_spec.scenario, "scenario name (segsim list)")->required();
  run->add_option("--seed", run_spec.seed, "root seed")->capture_default_str();
  run->add_option("--strategy", run_spec.strategy, "random | pct | pos | rr")
      ->check(CLI::IsMember({"random", "pct", "pos", "rr"}))->capture_default_str();
  run->add_option("--pct-depth", run_spec.pct_depth, "PCT depth")->check(CLI::Range(1, 16))->capture_default_str();
  run->add_option("--pct-steps", run_spec.pct_steps, "PCT's k in decisions (default: calibrated)")
      ->check(CLI::PositiveNumber);
  run->add_option("--faults", run_spec.faults, "none | swarm | SPEC")->capture_default_str();
  run->add_option("--steps", run_spec.max_steps, "step limit (livelock)")->check(CLI::PositiveNumber)->capture_default_str();
  run->add_option("--threads", run_spec.threads, "client fibers (default: the scenario's)")->check(CLI::Range(1, 64));
  run->add_option("--size", run_spec.size, "size knob (default: the scenario's)")->check(CLI::Range(1, 1000));
  run->add_option("--test-hook", run_spec.test_hook, "test-only sabotage (corrupt-segment)");
  run->add_option("--bug", run_spec.bug, "switch a catalogued bug on (mutants builds; segsim list)");
  run->add_option("--trace-out", run_outputs.trace_out, "Chrome trace-event JSON (Perfetto)");
  run->add_option("--plot", run_outputs.plot, "SVG of virtual and resident bytes over simulated time");
  run->add_option("--report", run_outputs.report, "summary as JSON");
  bool check_determinism = false;
  run->add_flag("--check-determinism", check_determinism,
                "run the seed twice and compare trace hashes (exit 1 if they differ)");

  // sweep
  SweepSpec sweep_spec;
  std::string seeds_text, shard_text, json_out, junit_out;
  auto* sweep = app.add_subcommand("sweep", "run seeds A..B, each in a forked child");
  sweep->add_option("scenario", sweep_spec.base.scenario, "scenario name")->required();
  sweep->add_option("--seeds", seeds_text, "seed range A..B")->required();
  sweep->add_option("--jobs", sweep_spec.jobs, "children at once")->check(CLI::Range(1, 64))->capture_default_str();
  sweep->add_option("--shard", shard_text, "K/N: run shard K (0-based) of N");
  sweep->add_flag("--stop-on-failure", sweep_spec.stop_on_failure, "stop at the first failing seed");
  sweep->add_option("--json", json_out, "results as JSON (for segsim merge)");
  sweep->add_option("--junit", junit_out, "results as JUnit XML");
  sweep->add_option("--strategy", sweep_spec.base.strategy, "random | pct | pos | rr")
      ->check(CLI::IsMember({"random", "pct", "pos", "rr"}));
  sweep->add_option("--pct-depth", sweep_spec.base.pct_depth, "PCT depth")->check(CLI::Range(1, 16));
  sweep->add_option("--pct-steps", sweep_spec.base.pct_steps, "PCT's k in decisions (default: calibrated)")
      ->check(CLI::PositiveNumber);
  sweep->add_option("--faults", sweep_spec.base.faults, "none | swarm | SPEC");
  sweep->add_option("--steps", sweep_spec.base.max_steps, "step limit")->check(CLI::PositiveNumber);
  sweep->add_option("--threads", sweep_spec.base.threads, "client fibers")->check(CLI::Range(1, 64));
  sweep->add_option("--size", sweep_spec.base.size, "size knob")->check(CLI::Range(1, 1000));
  sweep->add_option("--timeout", sweep_spec.seed_timeout_seconds, "seconds per seed before it counts as a hang")
      ->check(CLI::PositiveNumber);
  sweep->add_option("--failures-dir", sweep_spec.failures_dir, "where failing seeds' repros go");
  sweep->add_option("--bug", sweep_spec.base.bug, "switch a catalogued bug on (mutants builds)");

  // hunt
  std::string hunt_bug = "all", hunt_strategy = "swarm", hunt_md, hunt_json_out;
  HuntSpec hunt_spec;
  auto* hunt = app.add_subcommand("hunt", "find the catalogued bugs (mutants builds)");
  hunt->add_option("--bug", hunt_bug, "a bug name, or all")->capture_default_str();
  hunt->add_option("--strategy", hunt_strategy, "random | pct | pos | swarm | all")
      ->check(CLI::IsMember({"random", "pct", "pos", "swarm", "all"}))->capture_default_str();
  hunt->add_option("--budget-seconds", hunt_spec.budget_seconds, "per hunt")->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  hunt->add_option("--repeats", hunt_spec.repeats, "independent hunts per bug and strategy")
      ->check(CLI::Range(1, 100))->capture_default_str();
  hunt->add_option("--jobs", hunt_spec.jobs, "children at once")->check(CLI::Range(1, 64))->capture_default_str();
  hunt->add_option("--md", hunt_md, "the table as Markdown");
  hunt->add_option("--json", hunt_json_out, "the table as JSON");

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
  shrink_cmd->add_option("--max-runs", shrink_limits.max_runs, "candidate runs, at most")->check(CLI::PositiveNumber);
  shrink_cmd->add_option("--max-seconds", shrink_limits.max_seconds, "wall time, at most")->check(CLI::PositiveNumber);

  // merge
  std::vector<std::string> merge_inputs;
  std::string merge_json, merge_junit;
  auto* merge = app.add_subcommand("merge", "combine shard results of one sweep");
  merge->add_option("results", merge_inputs, "RESULT.json files (segsim sweep --json)")->required();
  merge->add_option("--json", merge_json, "merged results as JSON");
  merge->add_option("--junit", merge_junit, "merged results as JUnit XML");

  app.add_subcommand("list", "scenarios, strategies, fault kinds, fault points, bugs");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One clear line, exit 2 (CLI11's own exit codes are not our contract).
    std::cerr << "segsim: " << e.what() << " (see segsim --help)\n";
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
#if defined(SEGSIM_MUTANTS) && SEGSIM_MUTANTS
    if (hunt_bug == "all") {
      for (const auto& bug : segsim::mutants::kCatalogue) hunt_spec.bugs.emplace_back(bug.name);
    } else if (segsim::mutants::find(hunt_bug) == nullptr) {
      bad_input(fmt::format("unknown bug '{}' (see segsim list)", hunt_bug));
    } else {
      hunt_spec.bugs.push_back(hunt_bug);
    }
    hunt_spec.strategies = hunt_strategy == "all" ? std::vector<std::string>{"random", "pct", "pos", "swarm"}
                                                  : std::vector<std::string>{hunt_strategy};
    std::vector<HuntRow> rows = run_hunt(hunt_spec, std::cerr);
    const std::string table = hunt_markdown(rows);
    std::cout << table;
    if (!hunt_md.empty()) write_or_die(hunt_md, table);
    if (!hunt_json_out.empty()) write_or_die(hunt_json_out, hunt_json(rows));
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
    return all_found ? kExitPassed : kExitFailure;
#endif
  }

  if (run->parsed()) {
    RunOptions options;
    options.keep_full_trace = !run_outputs.trace_out.empty();
    options.sample_memory = !run_outputs.plot.empty();
    RunReport first = run_or_die(run_spec, options);
    if (check_determinism) {
      const RunReport second = run_or_die(run_spec, options);
      if (second.trace_hash != first.trace_hash ||
          second.failure.has_value() != first.failure.has_value()) {
        std::cout << fmt::format("determinism: NOT deterministic — trace hash {:#018x} then {:#018x}\n",
                                 first.trace_hash, second.trace_hash);
        return kExitFailure;
      }
      std::cout << fmt::format("determinism: two runs, same trace hash {:#018x}\n", first.trace_hash);
    }
    return finish_run(first, run_outputs);
  }

  if (sweep->parsed()) {
    std::string error;
    auto range = parse_seed_range(seeds_text, &error);
    if (!range.ok()) bad_input(error);
    sweep_spec.seeds = range.value();
    if (!shard_text.empty()) {
      auto shard = parse_shard(shard_text, &error);
      if (!shard.ok()) bad_input(error);
      sweep_spec.shard = shard.value();
    } else if (const char* index = std::getenv("GTEST_SHARD_INDEX"); index != nullptr) {
      const char* total = std::getenv("GTEST_TOTAL_SHARDS");
      auto shard = parse_shard(fmt::format("{}/{}", index, total == nullptr ? "" : total), &error);
      if (!shard.ok()) bad_input("GTEST_SHARD_INDEX / GTEST_TOTAL_SHARDS: " + error);
      sweep_spec.shard = shard.value();
    }
    // Validate the spec once here, so a typo is one line, not N failed children.
    if (find_scenario(sweep_spec.base.scenario) == nullptr) {
      bad_input(fmt::format("unknown scenario '{}' (see segsim list)", sweep_spec.base.scenario));
    }
    if (!segsim::faults::make_fault_plan(sweep_spec.base.faults, 1, &error).ok()) bad_input(error);
    // PCT's k is calibrated once here, not in every forked child.
    if (sweep_spec.base.strategy == "pct") sweep_spec.base.pct_steps = pct_steps_for(sweep_spec.base);
    const bool terminal = ::isatty(STDERR_FILENO) != 0;
    SweepResult result = run_sweep(sweep_spec, std::cerr, terminal);
    if (!json_out.empty()) write_or_die(json_out, sweep_to_json(result));
    if (!junit_out.empty()) write_or_die(junit_out, sweep_to_junit(result));
    std::cout << fmt::format("sweep {}: {} seeds, {} failed, {:.1f} s ({:.1f} seeds/s)\n", result.scenario,
                             result.seeds.size(), result.failures(), result.wall_seconds,
                             result.wall_seconds > 0 ? static_cast<double>(result.seeds.size()) / result.wall_seconds : 0.0);
    for (const SeedResult& seed : result.seeds) {
      if (seed.outcome == SeedOutcome::Passed) continue;
      std::cout << fmt::format("  seed {}: {} — {}\n  reproduce: segsim replay {}\n", seed.seed,
                               seed_outcome_name(seed.outcome), seed.detail, seed.repro_path);
    }
    return result.failures() == 0 ? kExitPassed : kExitFailure;
  }

  if (replay->parsed()) {
    std::string error;
    auto repro = read_repro(replay_path, &error);
    if (!repro.ok()) bad_input(error);
    RunSpec spec = repro->spec;  // recorded decisions are replayed by run_scenario
    if (repro->build_id != build_id()) {
      std::cerr << fmt::format("segsim: warning: repro was recorded by build '{}', this is '{}'\n", repro->build_id,
                               build_id());
    }
    RunOptions options;
    options.keep_full_trace = !replay_outputs.trace_out.empty();
    options.sample_memory = !replay_outputs.plot.empty();
    RunReport report = run_or_die(spec, options);
    report.spec.strategy = repro->spec.strategy;
    const int code = finish_run(report, replay_outputs, replay_path + ".replayed.json");
    const bool same_hash = report.trace_hash == repro->expected_trace_hash;
    const bool same_failure = report.failure.has_value() == repro->failure.has_value() &&
                              (!report.failure || report.failure->signature() == repro->failure->signature());
    if (same_hash && same_failure) {
      std::cout << "replay: reproduced exactly (same " << (report.failure ? "failure" : "result")
                << " and trace hash)\n";
    } else {
      if (!same_hash) {
        std::cout << fmt::format("replay: trace hash differs: recorded {:#018x}, now {:#018x}\n",
                                 repro->expected_trace_hash, report.trace_hash);
      }
      if (!same_failure) {
        std::cout << fmt::format("replay: outcome differs: recorded '{}', now '{}'\n",
                                 repro->failure ? repro->failure->signature() : "passed",
                                 report.failure ? report.failure->signature() : "passed");
      }
    }
    return code;
  }

  if (shrink_cmd->parsed()) {
    std::string error;
    auto repro = read_repro(shrink_in, &error);
    if (!repro.ok()) bad_input(error);
    auto result = shrink(repro.value(), shrink_limits, std::cout, &error);
    if (!result.ok()) bad_input(error);
    if (!write_repro(result->minimal, shrink_out, &error).ok()) bad_input(error);
    std::cout << fmt::format(
        "shrink: {} runs; decisions {} -> {}, threads {} -> {}, size {} -> {}, fault rules {} -> {}\n"
        "minimal repro: {} (reproduce: segsim replay {})\n",
        result->runs, result->decisions_before, result->decisions_after, result->threads_before,
        result->threads_after, result->size_before, result->size_after, result->fault_rules_before,
        result->fault_rules_after, shrink_out, shrink_out);
    return kExitFailure;  // the minimal repro still fails
  }

  if (merge->parsed()) {
    std::vector<SweepResult> shards;
    for (const std::string& path : merge_inputs) {
      std::ifstream in(path);
      if (!in) bad_input(fmt::format("cannot read '{}'", path));
      std::stringstream text;
      text << in.rdbuf();
      std::string error;
      auto shard = sweep_from_json(text.str(), &error);
      if (!shard.ok()) bad_input(fmt::format("{}: {}", path, error));
      shards.push_back(std::move(shard.value()));
    }
    std::string error;
    auto merged = merge_sweeps(shards, &error);
    if (!merged.ok()) bad_input(error);
    if (!merge_json.empty()) write_or_die(merge_json, sweep_to_json(merged.value()));
    if (!merge_junit.empty()) write_or_die(merge_junit, sweep_to_junit(merged.value()));
    std::cout << fmt::format("merged {} shard(s): {} seeds, {} failed\n", shards.size(), merged->seeds.size(),
                             merged->failures());
    return merged->failures() == 0 ? kExitPassed : kExitFailure;
  }
  return kExitBadInput;
}
