// POS — partial order sampling (Yuan, Yang, Gu: "Partial Order Aware
// Concurrency Sampling", CAV 2018).
//
// Every scheduling decision is about *events*: the operation each runnable
// fiber is suspended at (SchedulerView::pending). Each event gets a random
// priority when it first becomes schedulable; the highest-priority event runs.
// Once it has run, its fiber's next event is a new one (a fresh priority), and
// every other schedulable event that conflicts with it — the same mutex,
// condvar or atomic, at least one side writing or acquiring — gets a fresh
// priority too. Events that do not conflict keep theirs, so orderings that
// only differ in independent events are not re-sampled over and over: the
// sampling is spread over the partial orders, not the interleavings.
//
// Deterministic: every draw comes from the scheduler's seeded stream, in
// ascending fiber-id order; ties (2^-63) go to the lower fiber id.
#include <vector>

#include "sim/random.h"
#include "sim/strategy.h"

namespace segsim::sim {

bool conflicts(PendingOp a, PendingOp b) noexcept {
  if (a.object == 0 || a.object != b.object) return false;
  return a.op != TraceOp::AtomicLoad || b.op != TraceOp::AtomicLoad;
}

namespace {

constexpr std::uint64_t kNoPriority = 0;

class PosStrategy final : public Strategy {
 public:
  explicit PosStrategy(std::uint64_t seed) : rng_(seed) {}

  std::string_view name() const noexcept override { return strategy_name(StrategyKind::Pos); }

  std::optional<std::uint32_t> pick(const SchedulerView& view) override {
    for (std::uint32_t fiber : view.runnable) {
      if (fiber >= priority_.size()) priority_.resize(fiber + 1, kNoPriority);
      if (priority_[fiber] == kNoPriority) priority_[fiber] = (rng_.next() >> 1) + 1;
    }
    // Operations on no object (start, yield, sleep, clock, spawn) are not
    // events: they conflict with nothing, so running them first loses no
    // ordering — as in POS's model, where only shared-object accesses are
    // events, and in Fray's POS. The highest-priority one runs.
    std::optional<std::uint32_t> best = highest(view, /*objectless=*/true);
    if (!best) best = highest(view, /*objectless=*/false);
    // `best`'s event runs now: its next event, and every schedulable event
    // racing with this one, are re-sampled when next considered.
    const PendingOp executed = pending_of(view, *best);
    priority_[*best] = kNoPriority;
    for (std::uint32_t fiber : view.runnable) {
      if (fiber != *best && conflicts(pending_of(view, fiber), executed)) priority_[fiber] = kNoPriority;
    }
    return best;
  }

 private:
  // The runnable fiber of highest priority among those whose pending
  // operation is (objectless) or is not (otherwise) on no object.
  std::optional<std::uint32_t> highest(const SchedulerView& view, bool objectless) const {
    std::optional<std::uint32_t> best;
    for (std::uint32_t fiber : view.runnable) {
      if ((pending_of(view, fiber).object == 0) != objectless) continue;
      if (!best || priority_[fiber] > priority_[*best]) best = fiber;
    }
    return best;
  }

  static PendingOp pending_of(const SchedulerView& view, std::uint32_t fiber) {
    return fiber < view.pending.size() ? view.pending[fiber] : PendingOp{};
  }

  Rng rng_;
  std::vector<std::uint64_t> priority_;  // by fiber id; kNoPriority = draw a fresh one
};

}  // namespace

std::unique_ptr<Strategy> make_pos_strategy(std::uint64_t seed) {
  return std::make_unique<PosStrategy>(seed);
}

}  // namespace segsim::sim
