// fuzz_scenario: coverage-guided interleavings. The input is a whole run
// (scenarios/fuzz_input.h): which scenario, its seed (the per-seed operation
// mix), its client count and fault plan, and then the schedule itself — the
// bytes strategy fuzz draws its decisions from (sim/fuzz_strategy.cpp).
// libFuzzer's coverage of core/ thus steers schedules and faults toward new
// behaviour. Every oracle is on; a failing run prints its report and aborts,
// so libFuzzer keeps the input as a crash.
//
//   SEGSIM_MUTANT=<bug>          run every input with that catalogued bug on
//                                (a fuzz build configured with SEGSIM_MUTANTS=ON)
//   SEGSIM_FUZZ_REPRO_OUT=FILE   a failing run also writes its repro there
//   SEGSIM_FUZZ_TEST_HOOK=NAME   the run's test-only sabotage (corrupt-segment:
//                                chicago fails), for testing the crash path
//
// Mutations are structure-aware (scenarios/fuzz_input_mutation.h): one field
// at a time — a new seed, the schedule bytes alone, one fault choice — so a
// mutation of an input that nearly fails keeps the rest of what it was.
//
// A crash artifact becomes a repro with `segsim fuzz-artifact CRASH -o R.json
// [--bug NAME] [--test-hook NAME]` in a non-fuzz build (a sanitizer report ends the run here
// before an oracle does); `segsim replay R.json` then runs it.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>

#include "core/mutants.h"
#include "scenarios/failure_text.h"
#include "scenarios/fuzz_input.h"
#include "scenarios/fuzz_input_mutation.h"
#include "scenarios/repro.h"

namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

void write_repro_of(const segsim::scenarios::RunReport& report, const std::string& path) {
  std::string error;
  if (!segsim::scenarios::write_repro(segsim::scenarios::repro_from_report(report), path, &error).ok()) {
    std::cerr << "fuzz_scenario: repro NOT written: " << error << "\n";
    return;
  }
  std::cerr << "fuzz_scenario: repro written; replay it: segsim replay " << path << "\n";
}

}  // namespace

extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                               unsigned int seed) {
  const std::string mutated = segsim::scenarios::mutate_fuzz_input(
      std::string(reinterpret_cast<const char*>(data), size), max_size, seed, LLVMFuzzerMutate);
  std::memcpy(data, mutated.data(), mutated.size());
  return mutated.size();
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace segsim::scenarios;
  RunSpec spec = fuzz_run_spec(std::string_view(reinterpret_cast<const char*>(data), size));
  // The run switches the bug on and off itself, so the report and a repro
  // name it (SEGSIM_MUTANT alone would leave them saying "no bug").
  static const std::string bug = segsim::mutants::kBuilt ? env("SEGSIM_MUTANT") : std::string();
  spec.bug = bug;
  static const std::string test_hook = env("SEGSIM_FUZZ_TEST_HOOK");
  spec.test_hook = test_hook;
  std::string error;
  auto report = run_scenario(spec, RunOptions{}, &error);
  if (!report.ok()) {
    // The harness could not set itself up: not a finding about the stack.
    std::cerr << "fuzz_scenario: " << error << "\n";
    std::exit(2);
  }
  if (report->passed) return 0;
  print_failure_details(report.value(), std::cerr);
  if (const std::string path = env("SEGSIM_FUZZ_REPRO_OUT"); !path.empty()) write_repro_of(report.value(), path);
  std::abort();
}
