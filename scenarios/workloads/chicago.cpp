// chicago — seed 000/002's "Chicago test": transactions borrow pages, write
// slots (some pages with DeweyIDs, some without, so segments are shared),
// grow slots to force resizes through the classes, publish pages into a small
// page cache that evicts constantly, read published pages while holding them,
// and every evicted page goes back to the pool: thousands of page reuses.
#include <fmt/format.h>

#include <cstring>

#include "scenarios/workloads/page_work.h"
#include "scenarios/workloads/stack_ops.h"

namespace segsim::scenarios {

namespace {

// Per client at size 1: with 4 clients, 800 page transactions per run.
constexpr std::uint32_t kTransactionsPerSize = 200;

// The test-only sabotage: scribble over a published page's slot memory behind
// the page's back; the content oracle must catch it.
void corrupt_published_page(Stack& stack, std::uint64_t id) {
  auto handle = stack.cache.get(id);
  if (!handle) return;
  const Segment memory = handle.page()->slot_segment();
  std::memset(memory.data(), 0xab, 16);
  verify_page(stack, id, *handle.page());
}

}  // namespace

ScenarioDef chicago_scenario() {
  ScenarioDef def;
  def.info = {"chicago",
              "transactions borrow, fill (shared and own DeweyID segments), grow, publish and read pages "
              "through a small, constantly evicting page cache",
              4, 1};
  def.configure = [](SegmentAllocatorConfig& allocator, PageCacheConfig& cache, std::uint32_t threads,
                     std::uint32_t) {
    allocator.cleanup_start_free_slices = 64;  // cleanups interleave with the transactions
    allocator.cleanup_every_free_slices = 16;
    cache.max_entries = 2 + threads;  // smaller than the working set: constant eviction
  };
  def.client = [](Stack& stack, std::uint32_t index) {
    sim::Rng rng = stack.simulation.stream(fmt::format("workload.chicago.{}", index));
    const PageShape shape;
    // Fault-free chicago is seed 000's test as it was (its trace hashes are
    // the project's reference): the rare stack calls join only under faults.
    StackOps ops(stack, "chicago", index, stack.faults_active);
    for (std::uint32_t txn = 0; txn < kTransactionsPerSize * stack.size; ++txn) {
      const std::uint64_t id = stack.next_page_id++;
      LeafPage* page = build_page(stack, rng, id, shape);
      if (page != nullptr) {
        verify_page(stack, id, *page);
        publish(stack, id, page);
        if (stack.test_hook == "corrupt-segment" && index == 0 && txn == 2) corrupt_published_page(stack, id);
      }
      read_published(stack, rng, 2, 1 + static_cast<int>(rng.below(3)));
      ops.between();
      stack.oracles.check_cheap();
    }
  };
  return def;
}

}  // namespace segsim::scenarios
