// The fuzz strategy: a fuzzer's bytes are the schedule (fuzz/scenario.cpp).
//
// Each byte read is one preemption choice: its low five bits pick the runnable
// fiber (index modulo the runnable count — ids of async fibers grow through a
// run, indices do not, so a mutated byte keeps meaning "the 2nd runnable
// fiber"), its high three bits how many decisions that fiber keeps the CPU
// while it stays runnable: 1, 2, 4, ... 128. A few KiB of input thus steer
// tens of thousands of decisions, and a one-byte mutation moves one
// preemption. A decision with a single runnable fiber reads nothing (as
// random draws nothing), so bytes are spent only where there is a choice.
// A yield of the holding fiber ends its hold: the program's own windows
// (platform::yield() in core marks them, as for pct) each get a byte.
//
// When the bytes run out the decisions are uniform random from the seed: the
// run still ends, and the same (bytes, seed) always give the same schedule.
// Fairness is bounded: a runnable fiber passed over kFuzzMaxWaitDecisions
// times in a row runs next, so no input can starve a cleanup fiber and the
// oracles that need progress (bounded growth) stay armed under fuzz.
#include <algorithm>
#include <vector>

#include "sim/random.h"
#include "sim/strategy.h"
#include "sim/trace.h"

namespace segsim::sim {
namespace {

constexpr unsigned kIndexBits = 5;
constexpr std::uint8_t kIndexMask = (1u << kIndexBits) - 1;

class FuzzStrategy final : public Strategy {
 public:
  FuzzStrategy(std::string bytes, std::uint64_t seed) : bytes_(std::move(bytes)), rng_(seed) {}
  std::string_view name() const noexcept override { return strategy_name(StrategyKind::Fuzz); }

  std::optional<std::uint32_t> pick(const SchedulerView& view) override {
    const std::uint32_t chosen = choose(view);
    note_waits(view, chosen);
    return chosen;
  }

 private:
  std::uint32_t choose(const SchedulerView& view) {
    if (view.runnable.size() == 1) return view.runnable[0];
    if (const auto starved = most_starved(view)) return hold(*starved, 0);
    const bool holder_runnable =
        holder_ != kNoFiber && std::binary_search(view.runnable.begin(), view.runnable.end(), holder_);
    // A yield says "others may run here" (a window: a cleanup between its
    // check and its act): it ends the hold, so the next byte decides.
    const bool yielding = view.current == holder_ && view.current < view.pending.size() &&
                          view.pending[view.current].op == TraceOp::Yield;
    if (holder_runnable && hold_left_ > 0 && !yielding) {
      --hold_left_;
      return holder_;
    }
    if (position_ >= bytes_.size()) return hold(view.runnable[rng_.below(view.runnable.size())], 0);
    const auto byte = static_cast<std::uint8_t>(bytes_[position_++]);
    const std::uint32_t fiber = view.runnable[(byte & kIndexMask) % view.runnable.size()];
    return hold(fiber, (std::uint64_t{1} << (byte >> kIndexBits)) - 1);
  }

  std::uint32_t hold(std::uint32_t fiber, std::uint64_t more_decisions) {
    holder_ = fiber;
    hold_left_ = more_decisions;
    return fiber;
  }

  // The runnable fiber passed over the most decisions in a row, if that is
  // kFuzzMaxWaitDecisions or more (the lowest id among equals).
  std::optional<std::uint32_t> most_starved(const SchedulerView& view) const {
    std::optional<std::uint32_t> worst;
    std::uint64_t worst_wait = kFuzzMaxWaitDecisions - 1;
    for (std::uint32_t fiber : view.runnable) {
      const std::uint64_t wait = waited(fiber, view.step);
      if (wait > worst_wait) {
        worst = fiber;
        worst_wait = wait;
      }
    }
    return worst;
  }

  // Decisions in a row, up to the last one, at which `fiber` was runnable
  // and not chosen.
  std::uint64_t waited(std::uint32_t fiber, std::uint64_t step) const {
    if (fiber >= waits_.size() || waits_[fiber].last_step + 1 != step) return 0;
    return waits_[fiber].count;
  }

  void note_waits(const SchedulerView& view, std::uint32_t chosen) {
    for (std::uint32_t fiber : view.runnable) {
      if (fiber >= waits_.size()) waits_.resize(fiber + 1);
      Wait& wait = waits_[fiber];
      wait.count = fiber == chosen ? 0 : waited(fiber, view.step) + 1;
      wait.last_step = view.step;
    }
  }

  struct Wait {
    std::uint64_t last_step = 0;  // the last decision the fiber was runnable at
    std::uint64_t count = 0;      // passed over in a row up to then
  };

  const std::string bytes_;
  std::size_t position_ = 0;  // the next byte to read
  Rng rng_;
  std::uint32_t holder_ = kNoFiber;
  std::uint64_t hold_left_ = 0;  // decisions the holder keeps the CPU for yet
  std::vector<Wait> waits_;      // by fiber id
};

}  // namespace

std::unique_ptr<Strategy> make_fuzz_strategy(std::string bytes, std::uint64_t seed) {
  return std::make_unique<FuzzStrategy>(std::move(bytes), seed);
}

}  // namespace segsim::sim
