// The grant race drill: see grant_race_drill.h.
#include "scenarios/workloads/grant_race_drill.h"

#include <optional>
#include <string>

#include <fmt/format.h>

#include "core/fault_point.h"
#include "core/size_class.h"
#include "scenarios/workloads/episode_instance.h"
#include "scenarios/oracles/error_text.h"

namespace segsim::scenarios {

namespace grant_race_drill {
namespace {

constexpr std::uint32_t kThreadA = 1;  // allocates and releases the slice
constexpr std::uint32_t kThreadB = 2;  // reclaims, and takes the limit's room
constexpr int kRounds = 4;
// One grant unit (kCacheGrantBytes, the largest slice) for all caches together.
constexpr std::size_t kCachesMaxBytes = kLargestClassBytes;

class Drill {
 public:
  Drill(Stack& stack, sim::Rng& rng, ManualClock& clock, SegmentAllocator& allocator)
      : stack_(stack), rng_(rng), clock_(clock), allocator_(allocator) {}

  void round(int r) {
    const auto c = static_cast<std::size_t>(rng_.below(kSizeClassCount));
    const auto c_b = static_cast<std::size_t>(rng_.below(kSizeClassCount));
    const bool by_class = rng_.chance(0.5);    // release_unused_regions(c), else free_unused_regions(0)
    const bool take_room = rng_.below(4) != 0;  // B parks a slice: its cache's grant is the whole limit
    clock_.act_as_thread(kThreadA);
    const Segment x = calls_.allocate(class_bytes(c), "A's slice");

    bool acted = false;
    std::size_t cached_after_b = 0;
    clock_.at_next_atomic([&](platform::AtomicOp) {
      acted = true;
      clock_.act_as_thread(kThreadB);
      if (by_class) {
        (void)allocator_.release_unused_regions(static_cast<int>(c));
      } else {
        (void)allocator_.free_unused_regions(0);
      }
      if (take_room) calls_.release(calls_.allocate(class_bytes(c_b), "B's slice"), "B's release of its slice");
      cached_after_b = allocator_.stats().cached_slices();
      clock_.act_as_thread(kThreadA);
    });
    const Status released = allocator_.release(x);
    if (!acted) stack_.oracles.fail("exception", "grant race drill: A's release reached no scheduling point");
    const std::string what =
        fmt::format("grant race drill, round {}: A's release of a class-{} slice while B {}{}", r, c,
                    by_class ? fmt::format("ran release_unused_regions({})", c) : "ran free_unused_regions(0)",
                    take_room ? fmt::format(" and parked a class-{} slice, its cache's grant the whole limit", c_b)
                              : " (the limit's room left free)");
    if (!released.ok()) stack_.oracles.fail("cache-policy", what + " was refused: " + released.error().describe());

    // B's room taken: A's grant is refused and the slice goes to the pool; else A's cache takes it.
    const AllocatorStats stats = allocator_.stats();
    const std::size_t due_cached = cached_after_b + (take_room ? 0 : 1);
    if (stats.live_slices() != 0 || stats.cached_slices() != due_cached) {
      stack_.oracles.fail("cache-policy",
                          fmt::format("{}: stats() counts {} live and {} cached slice(s); due 0 live and {} cached "
                                      "({} before A's release finished, {})",
                                      what, stats.live_slices(), stats.cached_slices(), due_cached, cached_after_b,
                                      take_room ? "the slice to the pool: the limit had no room for A's cache"
                                                : "the slice in A's cache"));
    }
    const Status again = allocator_.release(x);
    if (again.ok() || again.error().code != Errc::DoubleFree) {
      stack_.oracles.fail("cache-policy", fmt::format("{}: a second release of the handle answered {}; due DoubleFree",
                                                      what, outcome_text(again, "ok")));
    }
    if (const std::vector<std::string> audit = allocator_.audit(); !audit.empty()) {
      stack_.oracles.fail("accounting", what + ": the allocator audits: " + audit.front());
    }
    flush_caches_as(clock_, allocator_, {kThreadB, kThreadA});
  }

 private:
  Stack& stack_;
  sim::Rng& rng_;
  ManualClock& clock_;
  SegmentAllocator& allocator_;
  const EpisodeCalls calls_{stack_, allocator_, "grant race drill"};
};

}  // namespace
}  // namespace grant_race_drill

void run_grant_race_drill(Stack& stack, sim::Rng& rng) {
  using namespace grant_race_drill;
  fault_points::ControllerScope quiet(nullptr);  // the hit paths run only when no fault point may fire
  SegmentAllocatorConfig config = clocked_drill_config(rng, kDrillRegionBytes, kDrillBudgetBytes);
  config.thread_caches_max_bytes = kCachesMaxBytes;
  ClockedInstance instance(stack, rng, 2 * kDrillBudgetBytes, config, "grant race drill");
  Drill drill(stack, rng, instance.clock, *instance.allocator);
  for (int r = 0; r < kRounds; ++r) drill.round(r);
}

}  // namespace segsim::scenarios
