// PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010). Each fiber
// gets a random priority >= d when it is spawned; d-1 change points are drawn
// uniformly from [1, k]. At each decision the highest-priority runnable fiber
// runs; when the step reaches change point i, the fiber at that point drops
// to priority i (< d, below every initial priority).
#include <algorithm>
#include <unordered_map>

#include "core/assert.h"
#include "sim/random.h"
#include "sim/strategy.h"
#include "sim/trace.h"

namespace segsim::sim {
namespace {

class PctStrategy final : public Strategy {
 public:
  PctStrategy(std::uint64_t seed, int depth, std::uint64_t estimated_steps)
      : rng_(seed), depth_(depth) {
    SEGSIM_ASSERT(depth >= 1, "PCT depth must be >= 1");
    SEGSIM_ASSERT(estimated_steps >= 1, "PCT needs an estimated step count");
    for (int i = 1; i < depth; ++i) change_points_.push_back(1 + rng_.below(estimated_steps));
  }

  std::string_view name() const noexcept override { return "pct"; }

  void on_spawn(std::uint32_t fiber) override {
    if (fiber >= priority_.size()) priority_.resize(fiber + 1, 0);
    // Random distinct-in-practice priorities above the change-point band; the
    // fiber id breaks the (2^-40) ties deterministically.
    priority_[fiber] = static_cast<std::uint64_t>(depth_) + (rng_.next() >> 24);
  }

  std::optional<std::uint32_t> pick(const SchedulerView& view) override {
    for (std::size_t i = 0; i < change_points_.size(); ++i) {
      if (change_points_[i] == view.step && view.current != kNoFiber &&
          view.current < priority_.size()) {
        priority_[view.current] = i + 1;  // below every initial priority
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
  int depth_;
  std::vector<std::uint64_t> change_points_;
  std::vector<std::uint64_t> priority_;  // by fiber id
};

}  // namespace

std::unique_ptr<Strategy> make_pct_strategy(std::uint64_t seed, int depth,
                                            std::uint64_t estimated_steps) {
  return std::make_unique<PctStrategy>(seed, depth, estimated_steps);
}

}  // namespace segsim::sim
