#include "sim/random.h"
#include "sim/strategy.h"

namespace segsim::sim {
namespace {

class RandomStrategy final : public Strategy {
 public:
  explicit RandomStrategy(std::uint64_t seed) : rng_(seed) {}
  std::string_view name() const noexcept override { return strategy_name(StrategyKind::Random); }
  std::optional<std::uint32_t> pick(const SchedulerView& view) override {
    if (view.runnable.size() == 1) return view.runnable[0];  // no draw: keeps streams stable
    return view.runnable[rng_.below(view.runnable.size())];
  }

 private:
  Rng rng_;
};

}  // namespace

std::unique_ptr<Strategy> make_random_strategy(std::uint64_t seed) {
  return std::make_unique<RandomStrategy>(seed);
}

}  // namespace segsim::sim
