// leak-soak — cycles of allocate / write / return across the size classes,
// crossing the proactive-cleanup thresholds again and again (seed 002). It
// passes only if virtual memory stops growing after warm-up and freed regions
// are reused (the bounded-growth oracle).
#include <fmt/format.h>

#include <cstring>

#include "scenarios/workloads/page_work.h"
#include "scenarios/workloads/stack_ops.h"
#include "sim/strategy.h"

namespace segsim::scenarios {

namespace {
constexpr std::uint32_t kCyclesPerSize = 6;
constexpr std::size_t kSlicesPerCycle = 160;
}  // namespace

ScenarioDef leak_soak_scenario() {
  ScenarioDef def;
  def.info = {"leak-soak",
              "allocate/return cycles across classes crossing the cleanup thresholds; virtual memory must "
              "stop growing and regions must be reused",
              3, 1};
  def.configure = [](SegmentAllocatorConfig& allocator, PageCacheConfig&, std::uint32_t, std::uint32_t) {
    allocator.cleanup_start_free_slices = 96;
    allocator.cleanup_every_free_slices = 32;
    // The 64 KiB client's dirty slices are zeroed with madvise(DONTNEED): its
    // failure path (the memset fallback) runs whenever a fault plan makes
    // madvise fail.
    allocator.reset_madvise_min_bytes = 64 * 1024;
  };
  def.prepare = [](Stack& stack) {
    stack.oracles.sample_every(250);
    // The allocator promises bounded growth when its cleanup gets to run and
    // growth may reuse freed regions: only under a fair strategy (pct and pos
    // may starve the cleanup fiber until the end) and not with the fault
    // points that make growth map anew by design (alloc.pool.slow_path,
    // alloc.freed_queue.skip). Nor when the plan fails every map from some
    // call on (mmap:E@p=1, mmap:E@after=N): no region, no pool to pass a threshold.
    bool promised = sim::fair_strategy(stack.strategy);
    for (const faults::FaultRule& rule : stack.plan->rules) {
      if (rule.target == faults::FaultTarget::OsCall && rule.call == OsCall::Map &&
          (rule.probability >= 1.0 || rule.after > 0)) {
        promised = false;
      }
      if (rule.target == faults::FaultTarget::FaultPoint &&
          (rule.point == "*" || rule.point == "alloc.pool.slow_path" || rule.point == "alloc.freed_queue.skip")) {
        promised = false;
      }
    }
    // Warm-up: the first third of the run (two of six cycles at size 1).
    // Slack: a region per client. With many clients (> 16) their joint
    // holdings peak well after warm-up (64 clients: 336 -> 470 MiB and level,
    // seeds 1-4), so 16 regions per client (4 MiB) — a leak of one cycle of
    // the larger classes still outgrows that several times over.
    const std::size_t regions_per_client = stack.threads > 16 ? 16 : 1;
    if (promised) {
      stack.oracles.expect_bounded_growth(1.0 / 3.0,
                                          stack.threads * regions_per_client * stack.allocator.config().region_bytes);
    }
  };
  def.client = [](Stack& stack, std::uint32_t index) {
    sim::Rng rng = stack.simulation.stream(fmt::format("workload.leak-soak.{}", index));
    StackOps ops(stack, "leak-soak", index);
    for (std::uint32_t cycle = 0; cycle < kCyclesPerSize * stack.size; ++cycle) {
      std::vector<Segment> held;
      for (std::size_t i = 0; i < kSlicesPerCycle; ++i) {
        // Each client churns its own class: the regions a class needs at
        // once are then fixed, so any growth after warm-up is a leak.
        const std::size_t cls = (2 * index) % kSizeClassCount;
        auto segment = checked_allocate(stack, 1 + rng.below(class_bytes(cls)));
        if (!segment.ok()) {
          if (tolerated(stack, segment.error())) continue;
          stack.oracles.fail("exception", "allocate: unexpected " + segment.error().describe());
        }
        std::memset(segment->data(), static_cast<int>(cycle + 1), 64);
        held.push_back(segment.value());
        ops.between(held);
        stack.oracles.check_cheap();
      }
      for (const Segment& segment : held) {
        Status released = stack.allocator.release(segment);
        if (!released.ok()) stack.oracles.fail("double-free", released.error().describe(), segment.data());
        stack.oracles.check_cheap();
      }
    }
  };
  return def;
}

}  // namespace segsim::scenarios
