// alloc-api — every public operation of SegmentAllocator, drawn per seed from
// a swarm of operation kinds, each call checked against the harness's model:
// allocations (boundary sizes, 0 and > 256 KiB included) by the allocation
// oracle, contents written and read back, releases and resets of live
// handles, deliberate releases / resets / lookups of stale, foreign, null
// and interior handles (each refusal must carry its exact code), explicit
// freeing and releasing of unused regions, stats against the model. The
// allocator's configuration (region size, budget, cleanup thresholds, reset
// policy) is drawn per seed too, and whether the flight recorder is on
// (recorder_ops.h: its reports of refused calls and its final report checked);
// each component's config validation is tried once (invalid_configs.h).
// Here the scenario's configuration, prepare and finish; its clients' calls
// are alloc_api_client.cpp's.
#include <fmt/format.h>

#include "scenarios/workloads/alloc_api_client.h"
#include "scenarios/workloads/audit_episode.h"
#include "scenarios/workloads/episode_instance.h"
#include "scenarios/workloads/invalid_configs.h"
#include "scenarios/workloads/lookup_race_drill.h"
#include "scenarios/workloads/native_thread.h"
#include "scenarios/workloads/platform_ops.h"
#include "scenarios/workloads/recorder_cache_ops.h"
#include "scenarios/workloads/recorder_crash_paths.h"
#include "scenarios/workloads/recorder_layer_ops.h"
#include "scenarios/workloads/recorder_ops.h"
#include "scenarios/workloads/recorder_regions.h"
#include "scenarios/workloads/region_table_drill.h"
#include "scenarios/workloads/swarm.h"

