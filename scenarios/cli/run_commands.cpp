// segsim run, replay and shrink: one run (or a few), its summary, its outputs
// and, when it fails, its repro.
#include <cstdlib>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/probe.h"
#include "scenarios/cli/commands.h"
#include "scenarios/plot_svg.h"
#include "scenarios/repro.h"
#include "scenarios/safe_file.h"
#include "scenarios/trace_json.h"

namespace segsim::scenarios::cli {

namespace {

constexpr const char* kDefaultFailuresDir = "segsim-failures";

std::string mib(std::uint64_t bytes) { return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20)); }

// The one-screen summary of a run.
void print_summary(const RunReport& r, std::ostream& out) {
  out << fmt::format("scenario       {}\n", r.spec.scenario);
  out << fmt::format("seed           {}\n", r.spec.seed);
  out << fmt::format("strategy       {}{}\n", r.spec.strategy,
                     r.spec.strategy == "pct" ? fmt::format(" (depth {})", r.spec.pct_depth) : "");
  out << fmt::format("faults         {}{}\n", r.spec.faults == "swarm" ? "swarm: " : "", r.concrete_faults);
  out << fmt::format("threads, size  {}, {}\n", r.spec.threads, r.spec.size);
  out << fmt::format("steps          {} of at most {} ({} fibers, {} faults injected)\n", r.steps, r.spec.max_steps,
                     r.fibers, r.faults_injected);
  out << fmt::format("virtual time   {:.3f} ms\n", static_cast<double>(r.virtual_time_ns) / 1e6);
  out << fmt::format("peak memory    {} virtual, {} resident\n", mib(r.peak_virtual_bytes), mib(r.peak_resident_bytes));
  out << fmt::format("trace hash     {:#018x}\n", r.trace_hash);
  out << fmt::format("wall time      {:.3f} s\n", r.wall_seconds);
  out << fmt::format("result         {}\n", r.passed ? "PASSED" : "FAILED");
}

void print_failure(const RunReport& r, const std::string& repro_path, const std::string& repro_error,
                   std::ostream& out) {
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
  if (repro_error.empty()) {
    out << fmt::format("reproduce: segsim replay {}\n", repro_path);
  } else {
    out << fmt::format("repro NOT written: {}\n", repro_error);
  }
}

nlohmann::json report_json(const RunReport& r) {
  nlohmann::json j = {{"scenario", r.spec.scenario}, {"seed", r.spec.seed}, {"strategy", r.spec.strategy},
                      {"pct_depth", r.spec.pct_depth}, {"faults", r.spec.faults}, {"concrete_faults", r.concrete_faults},
                      {"threads", r.spec.threads}, {"size", r.spec.size}, {"max_steps", r.spec.max_steps},
                      {"steps", r.steps}, {"virtual_time_ns", r.virtual_time_ns},
                      {"peak_virtual_bytes", r.peak_virtual_bytes}, {"peak_resident_bytes", r.peak_resident_bytes},
                      {"faults_injected", r.faults_injected}, {"trace_hash", fmt::format("{:#018x}", r.trace_hash)},
                      {"passed", r.passed}, {"wall_seconds", r.wall_seconds}, {"build_id", build_id()}};
  nlohmann::json probe_hits = nlohmann::json::object();
  for (std::size_t i = 0; i < r.probe_hits.size() && i < probes::kProbes.size(); ++i) {
    probe_hits[std::string(probes::kProbes[i].name)] = r.probe_hits[i];
  }
  j["probes"] = std::move(probe_hits);
  if (r.failure) {
    j["failure"] = {{"oracle", r.failure->oracle}, {"message", r.failure->message},
                    {"fiber", r.failure->fiber}, {"step", r.failure->step}, {"segment", r.failure->segment}};
  }
  return j;
}

// Where a failing run's repro goes: next to --report, else ./segsim-failures/.
std::string repro_path_for(const RunReport& r, const std::string& report_path) {
  const std::string name = fmt::format("{}-seed{}.repro.json", r.spec.scenario, r.spec.seed);
  if (!report_path.empty()) {
    const auto slash = report_path.find_last_of('/');
    return slash == std::string::npos ? name : report_path.substr(0, slash + 1) + name;
  }
  return std::string(kDefaultFailuresDir) + "/" + name;
}

// Writes the requested outputs; the first error line, or "".
std::string write_outputs(const RunReport& report, const Outputs& outputs) {
  std::string first_error;
  const auto write = [&](const std::string& path, const auto& make_text) {
    if (path.empty()) return;
    std::string error;
    if (!write_text_file(path, make_text(), &error).ok() && first_error.empty()) first_error = error;
  };
  write(outputs.trace_out, [&] { return chrome_trace_json(report); });
  write(outputs.plot, [&] { return memory_plot_svg(report); });
  write(outputs.report, [&] { return report_json(report).dump(2) + "\n"; });
  return first_error;
}

