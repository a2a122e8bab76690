// budget — a tight budget: allocations fail cleanly with OutOfBudget,
// freeing fully-returned regions under the budget works, nothing is lost.
#include <fmt/format.h>

#include "scenarios/workloads/page_work.h"
#include "scenarios/workloads/stack_ops.h"

namespace segsim::scenarios {

ScenarioDef budget_scenario() {
  ScenarioDef def;
  def.info = {"budget", "a tight budget: clean OutOfBudget refusals, freeing under budget, nothing lost", 3, 1};
  def.configure = [](SegmentAllocatorConfig& allocator, PageCacheConfig&, std::uint32_t, std::uint32_t) {
    allocator.region_bytes = 256 * 1024;
    allocator.budget_bytes = 2 * 1024 * 1024;  // 8 regions for every client together
    // Never reached at this budget; off, so that every refusal can be judged.
    allocator.proactive_cleanup = false;
  };
  def.client = [](Stack& stack, std::uint32_t index) {
    sim::Rng rng = stack.simulation.stream(fmt::format("workload.budget.{}", index));
    StackOps ops(stack, "budget", index);
    std::uint64_t refusals = 0;
    for (std::uint32_t round = 0; round < 8 * stack.size; ++round) {
      std::vector<Segment> held;
      for (int i = 0; i < 12; ++i) {
        auto segment = checked_allocate(stack, 1 + rng.below(class_bytes(rng.below(kSizeClassCount))));
        if (!segment.ok()) {
          if (!tolerated(stack, segment.error(), /*budget_tight=*/true)) {
            stack.oracles.fail("exception", "allocate: unexpected " + segment.error().describe());
          }
          ++refusals;
          continue;
        }
        held.push_back(segment.value());
        ops.between(held);
        stack.oracles.check_cheap();
      }
      // Return half, make room for other classes, then the rest.
      for (std::size_t i = 0; i < held.size(); i += 2) {
        if (!stack.allocator.release(held[i]).ok()) stack.oracles.fail("double-free", "release refused", held[i].data());
      }
      tracked_free_unused_regions(stack, stack.allocator.config().budget_bytes / 2);
      for (std::size_t i = 1; i < held.size(); i += 2) {
        if (!stack.allocator.release(held[i]).ok()) stack.oracles.fail("double-free", "release refused", held[i].data());
      }
      stack.oracles.check_cheap();
    }
    (void)refusals;
  };
  return def;
}

}  // namespace segsim::scenarios
