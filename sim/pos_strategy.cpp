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
// Yields are windows. A fiber that calls yield() says "others may run here":
// the yield marks the program's own window — shared state read or about to
// change outside any instrumented object (a cleanup between its "all slices
// free" check and its detach, a reader holding a pin). Running it at once,
// like the operations on no object, closes every such window before it opens
// (cleanup-race: 0 of 300 leak-soak seeds). So a yield is an event whose
// priority is drawn from a band below every other event's: the yielding fiber
// continues once no other runnable fiber has an event pending that is not a
// yield (the others blocked, asleep, finished or yielding too; yielders among
// themselves in random order). A yield conflicts with no object, so nothing
// re-draws it. This is PCT's yield rule (pct_strategy.cpp) and CHESS's and
// Coyote's treatment of yielding threads, in POS's terms.
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
// Events draw priorities from [kEventFloor, 2^63); yields from [1, 2^61].
constexpr std::uint64_t kEventFloor = std::uint64_t{1} << 62;

class PosStrategy final : public Strategy {
 public:
  explicit PosStrategy(std::uint64_t seed) : rng_(seed) {}

  std::string_view name() const noexcept override { return strategy_name(StrategyKind::Pos); }

  std::optional<std::uint32_t> pick(const SchedulerView& view) override {
    for (std::uint32_t fiber : view.runnable) {
      if (fiber >= priority_.size()) priority_.resize(fiber + 1, kNoPriority);
      if (priority_[fiber] != kNoPriority) continue;
      const bool yields = pending_of(view, fiber).op == TraceOp::Yield;
      priority_[fiber] = yields ? 1 + (rng_.next() >> 3) : kEventFloor + (rng_.next() >> 2);
    }
    // Operations on no object other than a yield (start, sleep, clock,
    // spawn) are not events: they conflict with nothing, so running them
    // first loses no ordering — as in POS's model, where only shared-object
    // accesses are events, and in Fray's POS. The highest-priority one runs.
    std::optional<std::uint32_t> best = highest(view, /*not_an_event=*/true);
    if (!best) best = highest(view, /*not_an_event=*/false);
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
  // Whether a pending operation is not an event: on no object and not a yield.
  static bool not_an_event(PendingOp op) noexcept { return op.object == 0 && op.op != TraceOp::Yield; }

  // The runnable fiber of highest priority among those whose pending
  // operation is (not_an_event) or is (otherwise) an event.
  std::optional<std::uint32_t> highest(const SchedulerView& view, bool not_event) const {
    std::optional<std::uint32_t> best;
    for (std::uint32_t fiber : view.runnable) {
      if (not_an_event(pending_of(view, fiber)) != not_event) continue;
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
