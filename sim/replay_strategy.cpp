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
  ReplayStrategy(DecisionLog decisions, bool lenient)
      : decisions_(std::move(decisions)), reader_(decisions_), lenient_(lenient) {}
  std::string_view name() const noexcept override { return strategy_name(StrategyKind::Replay); }

  std::optional<std::uint32_t> pick(const SchedulerView& view) override {
    if (lenient_) {
      std::uint32_t fiber = view.runnable[0];
      if (!reader_.next(fiber)) fiber = view.runnable[0];
      return std::binary_search(view.runnable.begin(), view.runnable.end(), fiber) ? fiber
                                                                                    : view.runnable[0];
    }
    std::uint32_t fiber = 0;
    if (!reader_.next(fiber)) {
      divergence_ = fmt::format("replay diverged at step {}: the recording has only {} decisions",
                                view.step, decisions_.size());
      return std::nullopt;
    }
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
  const DecisionLog decisions_;
  DecisionLog::Reader reader_;  // reads decisions_
  bool lenient_;
  std::string divergence_;
};

}  // namespace

std::unique_ptr<Strategy> make_replay_strategy(DecisionLog decisions, bool lenient) {
  return std::make_unique<ReplayStrategy>(std::move(decisions), lenient);
}

bool fair_strategy(StrategyKind kind) noexcept {
  return kind == StrategyKind::Random || kind == StrategyKind::Rr || kind == StrategyKind::Fuzz;
}

bool fair_strategy(std::string_view name) noexcept {
  const std::optional<StrategyKind> kind = parse_strategy(name);
  return kind.has_value() && fair_strategy(*kind);
}

Result<std::unique_ptr<Strategy>> make_strategy(std::string_view name, const StrategyOptions& o) {
  const std::optional<StrategyKind> kind = parse_strategy(name);
  if (!kind) return make_error(Errc::InvalidConfig, "unknown strategy (random, pct, pos, rr, replay, fuzz)");
  switch (*kind) {
    case StrategyKind::Random: return make_random_strategy(o.seed);
    case StrategyKind::Pct:
      if (o.pct_depth < 1) return make_error(Errc::InvalidConfig, "pct depth must be >= 1");
      if (o.pct_estimated_steps < 1) return make_error(Errc::InvalidConfig, "pct estimated steps must be >= 1");
      return make_pct_strategy(o.seed, o.pct_depth, o.pct_estimated_steps);
    case StrategyKind::Pos: return make_pos_strategy(o.seed);
    case StrategyKind::Rr:
      if (o.rr_quantum < 1) return make_error(Errc::InvalidConfig, "rr quantum must be >= 1");
      return make_rr_strategy(o.rr_quantum);
    case StrategyKind::Replay: return make_replay_strategy(o.replay_decisions, o.replay_lenient);
    case StrategyKind::Fuzz: return make_fuzz_strategy(o.fuzz_bytes, o.seed);
  }
  return make_error(Errc::InvalidConfig, "unknown strategy (random, pct, pos, rr, replay, fuzz)");
}

}  // namespace segsim::sim
