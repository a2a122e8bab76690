// regions-unmapped: free_unused_regions promises to return "regions
// unmapped". The allocator unmaps each region with one Os call on the calling
// thread, so the count must equal the unmaps SimOs performed for the calling
// fiber during the call — its own ledger, not the allocator's counters. An
// injected unmap failure never reaches SimOs: a region whose unmap failed
// (and stays mapped, queued for reuse) must not be counted.
// And no more than the target asks: unmapping stops once virtual bytes are
// at most the target, so the call unmaps at most the regions that covered
// the excess when it began, plus one for each map (by anyone) since — each
// may have added a region to cover (RegionsUnmappedCall).
#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

void Oracles::check_regions_unmapped(const RegionsUnmappedCall& call) {
  if (call.reported != call.unmapped_by_call) {
    fail("regions-unmapped", fmt::format("free_unused_regions returned {} region(s) unmapped; SimOs unmapped {} for "
                                         "the call",
                                         call.reported, call.unmapped_by_call));
  }
  SEGSIM_ASSERT(call.region_bytes > 0, "regions have a size");
  const std::size_t excess = call.virtual_before > call.target_bytes ? call.virtual_before - call.target_bytes : 0;
  const std::uint64_t due_at_most = (excess + call.region_bytes - 1) / call.region_bytes + call.maps_meanwhile;
  if (call.unmapped_by_call > due_at_most) {
    fail("regions-unmapped", fmt::format("free_unused_regions({}) unmapped {} regions of {} B with {} B mapped before "
                                         "it and {} maps since: {} reach the target",
                                         call.target_bytes, call.unmapped_by_call, call.region_bytes,
                                         call.virtual_before, call.maps_meanwhile, due_at_most));
  }
}

}  // namespace segsim::scenarios
