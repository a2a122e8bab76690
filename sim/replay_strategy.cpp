#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "sim/strategy.h"

namespace segsim::sim {
namespace {

// Follows a recorded decision list. A recorded fiber that is not runnable, or
// a run that needs more decisions than were recorded, is a divergence: the
// program under test (or the build) is not the one that was recorded. In
// lenient mode (shrinking edits decision lists) the lowest-numbered runnable
// fiber runs instead.
class ReplayStrategy final : public Strategy {
 public:
  ReplayStrategy(std::vector<std::uint32_t> decisions, bool lenient)
      : decisions_(std::move(decisions)), lenient_(lenient) {}
  std::string_view name() const noexcept override { return "replay"; }

  std::optional<std::uint32_t> pick(const SchedulerView& view) override {
    if (lenient_) {
      const std::uint32_t fiber = next_ < decisions_.size() ? decisions_[next_++] : view.runnable[0];
      return std::binary_search(view.runnable.begin(), view.runnable.end(), fiber) ? fiber
                                                                                    : view.runnable[0];
    }
    if (next_ >= decisions_.size()) {
      divergence_ = fmt::format("replay diverged at step {}: the recording has only {} decisions",
                                view.step, decisions_.size());
      return std::nullopt;
    }
    const std::uint32_t fiber = decisions_[next_++];
    if (!std::binary_search(view.runnable.begin(), view.runnable.end(), fiber)) {
      divergence_ = fmt::format(
          "replay diverged at step {}: recorded fiber #{} is not runnable (runnable: {})", view.step,
          fiber, fmt::join(view.runnable, ", "));
      return std::nullopt;
    }
    return fiber;
  }
  std::string divergence() const override { return divergence_; }

 private:
  std::vector<std::uint32_t> decisions_;
  bool lenient_;
  std::size_t next_ = 0;
  std::string divergence_;
};

}  // namespace

std::unique_ptr<Strategy> make_replay_strategy(std::vector<std::uint32_t> decisions, bool lenient) {
  return std::make_unique<ReplayStrategy>(std::move(decisions), lenient);
}

bool fair_strategy(std::string_view name) noexcept { return name == "random" || name == "rr"; }

Result<std::unique_ptr<Strategy>> make_strategy(std::string_view name, const StrategyOptions& o) {
  if (name == "random") return make_random_strategy(o.seed);
  if (name == "pct") {
    if (o.pct_depth < 1) return make_error(Errc::InvalidConfig, "pct depth must be >= 1");
    if (o.pct_estimated_steps < 1) return make_error(Errc::InvalidConfig, "pct estimated steps must be >= 1");
    return make_pct_strategy(o.seed, o.pct_depth, o.pct_estimated_steps);
  }
  if (name == "pos") return make_pos_strategy(o.seed);
  if (name == "rr") {
    if (o.rr_quantum < 1) return make_error(Errc::InvalidConfig, "rr quantum must be >= 1");
    return make_rr_strategy(o.rr_quantum);
  }
  if (name == "replay") return make_replay_strategy(o.replay_decisions, o.replay_lenient);
  return make_error(Errc::InvalidConfig, "unknown strategy (random, pct, pos, rr, replay)");
}

}  // namespace segsim::sim
