// observer-calls: SegmentObserver's after-call hooks are told of each call
// once, about the handle of the call ("after the call, outside the
// allocator's locks: a live segment was reset, or a release / reset was
// refused"). The hub counts what it hears by the fiber that made the call,
// so other fibers' calls in between (a call may yield) are not counted; a
// workload reads the count before a call and checks it after.
#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"
#include "scenarios/oracles/sim_now.h"

namespace segsim::scenarios {

void Oracles::note_heard(const Segment& segment, bool refusal) {
  HeardCalls& heard = heard_by_fiber_[fiber_now()];
  ++(refusal ? heard.refusals : heard.resets);
  heard.last_data = segment.data();
  heard.last_generation = segment.generation();
}

Oracles::HeardCalls Oracles::heard_by_current_fiber() const {
  auto it = heard_by_fiber_.find(fiber_now());
  return it == heard_by_fiber_.end() ? HeardCalls{} : it->second;
}

void Oracles::check_heard(const char* call, const Segment& segment, const Status& status, const HeardCalls& before) {
  const HeardCalls after = heard_by_current_fiber();
  const std::uint64_t resets = after.resets - before.resets, refusals = after.refusals - before.refusals;
  const bool reset_ok = status.ok() && std::string_view(call) == "reset";
  const std::uint64_t resets_due = reset_ok ? 1 : 0, refusals_due = status.ok() ? 0 : 1;
  const bool about_it = resets + refusals == 0 ||
                        (after.last_data == segment.data() && after.last_generation == segment.generation());
  if (resets == resets_due && refusals == refusals_due && about_it) return;
  fail("observer-calls",
       fmt::format("{} {}: the observer heard {} reset(s) and {} refusal(s) from the call{}; {} and {} due", call,
                   status.ok() ? "succeeded" : "refused", resets, refusals,
                   about_it ? "" : " about another handle", resets_due, refusals_due),
       segment.data());
}

}  // namespace segsim::scenarios
