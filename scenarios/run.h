// Running one scenario: the unit of everything the segsim CLI does.
//
// A run is identified by (scenario, seed, strategy, fault spec, knobs, build
// id); run_scenario() builds the stack on a SimOs (wrapped in a FaultyOs for
// the run's fault plan), runs the scenario's fibers under a Simulation, checks
// the oracles as it goes and at quiescence, and reports. The same RunSpec
// gives the same RunReport (trace hash included) in every process.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "sim/trace.h"

namespace segsim::scenarios {

struct RunSpec {
  std::string scenario;
  std::uint64_t seed = 1;
  std::string strategy = "random";     // random | pct | rr | replay
  int pct_depth = 3;
  std::string faults = "none";         // a fault spec (docs/faults.md) or "swarm"
  std::uint64_t max_steps = 2'000'000; // livelock bound
  std::uint32_t threads = 0;           // client fibers; 0 = the scenario's default
  std::uint32_t size = 0;              // the scenario's size knob; 0 = its default
  std::vector<std::uint32_t> decisions;  // for strategy "replay" (and shrink)
  // Replay leniently: past the recorded decisions, or where a recorded fiber
  // is not runnable, run the lowest-numbered runnable fiber instead of
  // failing — what shrinking a decision list needs.
  bool lenient_replay = false;
  std::string test_hook;               // test-only sabotage, e.g. "corrupt-segment"; "" = none
  std::string bug;                     // a catalogued bug switched on (mutants builds only); "" = none
};

struct SegmentEvent {
  std::string what;  // "allocated" | "released" | ...
  std::uint32_t fiber = sim::kNoFiber;
  std::uint64_t step = 0;
};

struct Failure {
  std::string oracle;   // which invariant: double-free, use-after-release, overlap, accounting,
                        // leak, bounded-growth, zero-on-allocate, content, liveness, assertion
  std::string message;  // one line
  std::uint32_t fiber = sim::kNoFiber;
  std::uint64_t step = 0;
  std::string segment;  // the segment involved ("SimOs offset 0x…, class 64 KiB"), if any
  std::vector<SegmentEvent> segment_history;
  // What must match when the failure is replayed: oracle and message.
  std::string signature() const { return oracle + ": " + message; }
};

struct MemorySample {
  std::int64_t time_ns = 0;
  std::uint64_t virtual_bytes = 0;
  std::uint64_t resident_bytes = 0;
};

// One tick of the pressure loop (scenario pressure), for --plot.
struct PressurePoint {
  std::int64_t time_ns = 0;
  std::uint64_t used_bytes = 0;
  std::uint64_t limit_bytes = 0;
  double forecast_60s_ratio = 0;  // the forecast made at this tick for +60 s
  double confidence = 0;
  std::string action;             // the action taken ("none", "gentle-eviction", ...)
};

struct RunReport {
  RunSpec spec;
  std::string concrete_faults;  // the plan actually used ("swarm" described as rules)
  bool passed = true;
  std::optional<Failure> failure;
  std::uint64_t steps = 0;
  std::int64_t virtual_time_ns = 0;
  std::uint64_t trace_hash = 0;
  std::uint32_t fibers = 0;
  std::uint64_t peak_virtual_bytes = 0;
  std::uint64_t peak_resident_bytes = 0;
  std::uint64_t faults_injected = 0;
  std::vector<std::uint32_t> decisions;     // every scheduling decision (replay / shrink)
  std::vector<sim::TraceEvent> last_events; // for reports
  std::vector<sim::TraceEvent> full_trace;  // when RunOptions::keep_full_trace
  std::vector<MemorySample> memory;         // when RunOptions::sample_memory
  std::vector<PressurePoint> pressure;      // the pressure loop's ticks (scenario pressure)
  double wall_seconds = 0;
};

struct RunOptions {
  bool keep_full_trace = false;
  bool sample_memory = false;  // a sample of SimOs virtual/resident bytes every ~1000 steps
};

struct ScenarioInfo {
  std::string name;
  std::string description;
  std::uint32_t default_threads;
  std::uint32_t default_size;
};

// Every scenario, in listing order.
const std::vector<ScenarioInfo>& scenario_catalogue();
const ScenarioInfo* find_scenario(const std::string& name);

// Validates the spec (unknown scenario / strategy / bad fault spec / replay
// without decisions → InvalidConfig, with `error_line` set to one line) and runs it.
Result<RunReport> run_scenario(const RunSpec& spec, const RunOptions& options = {},
                               std::string* error_line = nullptr);

// This build's identity (compiler, flags, git revision when known): part of a run's identity.
std::string build_id();

}  // namespace segsim::scenarios
