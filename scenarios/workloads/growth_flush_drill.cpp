// The growth flush drill: see growth_flush_drill.h.
#include "scenarios/workloads/growth_flush_drill.h"

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/fault_point.h"
#include "core/size_class.h"
#include "scenarios/workloads/episode_instance.h"
#include "scenarios/workloads/swarm.h"

namespace segsim::scenarios {

namespace growth_flush_drill {
namespace {

constexpr std::uint32_t kThreadA = 1;  // leaves free slices in its cache
constexpr std::uint32_t kThreadB = 2;  // drains the pool until the class grows
constexpr int kRounds = 3;
constexpr int kGrowthsPerRound = 2;
constexpr std::size_t kRegionBytes = std::size_t{256} << 10;
constexpr std::size_t kBudgetBytes = 32 * kRegionBytes;
constexpr std::size_t kMaxSlicesOfA = 64;

std::uint64_t growths(const AllocatorStats& stats) { return stats.regions_mapped + stats.regions_reused; }

class Drill {
 public:
  Drill(Stack& stack, sim::Rng& rng, ManualClock& clock, SegmentAllocator& allocator)
      : stack_(stack), rng_(rng), clock_(clock), allocator_(allocator) {}

  void round(int r) {
    const auto c = static_cast<std::size_t>(rng_.below(kSizeClassCount));
    const std::size_t per_region = kRegionBytes / class_bytes(c);
    // A: some slices of the class, all released; its cache keeps some (to
    // its capacity, within the limit), the rest spill to the pool.
    clock_.act_as_thread(kThreadA);
    std::vector<Segment> held;
    for (std::size_t n = 1 + rng_.below(std::min(2 * per_region, kMaxSlicesOfA)); n > 0; --n) {
      held.push_back(allocate(c, "A's allocation"));
    }
    while (!held.empty()) {
      const std::size_t i = rng_.below(held.size());
      release(held[i], "A's release");
      held[i] = held.back();
      held.pop_back();
    }
    // B: the class until it grew twice (the pool drained each time).
    clock_.act_as_thread(kThreadB);
    const std::size_t most_calls = (kGrowthsPerRound + 3) * per_region + kMaxSlicesOfA;
    int grown = 0;
    for (std::size_t call = 0; call < most_calls && grown < kGrowthsPerRound; ++call) {
      const AllocatorStats before = allocator_.stats();
      held.push_back(allocate(c, "B's allocation"));
      const AllocatorStats after = allocator_.stats();
      if (growths(after) == growths(before)) continue;
      ++grown;
      if (before.classes[c].cached_slices > 0) {
        stack_.oracles.fail("cache-policy",
                            fmt::format("growth flush drill, round {}: B's allocation {} of the class-{} ({} B) grew "
                                        "it (regions mapped {} -> {}, reused {} -> {}) while thread caches held {} "
                                        "free slice(s) of it; B's own was empty, so A's were not given back first",
                                        r, call, c, class_bytes(c), before.regions_mapped, after.regions_mapped,
                                        before.regions_reused, after.regions_reused, before.classes[c].cached_slices));
      }
    }
    if (grown < kGrowthsPerRound) {
      stack_.oracles.fail("exception", fmt::format("growth flush drill, round {}: class {} grew {} time(s) in {} "
                                                   "allocations",
                                                   r, c, grown, most_calls));
    }
    for (const Segment& segment : held) release(segment, "B's release");
    for (const std::uint32_t thread : {kThreadB, kThreadA}) {
      clock_.act_as_thread(thread);
      allocator_.flush_thread_cache();
    }
    (void)allocator_.free_unused_regions(0);
    if (const std::vector<std::string> audit = allocator_.audit(); !audit.empty()) {
      stack_.oracles.fail("accounting", fmt::format("growth flush drill, round {}: the allocator audits: {}", r,
                                                    audit.front()));
    }
  }

 private:
  Segment allocate(std::size_t c, const char* what) {
    return episode_allocate(stack_, allocator_, class_bytes(c), "growth flush drill", what);
  }
  void release(const Segment& segment, const char* what) {
    episode_release(stack_, allocator_, segment, "growth flush drill", what);
  }

  Stack& stack_;
  sim::Rng& rng_;
  ManualClock& clock_;
  SegmentAllocator& allocator_;
};

}  // namespace
}  // namespace growth_flush_drill

void run_growth_flush_drill(Stack& stack, sim::Rng& rng) {
  using namespace growth_flush_drill;
  fault_points::ControllerScope quiet(nullptr);  // no forced slow path grows a class with free slices
  SegmentAllocatorConfig config;
  config.region_bytes = kRegionBytes;
  config.budget_bytes = kBudgetBytes;
  config.thread_cache_bytes = draw_one<std::size_t>(rng, {4096, 64 * 1024, 256 * 1024, 1024 * 1024});
  config.thread_caches_max_bytes = draw_one<std::size_t>(rng, {256 * 1024, 1024 * 1024, 8 * 1024 * 1024});
  config.proactive_cleanup = false;  // no task (a spawn, refused by the clock)
  ClockedInstance instance(stack, rng, 2 * kBudgetBytes, config, "growth flush drill");
  Drill drill(stack, rng, instance.clock, *instance.allocator);
  for (int r = 0; r < kRounds; ++r) drill.round(r);
}

}  // namespace segsim::scenarios
