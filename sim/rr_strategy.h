// The round-robin strategy: the current fiber keeps running for `quantum`
// decisions, then the next runnable fiber by id (wrapping) takes over. Its
// class is visible so the simulation calls pick() without a virtual call (see
// random_strategy.h); the switching benchmark runs under it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/assert.h"
#include "sim/strategy.h"
#include "sim/trace.h"

namespace segsim::sim {

class RoundRobinStrategy final : public Strategy {
 public:
  explicit RoundRobinStrategy(std::uint64_t quantum) : quantum_(quantum) {
    SEGSIM_ASSERT(quantum >= 1, "round-robin quantum must be >= 1");
  }
  std::string_view name() const noexcept override { return strategy_name(StrategyKind::Rr); }

  std::optional<std::uint32_t> pick(const SchedulerView& view) override {
    return choose(view.runnable, view.current);
  }
  // pick() for the simulation's direct call: never fails, needs no view.
  std::uint32_t choose(std::span<const std::uint32_t> runnable, std::uint32_t current) {
    // The cheap tests first: with quantum 1 (the default) the search never runs.
    if (quantum_ > 1 && current == last_ && current != kNoFiber &&
        std::binary_search(runnable.begin(), runnable.end(), current) && ++used_ < quantum_) {
      return current;
    }
    const std::uint32_t after = last_ == kNoFiber ? 0 : last_ + 1;
    auto it = std::lower_bound(runnable.begin(), runnable.end(), after);
    last_ = it == runnable.end() ? runnable.front() : *it;
    used_ = 0;
    return last_;
  }

 private:
  std::uint64_t quantum_;
  std::uint64_t used_ = 0;
  std::uint32_t last_ = kNoFiber;
};

}  // namespace segsim::sim
