// What a scenario's fibers work on: the real stack over a (faulty) SimOs,
// the oracles, and the shared shadow model. Internal to scenarios/.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/leaf_page_pool.h"
#include "core/page_cache.h"
#include "core/segment_allocator.h"
#include "faults/fault_injector.h"
#include "faults/fault_plan.h"
#include "faults/faulty_os.h"
#include "faults/sim_os.h"
#include "scenarios/oracles/oracles.h"
#include "scenarios/fuzz_artifact.h"
#include "scenarios/recording.h"
#include "scenarios/run.h"
#include "sim/simulation.h"

namespace segsim::scenarios {

struct Stack {
  faults::SimOs& sim_os;
  Os& os;  // the FaultyOs over sim_os: what the stack uses
  Os& allocator_os;  // what `allocator` was created on: a ledger over `os` (os-accounting)
  SegmentAllocator& allocator;
  LeafPagePool& pool;
  PageCache& cache;
  Oracles& oracles;
  sim::Simulation& simulation;
  std::uint32_t threads;
  std::uint32_t size;
  std::string test_hook;
  bool faults_active;  // a fault plan may make allocations fail
  sim::StrategyKind strategy;       // the run's scheduling strategy (as recorded, for replays)
  const faults::FaultPlan* plan;    // the run's concrete fault plan
  const faults::FaultInjector* injector = nullptr;  // the plan in action: which fault points were asked
  std::uint64_t next_page_id = 1;
  // Published pages' contents: page id → slot → what it must read.
  std::map<std::uint64_t, std::map<std::size_t, SlotShadow>> shadow{};
  std::map<std::uint64_t, std::map<std::size_t, SlotShadow>> dewey_shadow{};
  // Calls in flight, so that oracles can judge a refusal (oracles/allocation.cpp).
  std::uint32_t allocations_in_flight = 0;
  std::uint64_t allocations_started = 0;
  std::uint64_t region_ops_started = 0;  // free_unused_regions / release_unused_regions
  std::uint32_t region_ops_in_flight = 0;
  std::uint64_t seed = 0;
  // Workload state a scenario's fibers share (named counters), and the
  // page-file scenario's invalid files: the rule each must be refused by.
  std::map<std::string, std::uint64_t> counters{};
  std::vector<std::string> page_file_rules{};
  // ---- issue 15 (seed 004 part 2): objects a scenario keeps for the run ----
  std::vector<std::shared_ptr<void>> held{};  // destroyed with the stack, after the quiescent checks
  std::vector<PressurePoint> pressure{};      // the pressure loop's ticks, for --plot
  // ---- issue 14 (slab-churn, txn-arenas): what a scenario keeps for the run ----
  // Made by its prepare, checked and dropped by its finish (before the stack's
  // quiescent checks); type-erased so scenarios add no fields here.
  std::shared_ptr<void> scenario_state{};
  // Scenario "recorded": the run's recording (RunSpec::recording); null otherwise.
  const Recording* recording = nullptr;
  // Scenario "fuzz-alloc-ops": the run's artifact (RunSpec::fuzz_artifact); null otherwise.
  const FuzzArtifact* fuzz_artifact = nullptr;
};

struct ScenarioDef {
  ScenarioInfo info;
  // Adjusts the stack's configuration for this scenario and its knobs.
  std::function<void(SegmentAllocatorConfig&, PageCacheConfig&, std::uint32_t threads, std::uint32_t size)>
      configure;
  // Optional: per-seed choices of configuration (swarm over configurations),
  // applied after configure; draw from sim::Rng(sim::derive_seed(seed, ...)).
  std::function<void(SegmentAllocatorConfig&, PageCacheConfig&, std::uint64_t seed)> configure_seeded;
  // Runs before the clients start (on a fiber): files, oracle expectations.
  std::function<void(Stack&)> prepare;
  // The body of client fiber `index` (0-based).
  std::function<void(Stack&, std::uint32_t index)> client;
  // Runs on the conductor once every client has finished, before the cache
  // and pool give everything back: the scenario's own quiescent checks. Optional.
  std::function<void(Stack&)> finish;
  // Optional: configuration the spec itself carries (the recorded scenario's
  // crash report holds its region size, budget and cache bounds), applied last.
  std::function<void(SegmentAllocatorConfig&, PageCacheConfig&, const RunSpec&)> configure_from_spec;
  // What the spec must carry besides a seed (made by segsim reproduce).
  // Scenarios that need one are not listed: scenario_catalogue() holds the
  // scenarios a seed alone runs.
  enum class Needs { Seed, Recording, FuzzArtifact };
  Needs needs = Needs::Seed;
};

const std::vector<ScenarioDef>& scenario_defs();

// Scenario definitions, one file each in scenarios/workloads/.
ScenarioDef chicago_scenario();
ScenarioDef leak_soak_scenario();
ScenarioDef budget_scenario();
ScenarioDef resize_storm_scenario();
ScenarioDef evict_race_scenario();
ScenarioDef page_file_scenario();
ScenarioDef alloc_api_scenario();
ScenarioDef page_api_scenario();
ScenarioDef large_objects_scenario();  // issue 15
ScenarioDef pressure_scenario();       // issue 15
ScenarioDef slab_churn_scenario();
ScenarioDef txn_arenas_scenario();
ScenarioDef recorded_scenario();       // issue 13: a crash report's operations
ScenarioDef fuzz_alloc_ops_scenario(); // issue 13: a fuzz_alloc_ops artifact's operations
ScenarioDef tcache_churn_scenario();    // issue 17

}  // namespace segsim::scenarios
