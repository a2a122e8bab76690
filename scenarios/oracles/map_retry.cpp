// map-retry: segment_allocator.h promises "map → OutOfMemory": a map its Os
// refuses ends the allocation's attempt to grow — the call refuses with
// OutOfMemory, or serves from free slices the pool has by then (a forced slow
// path, or slices another thread gave back meanwhile). It never maps again:
// a retry would hide the Os's refusal and double the calls that fail under
// memory pressure. So, by the harness's ledger between the allocator and its
// Os (os_ledger.h), a call that saw a map of its own fail made no map after
// it: that failed map is the call's only failed one and its last.
//
// A call may still map twice when its first map succeeded (its cache's refill
// grew the class, and another fiber's reclaim emptied the cache before the
// hand-out: the pool serves and may grow again).
#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

OsLedger::FiberMaps Oracles::allocator_maps_of_current_fiber() const {
  return allocator_os_ == nullptr ? OsLedger::FiberMaps{} : allocator_os_->maps_of_current_fiber();
}

void Oracles::check_map_retry(const char* call, std::size_t requested_bytes, const OsLedger::FiberMaps& before,
                              const Result<Segment>& result) {
  if (allocator_os_ == nullptr) return;
  const OsLedger::FiberMaps after = allocator_os_->maps_of_current_fiber();
  const std::uint64_t failed = after.failed - before.failed;
  if (failed == 0) return;
  if (failed > 1 || !after.last_failed) {
    fail("map-retry", fmt::format("{}({}) mapped again after its Os refused a map: {} map(s) in the call, {} of them "
                                  "refused, the last one {}; the call {}",
                                  call, requested_bytes, after.maps - before.maps, failed,
                                  after.last_failed ? "refused" : "mapped",
                                  result.ok() ? "succeeded" : "refused with " + result.error().describe()));
  }
}

}  // namespace segsim::scenarios
