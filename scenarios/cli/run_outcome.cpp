// What run and replay share (run_outcome.h).
#include "scenarios/cli/run_outcome.h"

#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/fault_point.h"
#include "core/probe.h"
#include "scenarios/cli/commands.h"
#include "scenarios/failure_text.h"
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
  out << fmt::format("strategy       {}{}\n", sim::strategy_name(r.spec.strategy),
                     r.spec.strategy == sim::StrategyKind::Pct ? fmt::format(" (depth {}, k {} steps)", r.spec.pct_depth, r.spec.pct_steps) : "");
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
  print_failure_details(r, out);
  if (repro_error.empty()) {
    out << fmt::format("reproduce: segsim replay {}\n", repro_path);
  } else {
    out << fmt::format("repro NOT written: {}\n", repro_error);
  }
}

nlohmann::json report_json(const RunReport& r) {
  nlohmann::json j = {{"scenario", r.spec.scenario}, {"seed", r.spec.seed}, {"strategy", sim::strategy_name(r.spec.strategy)},
                      {"pct_depth", r.spec.pct_depth}, {"pct_steps", r.spec.pct_steps}, {"faults", r.spec.faults}, {"concrete_faults", r.concrete_faults},
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
  nlohmann::json point_counts = nlohmann::json::object();
  for (std::size_t i = 0; i < r.fault_point_asks.size() && i < r.fault_point_fires.size() &&
                          i < fault_points::kFaultPoints.size();
       ++i) {
    point_counts[std::string(fault_points::kFaultPoints[i].name)] = {{"asks", r.fault_point_asks[i]},
                                                                      {"fires", r.fault_point_fires[i]}};
  }
  j["fault_points"] = std::move(point_counts);
  if (r.failure) {
    j["failure"] = failure_json(*r.failure);
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
std::string write_outputs(const RunReport& report, const RunOutputs& outputs) {
  std::string first_error;
  const auto write = [&](const std::string& path, const auto& make_text) {
    if (path.empty()) return;
    std::string error;
    if (!write_text_file(path, make_text(), &error).ok() && first_error.empty()) first_error = error;
  };
  write(outputs.trace_out, [&] { return chrome_trace_json(report); });
  write(outputs.plot, [&] { return memory_plot_svg(report); });
  write(outputs.report, [&] { return report_json(report).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"; });
  return first_error;
}

}  // namespace

int finish_run(RunReport report, const RunOutputs& outputs, const std::string& repro_override, bool write_repro_file) {
  print_summary(report, std::cout);
  const std::string output_error = write_outputs(report, outputs);
  if (report.passed) {
    if (!output_error.empty()) bad_input(output_error);
    return kExitPassed;
  }
  const std::string path = repro_override.empty() ? repro_path_for(report, outputs.report) : repro_override;
  std::string repro_error;
  if (write_repro_file && repro_override.empty() && outputs.report.empty()) {
    (void)prepare_output_folder(kDefaultFailuresDir, &repro_error);
  }
  if (write_repro_file && repro_error.empty()) {
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

RunOptions options_for(const RunOutputs& outputs) {
  RunOptions options;
  options.keep_full_trace = !outputs.trace_out.empty();
  options.sample_memory = !outputs.plot.empty();
  return options;
}

}  // namespace segsim::scenarios::cli
