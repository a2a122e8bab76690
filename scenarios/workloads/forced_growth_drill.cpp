// The forced growth drill: see forced_growth_drill.h.
#include "scenarios/workloads/forced_growth_drill.h"

#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/fault_point.h"
#include "core/fault_point_controllers.h"
#include "core/size_class.h"
#include "scenarios/workloads/episode_instance.h"
#include "scenarios/workloads/swarm.h"

namespace segsim::scenarios {

namespace {

constexpr std::size_t kRegionBytes = std::size_t{256} << 10;
constexpr int kFullBudgetCalls = 2;  // forced calls made with the budget full
constexpr char kDrill[] = "forced growth drill";

std::uint64_t growths(const AllocatorStats& stats) { return stats.regions_mapped + stats.regions_reused; }

}  // namespace

void run_forced_growth_drill(Stack& stack, sim::Rng& rng) {
  fault_points::ControllerScope quiet(nullptr);  // only the drill's own controller fires
  const std::size_t budget_regions = 2 + rng.below(4);
  SegmentAllocatorConfig config = clocked_drill_config(rng, kRegionBytes, budget_regions * kRegionBytes);
  config.thread_caches_max_bytes = draw_one<std::size_t>(rng, {256 * 1024, 1024 * 1024, 8 * 1024 * 1024});
  ClockedInstance instance(stack, rng, 2 * config.budget_bytes, config, kDrill);
  SegmentAllocator& allocator = *instance.allocator;
  const EpisodeCalls calls{stack, allocator, kDrill};

  // Not the largest class: a region of it holds one slice, so it never has free slices to ignore.
  const std::size_t c = rng.below(kSizeClassCount - 1);
  const std::size_t bytes = class_bytes(c);
  std::vector<Segment> held;
  held.push_back(calls.allocate(bytes, "the class's first slice"));
  int full_budget_calls = 0;
  const std::size_t most_calls = budget_regions + kFullBudgetCalls;
  for (std::size_t call = 0; call < most_calls && full_budget_calls < kFullBudgetCalls; ++call) {
    const AllocatorStats before = allocator.stats();
    const bool room = before.virtual_bytes + kRegionBytes <= config.budget_bytes;
    fault_points::FireSites forced(fault_points::FireSites::Times::FirstAskOnly,
                                   {fault_points::id_of("alloc.tcache.bypass"), fault_points::id_of("alloc.pool.slow_path")});
    Result<Segment> got = Segment();
    {
      fault_points::ControllerScope scope(&forced);
      got = allocator.allocate(bytes);
    }
    if (!forced.all_fired()) {
      stack.oracles.fail("exception", fmt::format("{}: forced call {} did not reach the pool's slow path", kDrill,
                                                  call));
    }
    const AllocatorStats after = allocator.stats();
    const std::string context =
        fmt::format("{}: forced slow path {} of class {} ({} B), {} region(s) of {} mapped before, free slices "
                    "{}", kDrill, call, c, bytes, before.virtual_bytes / kRegionBytes, budget_regions,
                    before.classes[c].free_slices);
    if (!got.ok()) {
      stack.oracles.fail("allocation", fmt::format("{}: refused ({}); the class had free slices, and a forced slow "
                                                   "path that cannot grow still serves from the pool",
                                                   context, got.error().describe()));
    }
    held.push_back(got.value());
    const std::uint64_t grown = growths(after) - growths(before);
    if (room && grown != 1) {
      stack.oracles.fail("allocation", fmt::format("{}: the budget had room for a region, yet the class grew by {} "
                                                   "region(s) (mapped {} -> {}, reused {} -> {}); a forced slow "
                                                   "path grows the class though it has free slices",
                                                   context, grown, before.regions_mapped, after.regions_mapped,
                                                   before.regions_reused, after.regions_reused));
    }
    if (!room) ++full_budget_calls;
  }
  if (full_budget_calls < kFullBudgetCalls) {
    stack.oracles.fail("exception", fmt::format("{}: {} forced call(s) left the budget of {} region(s) unfilled",
                                                kDrill, most_calls, budget_regions));
  }
  for (const Segment& segment : held) calls.release(segment, "a release");
  allocator.flush_thread_cache();
  (void)allocator.free_unused_regions(0);
  if (const std::vector<std::string> audit = allocator.audit(); !audit.empty()) {
    stack.oracles.fail("accounting", fmt::format("{}: the allocator audits: {}", kDrill, audit.front()));
  }
}

}  // namespace segsim::scenarios
