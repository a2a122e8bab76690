// PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010). Each fiber
// gets a random priority when it is spawned; d-1 change points are drawn
// uniformly from [1, k], k the estimated run length in decisions. At each
// decision the highest-priority runnable fiber runs; when the step reaches
// change point i, the fiber at that point drops to priority i (< d, below
// every other priority).
//
// Yields. A fiber that calls yield() says "others may run here" (the program's
// own windows: a cleanup between its check and its act, a reader holding a
// pin). Under strict priorities a high-priority fiber would run straight
// through its window, and the window would be reached only by a change point
// landing on that very step — about d/k per window, nothing in a run of
// 100,000 decisions. As CHESS and Coyote do with yielding threads, a yield
// lowers the fiber below every fiber that has not been demoted — after every
// earlier yielder — but above the change-point band, so the d-1 change points
// keep their meaning: a fiber demoted at one runs only when every other
// fiber is blocked, finished or demoted later.
//
// Priority bands (uint64): change points 1 .. d-1; yields just below
// kInitialFloor, one lower per yield; initial priorities kInitialFloor and up.
#include <algorithm>

#include "core/assert.h"
#include "sim/random.h"
#include "sim/strategy.h"
#include "sim/trace.h"

namespace segsim::sim {
namespace {

constexpr std::uint64_t kInitialFloor = std::uint64_t{1} << 62;

class PctStrategy final : public Strategy {
 public:
  PctStrategy(std::uint64_t seed, int depth, std::uint64_t estimated_steps) : rng_(seed) {
    SEGSIM_ASSERT(depth >= 1, "PCT depth must be >= 1");
    SEGSIM_ASSERT(estimated_steps >= 1, "PCT needs an estimated step count");
    for (int i = 1; i < depth; ++i) change_points_.push_back(1 + rng_.below(estimated_steps));
  }

  std::string_view name() const noexcept override { return strategy_name(StrategyKind::Pct); }

  void on_spawn(std::uint32_t fiber) override {
    if (fiber >= priority_.size()) priority_.resize(fiber + 1, 0);
    // Random distinct-in-practice priorities above the other bands; the fiber
    // id breaks the (2^-62) ties deterministically.
    priority_[fiber] = kInitialFloor + (rng_.next() >> 2);
  }

  std::optional<std::uint32_t> pick(const SchedulerView& view) override {
    const std::uint32_t current = view.current;
    if (current != kNoFiber && current < priority_.size()) {
      const bool yielding = current < view.pending.size() && view.pending[current].op == TraceOp::Yield;
      if (yielding && priority_[current] >= kInitialFloor - yields_) {
        priority_[current] = kInitialFloor - ++yields_;  // below the undemoted, after earlier yielders
      }
      for (std::size_t i = 0; i < change_points_.size(); ++i) {
        if (change_points_[i] == view.step) priority_[current] = i + 1;  // below every other band
      }
    }
    std::uint32_t best = view.runnable[0];
    for (std::uint32_t fiber : view.runnable) {
      if (priority_of(fiber) > priority_of(best)) best = fiber;
    }
    return best;
  }

 private:
  std::uint64_t priority_of(std::uint32_t fiber) const {
    return fiber < priority_.size() ? priority_[fiber] : 0;
  }
  Rng rng_;
  std::vector<std::uint64_t> change_points_;
  std::vector<std::uint64_t> priority_;  // by fiber id
  std::uint64_t yields_ = 0;             // yields that lowered a fiber so far
};

}  // namespace

std::unique_ptr<Strategy> make_pct_strategy(std::uint64_t seed, int depth,
                                            std::uint64_t estimated_steps) {
  return std::make_unique<PctStrategy>(seed, depth, estimated_steps);
}

}  // namespace segsim::sim
