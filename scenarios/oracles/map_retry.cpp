// map-retry: a component promises that its Os's refused map ends the call's
// growth (segment_allocator.h, "map → OutOfMemory": the call refuses, or serves
// from free slices the pool has by then; large_object_allocator.h: "a failed
// map is OutOfMemory"). It never maps again: a retry would hide the Os's
// refusal and double the calls that fail under memory pressure. So, by the
// harness's ledger between the component and its Os (os_ledger.h), a call that
// saw a map of its own fail made no map after it: that failed map is the
// call's only failed one and its last.
//
// A segment allocation may still map twice when its first map succeeded (its
// cache's refill grew the class, and another fiber's reclaim emptied the cache
// before the hand-out: the pool serves and may grow again).
#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

std::string map_retry_problem(const std::string& call, const OsLedger::FiberMaps& before,
                              const OsLedger::FiberMaps& after) {
  const std::uint64_t failed = after.failed - before.failed;
  if (failed == 0 || (failed == 1 && after.last_failed)) return {};
  return fmt::format("{} mapped again after its Os refused a map: {} map(s) in the call, {} of them refused, the "
                     "last one {}",
                     call, after.maps - before.maps, failed, after.last_failed ? "refused" : "mapped");
}

OsLedger::FiberMaps Oracles::allocator_maps_of_current_fiber() const {
  return allocator_os_ == nullptr ? OsLedger::FiberMaps{} : allocator_os_->maps_of_current_fiber();
}

void Oracles::check_map_retry(const char* call, std::size_t requested_bytes, const OsLedger::FiberMaps& before,
                              const Result<Segment>& result) {
  if (allocator_os_ == nullptr) return;
  std::string problem = map_retry_problem(fmt::format("{}({})", call, requested_bytes), before,
                                          allocator_os_->maps_of_current_fiber());
  if (problem.empty()) return;
  fail("map-retry", problem + (result.ok() ? "; the call succeeded" : "; the call refused with " + result.error().describe()));
}

}  // namespace segsim::scenarios
