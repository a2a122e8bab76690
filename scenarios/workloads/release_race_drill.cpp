// The release race drill: see release_race_drill.h.
#include "scenarios/workloads/release_race_drill.h"

#include <optional>
#include <string>

#include <fmt/format.h>

#include "core/fault_point.h"
#include "core/size_class.h"
#include "scenarios/oracles/error_text.h"
#include "scenarios/workloads/episode_instance.h"

namespace segsim::scenarios {

namespace release_race_drill {
namespace {

constexpr std::uint32_t kThreadA = 1;  // allocates the slice and releases it second
constexpr std::uint32_t kThreadB = 2;  // releases A's handle first, at A's scheduling point
constexpr int kRounds = 4;

// What B does after its release of A's handle.
enum class Then { KeepCached, Reallocate, Flush };

const char* describe(Then then) {
  switch (then) {
    case Then::KeepCached: return "kept the slice in its cache";
    case Then::Reallocate: return "allocated from the class again";
    case Then::Flush: return "flushed its cache (the slice to the pool)";
  }
  return "?";
}

class Drill {
 public:
  Drill(Stack& stack, sim::Rng& rng, ManualClock& clock, SegmentAllocator& allocator)
      : stack_(stack), rng_(rng), clock_(clock), allocator_(allocator) {}

  void round(int r) {
    const auto c = static_cast<std::size_t>(rng_.below(kSizeClassCount));
    const auto then = static_cast<Then>(rng_.below(3));
    // A cache that keeps its grant takes a release on the hit path; an empty,
    // grantless one on release_cached. Both check, yield, then exchange.
    const bool hit_path = rng_.chance(0.5);
    clock_.act_as_thread(kThreadA);
    const Segment x = calls_.allocate(class_bytes(c), "A's slice");
    if (!hit_path) allocator_.flush_thread_cache();

    bool acted = false;
    std::optional<Segment> b_slice;
    AllocatorStats after_b;
    clock_.at_next_atomic([&](platform::AtomicOp) {
      acted = true;
      clock_.act_as_thread(kThreadB);
      calls_.release(x, "B's release of A's handle");
      if (then == Then::Reallocate) b_slice = calls_.allocate(class_bytes(c), "B's slice of the class");
      if (then == Then::Flush) allocator_.flush_thread_cache();
      after_b = allocator_.stats();
      clock_.act_as_thread(kThreadA);
    });
    const Status released = allocator_.release(x);
    if (!acted) stack_.oracles.fail("exception", "release race drill: A's release reached no scheduling point");
    const std::string what = fmt::format(
        "release race drill, round {}: A's release of a class-{} slice ({}), which B released at A's scheduling "
        "point and then {}",
        r, c, hit_path ? "its cache keeping its grant" : "its cache flushed", describe(then));
    if (released.ok()) {
      stack_.oracles.fail("ownership", what + ", was accepted: the handle was released twice");
    }
    check_error_text(stack_.oracles, released.error());
    if (released.error().code != Errc::DoubleFree) {
      stack_.oracles.fail("ownership", what + " was refused as " + released.error().describe() + "; due DoubleFree");
    }
    const AllocatorStats stats = allocator_.stats();
    if (stats.live_slices() != after_b.live_slices() || stats.cached_slices() != after_b.cached_slices() ||
        stats.double_frees != after_b.double_frees + 1 ||
        stats.thread_cache_granted_bytes > after_b.thread_cache_granted_bytes) {
      stack_.oracles.fail("accounting",
                          fmt::format("{}: stats() counts {} live and {} cached slice(s), {} double free(s), {} bytes "
                                      "of the caches' limit granted; just after B {}, {}, {}, {}: a refused release "
                                      "changes nothing, is counted once and grows no grant",
                                      what, stats.live_slices(), stats.cached_slices(), stats.double_frees,
                                      stats.thread_cache_granted_bytes, after_b.live_slices(),
                                      after_b.cached_slices(), after_b.double_frees,
                                      after_b.thread_cache_granted_bytes));
    }
    if (const std::vector<std::string> audit = allocator_.audit(); !audit.empty()) {
      stack_.oracles.fail("accounting", what + ": the allocator audits: " + audit.front());
    }
    if (b_slice) {
      clock_.act_as_thread(kThreadB);
      calls_.release(*b_slice, "B's release of its slice after A's refused release");
      clock_.act_as_thread(kThreadA);
    }
    const Status again = allocator_.release(x);
    if (again.ok() || again.error().code != Errc::DoubleFree) {
      stack_.oracles.fail("ownership", fmt::format("{}: a later release of A's handle answered {}; due DoubleFree",
                                                   what, outcome_text(again, "ok")));
    }
    flush_caches_as(clock_, allocator_, {kThreadB, kThreadA});
  }

 private:
  Stack& stack_;
  sim::Rng& rng_;
  ManualClock& clock_;
  SegmentAllocator& allocator_;
  const EpisodeCalls calls_{stack_, allocator_, "release race drill"};
};

}  // namespace
}  // namespace release_race_drill

void run_release_race_drill(Stack& stack, sim::Rng& rng) {
  using namespace release_race_drill;
  fault_points::ControllerScope quiet(nullptr);  // the fast path runs only when no fault point may fire
  const SegmentAllocatorConfig config = clocked_drill_config(rng, kDrillRegionBytes, kDrillBudgetBytes);
  ClockedInstance instance(stack, rng, 2 * kDrillBudgetBytes, config, "release race drill");
  Drill drill(stack, rng, instance.clock, *instance.allocator);
  for (int r = 0; r < kRounds; ++r) drill.round(r);
}

}  // namespace segsim::scenarios
