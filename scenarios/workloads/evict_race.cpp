// evict-race — readers hold cache handles (pins) across scheduling points
// while writers publish into a two-entry cache, so evictions and pool
// returns race every pin.
#include <fmt/format.h>

#include "scenarios/workloads/page_work.h"
#include "scenarios/workloads/stack_ops.h"

namespace segsim::scenarios {

ScenarioDef evict_race_scenario() {
  ScenarioDef def;
  def.info = {"evict-race", "readers hold pinned pages while eviction and pool returns race them", 4, 1};
  def.configure = [](SegmentAllocatorConfig&, PageCacheConfig& cache, std::uint32_t, std::uint32_t) {
    cache.max_entries = 2;
  };
  def.client = [](Stack& stack, std::uint32_t index) {
    sim::Rng rng = stack.simulation.stream(fmt::format("workload.evict-race.{}", index));
    StackOps ops(stack, "evict-race", index);
    PageShape shape;
    shape.max_slots = 4;
    shape.max_value_bytes = 2000;
    for (std::uint32_t n = 0; n < 40 * stack.size; ++n) {
      if (index % 2 == 0) {  // writer
        const std::uint64_t id = stack.next_page_id++;
        if (LeafPage* page = build_page(stack, rng, id, shape)) publish(stack, id, page);
      } else {  // reader: long pins
        read_published(stack, rng, 1, 4 + static_cast<int>(rng.below(8)));
      }
      ops.between();
      stack.oracles.check_cheap();
    }
  };
  return def;
}

}  // namespace segsim::scenarios
