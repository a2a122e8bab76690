// The option groups more than one subcommand declares, declared once here.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "scenarios/run.h"
#include "scenarios/values.h"

namespace segsim::scenarios::cli {

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
                         const std::string& help);

// The knobs of one run, shared by run and sweep.
void add_run_knobs(CLI::App* app, RunSpec& spec);

// What a run writes besides its summary (run and replay; replay has no --report).
struct RunOutputs {
  std::string trace_out, plot, report;
};
void add_run_outputs(CLI::App* app, RunOutputs& outputs, bool with_report);

// Where results go and which probes must fire (sweep and merge).
struct ResultsOutputs {
  std::string json_out, junit_out;
  std::string require_probes;  // a probe list file, or ""
};
void add_results_outputs(CLI::App* app, ResultsOutputs& outputs, const std::string& json_help);

// --bug and hunt need a mutants build: one line and exit 2 otherwise.
void require_mutants_for(const std::string& bug);

}  // namespace segsim::scenarios::cli
