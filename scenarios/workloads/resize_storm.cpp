// resize-storm — pages grow through every class (4 KiB to 256 KiB) while the
// cache evicts and pages return to the pool.
#include <fmt/format.h>

#include "scenarios/workloads/page_work.h"
#include "scenarios/workloads/stack_ops.h"

namespace segsim::scenarios {

ScenarioDef resize_storm_scenario() {
  ScenarioDef def;
  def.info = {"resize-storm", "pages grow through every size class while the cache evicts and pages return",
              3, 1};
  def.configure = [](SegmentAllocatorConfig& allocator, PageCacheConfig& cache, std::uint32_t, std::uint32_t) {
    cache.max_entries = 3;
    // Large slices are zeroed with madvise(DONTNEED): its failure path (the
    // memset fallback) runs whenever a fault plan makes madvise fail.
    allocator.reset_madvise_min_bytes = 64 * 1024;
  };
  def.client = [](Stack& stack, std::uint32_t index) {
    sim::Rng rng = stack.simulation.stream(fmt::format("workload.resize-storm.{}", index));
    StackOps ops(stack, "resize-storm", index);
    PageShape shape;
    shape.max_slots = 8;
    shape.max_value_bytes = 24 * 1024;  // with regrowth, up to the 256 KiB class
    shape.regrow_chance = 0.8;
    shape.dewey_chance = 0.5;
    for (std::uint32_t n = 0; n < 12 * stack.size; ++n) {
      const std::uint64_t id = stack.next_page_id++;
      LeafPage* page = build_page(stack, rng, id, shape);
      if (page != nullptr) {
        verify_page(stack, id, *page);
        publish(stack, id, page);
      }
      read_published(stack, rng, 1, 2);
      ops.between();
      stack.oracles.check_cheap();
    }
  };
  return def;
}

}  // namespace segsim::scenarios
