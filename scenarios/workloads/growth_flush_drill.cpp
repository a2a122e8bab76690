// The growth flush drill: see growth_flush_drill.h.
#include "scenarios/workloads/growth_flush_drill.h"

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/fault_point.h"
#include "core/platform/runtime.h"
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
constexpr std::size_t kBudgetBytes = 32 * kDrillRegionBytes;
constexpr std::size_t kMaxSlicesOfA = 64;

std::uint64_t growths(const AllocatorStats& stats) { return stats.regions_mapped + stats.regions_reused; }
// Cleanups started, and those whose guard was won but whose task the executor refused.
std::uint64_t cleanups_asked(const AllocatorStats& stats) {
  std::uint64_t asked = 0;
  for (const auto& c : stats.classes) asked += c.cleanups_started + c.cleanups_refused;
  return asked;
}

class Drill {
 public:
  Drill(Stack& stack, sim::Rng& rng, ManualClock& clock, SegmentAllocator& allocator)
      : stack_(stack), rng_(rng), clock_(clock), allocator_(allocator) {}

  void round(int r) {
    const auto c = static_cast<std::size_t>(rng_.below(kSizeClassCount));
    const std::size_t per_region = kDrillRegionBytes / class_bytes(c);
    // A: some slices of the class, all released; its cache keeps some (to
    // its capacity, within the limit), the rest spill to the pool.
    clock_.act_as_thread(kThreadA);
    std::vector<Segment> held;
    for (std::size_t n = 1 + rng_.below(std::min(2 * per_region, kMaxSlicesOfA)); n > 0; --n) {
      held.push_back(calls_.allocate(class_bytes(c), "A's allocation"));
    }
    while (!held.empty()) {
      const std::size_t i = rng_.below(held.size());
      calls_.release(held[i], "A's release");
      held[i] = held.back();
      held.pop_back();
    }
    // B: the class until it grew twice (the pool drained each time). In odd
    // rounds A reclaims its cache while B's growth flush waits for the class
    // lock to take A's slices: the flush finds nothing left to give back.
    clock_.act_as_thread(kThreadB);
    bool racing = r % 2 == 1 && allocator_.stats().classes[c].cached_slices > 0;
    const bool raced = racing;
    const std::size_t most_calls = (kGrowthsPerRound + 3) * per_region + kMaxSlicesOfA;
    int grown = 0;
    for (std::size_t call = 0; call < most_calls && grown < kGrowthsPerRound; ++call) {
      const AllocatorStats before = allocator_.stats();
      if (racing && call > 0) arm_reclaim_by_a(racing);  // B's first call makes its cache (the registry locked twice)
      held.push_back(calls_.allocate(class_bytes(c), "B's allocation"));
      clock_.at_lock(nullptr);
      const AllocatorStats after = allocator_.stats();
      if (cleanups_asked(after) != cleanups_asked(before)) {
        stack_.oracles.fail("cleanup-cadence",
                            fmt::format("growth flush drill, round {}: B's allocation {} of the class-{} ({} B) asked "
                                        "for {} cleanup(s){}; proactive cleanup is off, so none is ever due",
                                        r, call, c, class_bytes(c), cleanups_asked(after) - cleanups_asked(before),
                                        raced && !racing ? " after A's reclaim emptied its cache at the flush's lock"
                                                         : ""));
      }
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
    if (racing) {
      stack_.oracles.fail("exception", fmt::format("growth flush drill, round {}: B's allocations never locked a "
                                                   "mutex twice in one call (the growth flush's second lock of the "
                                                   "class), so A's reclaim never raced it",
                                                   r));
    }
    if (grown < kGrowthsPerRound) {
      stack_.oracles.fail("exception", fmt::format("growth flush drill, round {}: class {} grew {} time(s) in {} "
                                                   "allocations",
                                                   r, c, grown, most_calls));
    }
    for (const Segment& segment : held) calls_.release(segment, "B's release");
    flush_caches_as(clock_, allocator_, {kThreadB, kThreadA});
    (void)allocator_.free_unused_regions(0);
    if (const std::vector<std::string> audit = allocator_.audit(); !audit.empty()) {
      stack_.oracles.fail("accounting", fmt::format("growth flush drill, round {}: the allocator audits: {}", r,
                                                    audit.front()));
    }
  }

 private:
  // At B's next lock of a mutex it already locked in this call — the class
  // lock its growth flush takes to empty A's class cache, after it saw the
  // cache hold slices without the lock — A reclaims its whole cache first
  // (flush_thread_cache). `armed` is cleared once that happened.
  void arm_reclaim_by_a(bool& armed) {
    clock_.at_lock([this, &armed, seen = std::vector<const platform::SimTag*>()](
                       const platform::SimTag& mutex) mutable {
      if (std::find(seen.begin(), seen.end(), &mutex) == seen.end()) {
        seen.push_back(&mutex);
        return false;
      }
      clock_.act_as_thread(kThreadA);
      allocator_.flush_thread_cache();
      clock_.act_as_thread(kThreadB);
      armed = false;
      return true;
    });
  }

  Stack& stack_;
  sim::Rng& rng_;
  ManualClock& clock_;
  SegmentAllocator& allocator_;
  const EpisodeCalls calls_{stack_, allocator_, "growth flush drill"};
};

}  // namespace
}  // namespace growth_flush_drill

void run_growth_flush_drill(Stack& stack, sim::Rng& rng) {
  using namespace growth_flush_drill;
  fault_points::ControllerScope quiet(nullptr);  // no forced slow path grows a class with free slices
  SegmentAllocatorConfig config = clocked_drill_config(rng, kDrillRegionBytes, kBudgetBytes);
  config.thread_caches_max_bytes = draw_one<std::size_t>(rng, {256 * 1024, 1024 * 1024, 8 * 1024 * 1024});
  ClockedInstance instance(stack, rng, 2 * kBudgetBytes, config, "growth flush drill");
  Drill drill(stack, rng, instance.clock, *instance.allocator);
  for (int r = 0; r < kRounds; ++r) drill.round(r);
}

}  // namespace segsim::scenarios
