// The shared option groups (options.h).
#include "scenarios/cli/options.h"

#include "core/mutants.h"
#include "scenarios/cli/commands.h"

namespace segsim::scenarios::cli {

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

void add_run_knobs(CLI::App* app, RunSpec& spec) {
  app->add_option_function<std::string>(
         "--strategy", [&spec](const std::string& name) { spec.strategy = *sim::parse_strategy(name); },
         "random | pct | pos | rr")
      ->check(CLI::IsMember({"random", "pct", "pos", "rr"}));
  add_whole(app, "--pct-depth", spec.pct_depth, kMinPctDepth, kMaxPctDepth, "PCT depth");
  add_whole(app, "--pct-steps", spec.pct_steps, 1, UINT64_MAX, "PCT's k in decisions (default: calibrated)");
  app->add_option("--faults", spec.faults, "none | swarm | SPEC");
  add_whole(app, "--steps", spec.max_steps, 1, UINT64_MAX, "step limit (livelock; default: from threads x size)");
  add_whole(app, "--threads", spec.threads, 1, kMaxThreads, "client fibers (default: the scenario's)");
  add_whole(app, "--size", spec.size, 1, kMaxSize, "size knob (default: the scenario's)");
  app->add_option("--bug", spec.bug, "switch a catalogued bug on (mutants builds; segsim list)");
}

void add_run_outputs(CLI::App* app, RunOutputs& outputs, bool with_report) {
  app->add_option("--trace-out", outputs.trace_out, "Chrome trace-event JSON (Perfetto)");
  app->add_option("--plot", outputs.plot, "SVG of virtual and resident bytes over simulated time");
  if (with_report) app->add_option("--report", outputs.report, "summary as JSON");
}

void add_results_outputs(CLI::App* app, ResultsOutputs& outputs, const std::string& json_help) {
  app->add_option("--json", outputs.json_out, json_help);
  app->add_option("--junit", outputs.junit_out, "results as JUnit XML");
  app->add_option("--require-probes", outputs.require_probes,
                  "probe list (one name per line, # comments): exit 1 when one never fired");
}

void require_mutants_for(const std::string& bug) {
  if (!bug.empty() && !segsim::mutants::kBuilt) {
    bad_input("this build has no mutants: --bug and hunt need the mutants preset "
              "(cmake --preset mutants && cmake --build --preset mutants)");
  }
}

}  // namespace segsim::scenarios::cli
