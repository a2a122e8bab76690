// Scheduling strategies: at every scheduling point the simulation asks its
// strategy which runnable fiber runs next.
//
//   random  uniform among runnable fibers
//   pct     PCT (Burckhardt et al., ASPLOS 2010): random priorities, d-1
//           priority change points; probabilistic guarantee for depth-d bugs
//   rr      round robin with a quantum (for debugging: predictable)
//   replay  follows a recorded decision list exactly; divergence is a failure
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "sim/decision_log.h"

namespace segsim::sim {

struct SchedulerView {
  std::span<const std::uint32_t> runnable;  // ascending fiber ids, never empty
  std::uint32_t current;                    // the fiber at the point, or kNoFiber
  std::uint64_t step;                       // 1-based number of this decision
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string_view name() const noexcept = 0;
  virtual void on_spawn(std::uint32_t fiber) { (void)fiber; }
  // The fiber to run, one of view.runnable; nullopt when the strategy cannot
  // continue (replay divergence), with the reason in divergence().
  virtual std::optional<std::uint32_t> pick(const SchedulerView& view) = 0;
  virtual std::string divergence() const { return {}; }
};

struct StrategyOptions {
  std::uint64_t seed = 1;                  // the scheduler stream's seed
  int pct_depth = 3;                       // d: bugs of depth d are found with p >= 1/(n k^(d-1))
  std::uint64_t pct_estimated_steps = 1000;  // k: change points are drawn from [1, k]
  std::uint64_t rr_quantum = 1;            // decisions a fiber keeps the CPU for
  DecisionLog replay_decisions;
  // Replay leniently: where the recording runs out or names a fiber that is
  // not runnable, run the lowest-numbered runnable fiber instead of failing.
  bool replay_lenient = false;
};

std::unique_ptr<Strategy> make_random_strategy(std::uint64_t seed);
std::unique_ptr<Strategy> make_pct_strategy(std::uint64_t seed, int depth,
                                            std::uint64_t estimated_steps);
std::unique_ptr<Strategy> make_rr_strategy(std::uint64_t quantum);
std::unique_ptr<Strategy> make_replay_strategy(DecisionLog decisions,
                                               bool lenient = false);

// By name: "random", "pct", "rr", "replay". InvalidConfig for anything else.
Result<std::unique_ptr<Strategy>> make_strategy(std::string_view name, const StrategyOptions& options);

}  // namespace segsim::sim