namespace segsim::scenarios {

ScenarioDef alloc_api_scenario() {
  ScenarioDef def;
  def.info = {"alloc-api",
              "every SegmentAllocator operation from a per-seed swarm (boundary sizes, stale / foreign / null / "
              "interior handles, region freeing), each call checked against the harness's model",
              3, 1};
  def.info.native_threads = true;  // the seeds with the flight recorder on (finish)
  def.configure = [](SegmentAllocatorConfig&, PageCacheConfig&, std::uint32_t, std::uint32_t) {};
  def.configure_seeded = [](SegmentAllocatorConfig& allocator, PageCacheConfig&, std::uint64_t seed) {
    sim::Rng rng(sim::derive_seed(seed, "config.alloc-api"));
    allocator.region_bytes = draw_one<std::size_t>(rng, {256 * 1024, 512 * 1024, 1024 * 1024});
    const bool tight = rng.chance(0.5);
    allocator.budget_bytes = allocator.region_bytes * (tight ? 4 + rng.below(9) : 64);
    allocator.proactive_cleanup = rng.chance(0.5);
    allocator.cleanup_start_free_slices = draw_one<std::size_t>(rng, {0, 8, 64, 512});
    allocator.cleanup_every_free_slices = draw_one<std::size_t>(rng, {1, 4, 32});
    allocator.cleanup_queue_capacity = draw_one<std::size_t>(rng, {1, 16});
    allocator.reset_madvise_min_bytes = draw_one<std::size_t>(rng, {SIZE_MAX, 4096, 64 * 1024});
  };
  def.prepare = [](Stack& stack) {
    auto state = std::make_shared<alloc_api::AllocApiState>();
    state->platform = make_platform_ops();
    sim::Rng recorder_rng(sim::derive_seed(stack.seed, "recorder.alloc-api"));
    state->recorder = start_recorder(stack, recorder_rng);
    check_invalid_configs(stack);
    stack.scenario_state = std::move(state);
  };
  def.finish = [](Stack& stack) {
    // Also per call (StackOps::allocator_stats); here once more after the
    // last cleanup ran.
    const AllocatorStats stats = stack.allocator.stats();
    if (stats.cleanups_finished() > stats.cleanups_started()) {
      stack.oracles.fail("accounting", fmt::format("at quiescence stats() reports {} cleanups finished of {} started",
                                                   stats.cleanups_finished(), stats.cleanups_started()));
    }
    alloc_api::AllocApiState& state = alloc_api::state_of(stack);
    platform_finish(stack, *state.platform);
    // An eighth of the seeds (~6 ms each), from its own stream (the other draws stay):
    // every audit's violation reports, each checked ("audit-detects"). With
    // the recorder on, its layers' operations and configs reach the final
    // report.
    sim::Rng audit_rng(sim::derive_seed(stack.seed, "audit-episode.alloc-api"));
    const bool audit_episode = audit_rng.below(8) == 0;
    if (audit_episode && state.recorder == nullptr) run_audit_episode(stack, audit_rng);
    if (state.recorder == nullptr) {  // a private allocator the recorder's address checks do not list
      sim::Rng race_rng(sim::derive_seed(stack.seed, "lookup-race.alloc-api"));
      run_lookup_race_drill(stack, race_rng);
    }
    // Keys of the recorder's region table made to collide (~1 ms), every seed.
    sim::Rng table_rng(sim::derive_seed(stack.seed, "region-table.alloc-api"));
    run_region_table_drill(stack, table_rng);
    if (state.recorder != nullptr) {
      // A production thread's operations while the recorder is on: its
      // native mutexes carry the recorder's clock (sync_clock), and the final
      // report keeps that thread's ring too.
      sim::Rng native_rng(sim::derive_seed(stack.seed, "native-thread.alloc-api"));
      run_native_thread_episode(stack, native_rng, false);
      // Every operation of the slab, arena and large-object layers, with each
      // result, recorded on purpose and checked in a report of its own
      // ("recorder-events"); before the crash paths, whose rings the final
      // report must keep.
      sim::Rng layers_rng(sim::derive_seed(stack.seed, "recorder-layers.alloc-api"));
      recorder_layer_ops(stack, *state.recorder, layers_rng);
      // The page cache's recorded operations, its bounds in the report and its
      // give-back listener, each checked ("cache", "pool", "flight-recorder").
      recorder_cache_ops(stack, *state.recorder);
      // The recorder's region table: addresses of events of unmapped,
      // remapped regions and destroyed allocators ("recorder-addresses").
      sim::Rng regions_rng(sim::derive_seed(stack.seed, "recorder-regions.alloc-api"));
      recorder_region_ops(stack, *state.recorder, regions_rng);
      // The recorder's crash paths where it reports no refusals: a fatal
      // signal on each such seed (the fault address's slice lookup has three
      // edges to cover), a removed directory, more threads than rings and the
      // rest on half of them.
      sim::Rng crash_rng(sim::derive_seed(stack.seed, "recorder-crash.alloc-api"));
      const bool all_crash_paths = crash_rng.below(2) == 0;
      recorder_crash_paths(stack, *state.recorder, crash_rng, all_crash_paths);
      if (audit_episode) run_audit_episode(stack, audit_rng);
      recorder_page_ops(stack, *state.recorder);
      const auto& config = stack.allocator.config();
      finish_recorder(stack, *state.recorder, {{config.region_bytes, config.budget_bytes},
                                               {alloc_api::kForeignRegionBytes, alloc_api::kForeignBudgetBytes},
                                               {kNativeThreadRegionBytes, kNativeThreadBudgetBytes},
                                               {kRecorderLayersRegionBytes, kRecorderLayersBudgetBytes},
                                               {kRecorderRegionsRegionBytes, kRecorderRegionsBudgetBytes},
                                               {kAuditRegionBytes[0], kAuditBudgetBytes},
                                               {kAuditRegionBytes[1], kAuditBudgetBytes},
                                               {kDrillRegionBytes, kDrillBudgetBytes}});  // the report-cap drill's
    }
    stack.scenario_state.reset();
  };
  def.client = [](Stack& stack, std::uint32_t index) { alloc_api::run_client(stack, index); };
  return def;
}

}  // namespace segsim::scenarios
