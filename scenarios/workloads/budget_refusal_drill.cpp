// The budget refusal drill: see budget_refusal_drill.h.
#include "scenarios/workloads/budget_refusal_drill.h"

#include <vector>

#include <fmt/format.h>

#include "core/fault_point.h"
#include "core/size_class.h"
#include "scenarios/oracles/error_text.h"
#include "scenarios/workloads/episode_instance.h"

namespace segsim::scenarios {

namespace {

constexpr const char* kDrill = "budget refusal drill";

// The locks `call` takes on `clock`.
template <class Call>
std::size_t locks_taken(ManualClock& clock, Call&& call) {
  std::size_t locks = 0;
  clock.at_lock([&locks](const platform::SimTag&) {
    ++locks;
    return false;  // stays armed
  });
  call();
  clock.at_lock(nullptr);
  return locks;
}

}  // namespace

void run_budget_refusal_drill(Stack& stack, sim::Rng& rng) {
  fault_points::ControllerScope quiet(nullptr);  // no fault point changes what the pass frees
  SegmentAllocatorConfig config = clocked_drill_config(rng, kDrillRegionBytes, kDrillBudgetBytes);
  config.thread_cache_bytes = 0;
  ClockedInstance instance(stack, rng, 2 * kDrillBudgetBytes, config, kDrill);
  SegmentAllocator& allocator = *instance.allocator;
  const auto c = static_cast<std::size_t>(rng.below(kSizeClassCount));
  const std::size_t bytes = class_bytes(c);
  const std::size_t max_slices = kDrillBudgetBytes / bytes;
  const EpisodeCalls calls{stack, allocator, kDrill};
  std::vector<Segment> live;
  live.reserve(max_slices);
  for (std::size_t i = 0; i < max_slices; ++i) live.push_back(calls.allocate(bytes, "a slice filling the budget"));

  const std::size_t pass_locks =
      locks_taken(instance.clock, [&] { (void)allocator.free_unused_regions(config.budget_bytes - config.region_bytes); });
  Result<Segment> refused = Segment();
  const std::size_t refusal_locks = locks_taken(instance.clock, [&] { refused = allocator.allocate(bytes); });
  if (refused.ok() || refused.error().code != Errc::OutOfBudget) {
    stack.oracles.fail("allocation", fmt::format("{}: allocate({}) with the budget full of live slices answered {}; "
                                                 "OutOfBudget was due",
                                                 kDrill, bytes, outcome_text(refused, "a segment")));
  }
  // One pass and the growth's own few locks; a second pass would take the
  // pass's locks twice.
  if (refusal_locks >= 2 * pass_locks) {
    stack.oracles.fail("bounded-growth",
                       fmt::format("{}: a lone allocate({}) over a budget full of live slices took {} locks to refuse; "
                                   "one free_unused_regions pass takes {}: it made a pass no other thread called for",
                                   kDrill, bytes, refusal_locks, pass_locks));
  }
  for (const Segment& segment : live) calls.release(segment, "a slice of the full budget");
}

}  // namespace segsim::scenarios