// Prints the run's summary, writes its outputs and, when it failed, its
// repro. A found failure stays exit 1 even when a file cannot be written.
int finish_run(RunReport report, const Outputs& outputs, const std::string& repro_override = "") {
  print_summary(report, std::cout);
  const std::string output_error = write_outputs(report, outputs);
  if (report.passed) {
    if (!output_error.empty()) bad_input(output_error);
    return kExitPassed;
  }
  const std::string path = repro_override.empty() ? repro_path_for(report, outputs.report) : repro_override;
  std::string repro_error;
  if (repro_override.empty() && outputs.report.empty()) {
    (void)prepare_output_folder(kDefaultFailuresDir, &repro_error);
  }
  if (repro_error.empty()) {
    RunReport for_repro;  // takes the decisions over; the rest stays for the report
    for_repro.spec = report.spec;
    for_repro.decisions = std::move(report.decisions);
    for_repro.concrete_faults = report.concrete_faults;
    for_repro.trace_hash = report.trace_hash;
    for_repro.failure = report.failure;
    (void)write_repro(repro_from_report(std::move(for_repro)), path, &repro_error);
  }
  print_failure(report, path, repro_error, std::cout);
  if (!output_error.empty()) std::cerr << "segsim: " << one_line(output_error) << "\n";
  return kExitFailure;
}

RunReport run_or_die(const RunSpec& spec, const RunOptions& options) {
  std::string error;
  auto report = run_scenario(spec, options, &error);
  if (!report.ok()) bad_input(error);
  return std::move(report.value());
}

RunOptions options_for(const Outputs& outputs) {
  RunOptions options;
  options.keep_full_trace = !outputs.trace_out.empty();
  options.sample_memory = !outputs.plot.empty();
  return options;
}

}  // namespace

void bad_input(const std::string& line) {
  std::cerr << "segsim: " << one_line(line) << "\n";
  std::exit(kExitBadInput);
}

void check_outputs(const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    if (path.empty()) continue;
    std::string error;
    if (!check_output_path(path, &error).ok()) bad_input(error);
  }
}

int command_run(const RunSpec& spec, const Outputs& outputs, bool check_determinism) {
  check_outputs({outputs.trace_out, outputs.plot, outputs.report});
  const RunOptions options = options_for(outputs);
  RunReport first = run_or_die(spec, options);
  if (check_determinism) {
    const RunReport second = run_or_die(spec, options);
    if (second.trace_hash != first.trace_hash || second.failure.has_value() != first.failure.has_value()) {
      std::cout << fmt::format("determinism: NOT deterministic — trace hash {:#018x} then {:#018x}\n",
                               first.trace_hash, second.trace_hash);
      return kExitFailure;
    }
    std::cout << fmt::format("determinism: two runs, same trace hash {:#018x}\n", first.trace_hash);
  }
  return finish_run(std::move(first), outputs);
}

int command_replay(const std::string& repro_path, const Outputs& outputs) {
  check_outputs({outputs.trace_out, outputs.plot});
  std::string error;
  auto repro = read_repro(repro_path, &error);
  if (!repro.ok()) bad_input(error);
  RunReport report = run_or_die(repro->spec, options_for(outputs));
  // After the run: a repro the run refuses is one line (exit 2), not two.
  const bool same_build = repro->build_id == build_id();
  if (!same_build) {
    std::cerr << fmt::format("segsim: warning: repro was recorded by build {}, this is {}\n",
                             quoted_text(repro->build_id, 120), quoted_text(build_id(), 120));
  }
  report.spec.strategy = repro->spec.strategy;
  const std::uint64_t trace_hash = report.trace_hash;
  const std::optional<Failure> failure = report.failure;
  const int code = finish_run(std::move(report), outputs, repro_path + ".replayed.json");
  // A repro written by a sweep's parent for a crash or hang has no hash.
  const bool hash_recorded = repro->expected_trace_hash != 0;
  const bool same_hash = !hash_recorded || trace_hash == repro->expected_trace_hash;
  const bool same_failure = failure.has_value() == repro->failure.has_value() &&
                            (!failure || failure->signature() == repro->failure->signature());
  if (same_hash && same_failure) {
    std::cout << "replay: reproduced exactly (same " << (failure ? "failure" : "result")
              << (hash_recorded ? " and trace hash" : "") << ")\n";
    return code;
  }
  if (!same_hash) {
    std::cout << fmt::format("replay: trace hash differs: recorded {:#018x}, now {:#018x}\n",
                             repro->expected_trace_hash, trace_hash);
  }
  if (!same_failure) {
    std::cout << fmt::format("replay: outcome differs: recorded '{}', now '{}'\n",
                             repro->failure ? repro->failure->signature() : "passed",
                             failure ? failure->signature() : "passed");
  }
  // Not reproduced: never exit 0 for a recorded failure that did not recur.
  // A hash that moved under another build is expected; under this one it is not.
  if (!same_failure || same_build) {
    std::cout << "replay: NOT reproduced\n";
    return kExitFailure;
  }
  return code;
}

int command_shrink(const std::string& in, const std::string& out, const ShrinkLimits& limits) {
  check_outputs({out});
  std::string error;
  auto repro = read_repro(in, &error);
  if (!repro.ok()) bad_input(error);
  auto result = shrink(repro.value(), limits, std::cout, &error);
  if (!result.ok()) bad_input(error);
  if (!write_repro(result->minimal, out, &error).ok()) {
    std::cerr << "segsim: " << one_line(error) << "\n";
    return kExitFailure;  // the failure still stands; only the smaller repro is missing
  }
  std::cout << fmt::format(
      "shrink: {} runs; decisions {} -> {}, threads {} -> {}, size {} -> {}, fault rules {} -> {}\n"
      "minimal repro: {} (reproduce: segsim replay {})\n",
      result->runs, result->decisions_before, result->decisions_after, result->threads_before, result->threads_after,
      result->size_before, result->size_after, result->fault_rules_before, result->fault_rules_after, out, out);
  return kExitFailure;  // the minimal repro still fails
}

}  // namespace segsim::scenarios::cli
