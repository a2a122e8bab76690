// Scheduling strategies: at every scheduling point the simulation asks its
// strategy which runnable fiber runs next.
//
//   random  uniform among runnable fibers
//   pct     PCT (Burckhardt et al., ASPLOS 2010): random priorities, d-1
//           priority change points; probabilistic guarantee for depth-d bugs
//   pos     POS, partial order sampling (Yuan, Yang, Gu, CAV 2018): every
//           pending operation has a random priority, the highest runs, and
//           the operations that conflict with it get fresh priorities
//   rr      round robin with a quantum (for debugging: predictable)
//   replay  follows a recorded decision list exactly; divergence is a failure
//   fuzz    draws its decisions from a byte string (a fuzzer's input), then
//           from a seeded stream when the bytes run out (fuzz_strategy.cpp)
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
#include "sim/strategy_kind.h"
#include "sim/trace.h"

namespace segsim::sim {

// What a fiber does when it next runs: the operation it is suspended at and
// its object's stable id (0 for none: yield, sleep, clock, spawn, start).
// A fiber woken from a mutex or condvar wait next (re)acquires the mutex.
struct PendingOp {
  TraceOp op = TraceOp::Start;
  std::uint32_t object = 0;
};

// Whether two pending operations conflict (race): the same object, and at
// least one of them writes or acquires it (everything but an atomic load).
bool conflicts(PendingOp a, PendingOp b) noexcept;

struct SchedulerView {
  std::span<const std::uint32_t> runnable;  // ascending fiber ids, never empty
  std::uint32_t current;                    // the fiber at the point, or kNoFiber
  std::uint64_t step;                       // 1-based number of this decision
  // By fiber id: each fiber's next operation (read it for runnable fibers).
  // pos reads it (conflicts); pct reads whether the current fiber yields.
  std::span<const PendingOp> pending = {};
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
  // The fuzz strategy's choices (a libFuzzer input's schedule part); empty:
  // every decision comes from the seeded fallback stream.
  std::string fuzz_bytes;
};

std::unique_ptr<Strategy> make_random_strategy(std::uint64_t seed);
std::unique_ptr<Strategy> make_pct_strategy(std::uint64_t seed, int depth,
                                            std::uint64_t estimated_steps);
std::unique_ptr<Strategy> make_pos_strategy(std::uint64_t seed);
std::unique_ptr<Strategy> make_rr_strategy(std::uint64_t quantum);
std::unique_ptr<Strategy> make_replay_strategy(DecisionLog decisions,
                                               bool lenient = false);
// Decisions from `bytes` (each byte: which runnable fiber, and for how many
// decisions it keeps the CPU), then uniform random from `seed`. Fair: a
// runnable fiber passed over kFuzzMaxWaitDecisions times in a row runs next.
inline constexpr std::uint64_t kFuzzMaxWaitDecisions = 1024;
std::unique_ptr<Strategy> make_fuzz_strategy(std::string bytes, std::uint64_t seed);

// Whether a strategy is fair: every runnable fiber runs within a bounded
// expected number of decisions (random, rr, fuzz). pct and pos are not: they may
// leave a fiber waiting for most of a run — an oracle that needs progress of
// a background fiber (bounded growth needs the cleanups to run) holds only
// under a fair strategy.
bool fair_strategy(StrategyKind kind) noexcept;
bool fair_strategy(std::string_view name) noexcept;  // false for an unknown name

// By name: "random", "pct", "pos", "rr", "replay", "fuzz". InvalidConfig for anything else.
Result<std::unique_ptr<Strategy>> make_strategy(std::string_view name, const StrategyOptions& options);

}  // namespace segsim::sim
