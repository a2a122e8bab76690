// The random strategy: uniform among runnable fibers. Its class is visible
// (not only make_random_strategy) so the simulation can call pick() without a
// virtual call and inline it into the scheduling point: it is the default
// strategy and the one long sweeps use.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "sim/random.h"
#include "sim/strategy.h"

namespace segsim::sim {

class RandomStrategy final : public Strategy {
 public:
  explicit RandomStrategy(std::uint64_t seed) : rng_(seed) {}
  std::string_view name() const noexcept override { return strategy_name(StrategyKind::Random); }
  std::optional<std::uint32_t> pick(const SchedulerView& view) override { return choose(view.runnable); }
  // pick() for the simulation's direct call: never fails, needs no view.
  std::uint32_t choose(std::span<const std::uint32_t> runnable) {
    if (runnable.size() == 1) return runnable[0];  // no draw: keeps streams stable
    return runnable[rng_.below(runnable.size())];
  }

 private:
  Rng rng_;
};

}  // namespace segsim::sim
