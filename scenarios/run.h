// Running one scenario: the unit of everything the segsim CLI does.
//
// A run is identified by (scenario, seed, strategy, fault spec, knobs, build
// id); run_scenario() builds the stack on a SimOs (wrapped in a FaultyOs for
// the run's fault plan), runs the scenario's fibers under a Simulation, checks
// the oracles as it goes and at quiescence, and reports. The same RunSpec
// gives the same RunReport (trace hash included) in every process.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "sim/decision_log.h"
#include "sim/strategy_kind.h"
#include "sim/trace.h"

namespace segsim::scenarios {

struct Recording;     // scenarios/recording.h
struct FuzzArtifact;  // scenarios/fuzz_artifact.h

// What a run may ask for (the CLI, repro files and run_scenario check these).
inline constexpr std::uint32_t kMaxThreads = 64;
inline constexpr std::uint32_t kMaxSize = 1000;
inline constexpr int kMinPctDepth = 1;
inline constexpr int kMaxPctDepth = 16;
// Test hook: seeds that are multiples of 4 die of SIGSEGV mid-run (sweep worker tests).
inline constexpr const char* kCrashHook = "crash-every-4th-seed";
// Test hook: every seed writes to SimOs memory it unmapped; the SIGSEGV is
// named use-after-release (faults/sim_os_guard.cpp, sim/fatal_failure.h).
inline constexpr const char* kUseAfterUnmapHook = "use-after-unmap";
// Test hooks: an assertion fails where the simulator cannot throw it to fail
// the run — in a noexcept destructor on a fiber, in the run's teardown after
// the simulation — so the process aborts; a sweep still names the seed's
// failure "assertion" (sim/fatal_failure.h).
inline constexpr const char* kAssertInDestructorHook = "assert-in-noexcept-destructor";
inline constexpr const char* kAssertInTeardownHook = "assert-in-teardown";
// Test hook: the run takes one more step when malloc hands back the block
// freed last — a decision that depends on the heap's state, not on the seed
// (the class of bug `segsim run --check-determinism` and the campaign's
// pass 4 look for). glibc's default malloc does not hand it back here; with
// tcache bins of 100 chunks (their other heap) it does.
inline constexpr const char* kHeapReuseHook = "heap-reuse-decides";

struct RunSpec {
  std::string scenario;
  std::uint64_t seed = 1;
  sim::StrategyKind strategy = sim::StrategyKind::Random;  // Replay needs decisions
  int pct_depth = 3;
  // PCT's k, the run length its change points are drawn from, in decisions;
  // 0 = calibrate (pct_steps_for). A report carries the k its run used.
  std::uint64_t pct_steps = 0;
  std::string faults = "none";         // a fault spec (docs/faults.md) or "swarm"
  std::uint64_t max_steps = 0;         // livelock bound; 0 = derived from the knobs (default_step_limit)
  std::uint32_t threads = 0;           // client fibers; 0 = the scenario's default
  std::uint32_t size = 0;              // the scenario's size knob; 0 = its default
  sim::DecisionLog decisions;          // for strategy "replay" (and shrink)
  // Replay leniently: past the recorded decisions, or where a recorded fiber
  // is not runnable, run the lowest-numbered runnable fiber instead of
  // failing — what shrinking a decision list needs.
  bool lenient_replay = false;
  // For strategy fuzz: the schedule's bytes (sim/strategy.h,
  // make_fuzz_strategy). Not written to repros: their decisions replay the run.
  std::string fuzz_bytes;
  std::string test_hook;               // test-only sabotage: "corrupt-segment", k*Hook above; "" = none
  std::string bug;                     // a catalogued bug switched on (mutants builds only); "" = none
  // Scenario "recorded" only (and required by it): the crash report whose
  // operations are its workload (segsim reproduce makes these).
  std::shared_ptr<const Recording> recording;
  // Scenario "fuzz-alloc-ops" only (and required by it): the libFuzzer
  // artifact whose operations are its workload.
  std::shared_ptr<const FuzzArtifact> fuzz_artifact;
};

struct SegmentEvent {
  std::string what;  // "allocated" | "released" | "reset" | "release refused: double free" | ...
  std::uint32_t fiber = sim::kNoFiber;
  std::uint64_t step = 0;
  std::uint32_t generation = 0;  // the handle's generation (0: not known)
};

struct Failure {
  std::string oracle{};   // which invariant: double-free, use-after-release, overlap, accounting,
                        // leak, bounded-growth, zero-on-allocate, content, liveness, assertion
  std::string message{};  // one line
  std::uint32_t fiber = sim::kNoFiber;
  std::uint64_t step = 0;
  std::string segment{};  // the slice involved, by stable id ("region #3 slice 0, SimOs offset 0x…"), if any
  std::vector<SegmentEvent> segment_history{};
  std::string bug{};  // the catalogued bug that was on when it was found ("" = none)
  // The message with every raw address replaced by a stable name
  // (failure_signature.h); empty when the message names none.
  std::string stable_message{};
  // Trace events around the failing step (mutex noise of other fibers left
  // out, report_events.h) and the slice operations the oracles saw there.
  std::vector<sim::TraceEvent> trace_around{};
  std::vector<SegmentEvent> operations_around{};
  // What must match when the failure is replayed: oracle and the stable
  // message — never an address.
  std::string signature() const { return oracle + ": " + (stable_message.empty() ? message : stable_message); }
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
  sim::DecisionLog decisions;               // every scheduling decision, compact (replay / shrink)
  std::vector<sim::TraceEvent> last_events; // for reports
  std::vector<sim::TraceEvent> full_trace;  // when RunOptions::keep_full_trace
  std::vector<MemorySample> memory;         // when RunOptions::sample_memory
  // How often each probe of core/ fired in this run, indexed like
  // probes::kProbes (core/probe_list.h). Not part of a run's identity.
  std::vector<std::uint64_t> probe_hits;
  // How often each fault point of core/ was asked and fired, indexed like
  // fault_points::kFaultPoints: which points a plan reached. Not part of a
  // run's identity.
  std::vector<std::uint64_t> fault_point_asks;
  std::vector<std::uint64_t> fault_point_fires;
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
  // Some seeds run real threads beside the simulation's single one (the
  // native-thread episode, scenarios/workloads/native_thread.h): the scenario
  // tests under TSan run only these scenarios (the others are fiber switches
  // on one thread, which TSan sees as synchronised). The scenario tests check
  // the flag against the episodes each scenario ran.
  bool native_threads = false;
};

// Every scenario, in listing order.
const std::vector<ScenarioInfo>& scenario_catalogue();
const ScenarioInfo* find_scenario(const std::string& name);

// Validates the spec (unknown scenario / strategy / bad fault spec / replay
// without decisions → InvalidConfig, with `error_line` set to one line) and runs it.
// When the harness cannot set itself up (address space for the simulated OS,
// memory: ulimit -v) the error is OutOfMemory and the line starts "environment:".
Result<RunReport> run_scenario(const RunSpec& spec, const RunOptions& options = {},
                               std::string* error_line = nullptr);

// The step limit of a run with these knobs when none is given: the steps a
// run at the scenario's defaults may take (kBaseStepLimit, with room to
// spare), scaled by how much more work threads x size asks for. A healthy
// run at any knobs the CLI accepts stays under it; a livelock still ends.
inline constexpr std::uint64_t kBaseStepLimit = 4'000'000;
std::uint64_t default_step_limit(const ScenarioInfo& scenario, std::uint32_t threads, std::uint32_t size);

// `spec` with its defaults filled in (threads, size, max_steps) when its
// scenario is known; unchanged otherwise.
RunSpec resolved_spec(const RunSpec& spec);

// PCT's k for `spec`: spec.pct_steps when set, otherwise the decisions made by
// a calibration run — the same scenario, knobs and faults under the random
// strategy at a fixed seed, with no bug and no test hook — cached per
// process. Deterministic: the same spec gives the same k in every process.
std::uint64_t pct_steps_for(const RunSpec& spec);

// This build's identity (compiler, flags, git revision when known): part of a run's identity.
std::string build_id();

}  // namespace segsim::scenarios
