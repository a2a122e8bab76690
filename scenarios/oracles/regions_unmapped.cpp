// regions-unmapped: free_unused_regions promises to return "regions
// unmapped". The allocator unmaps each region with one Os call on the calling
// thread, so the count must equal the unmaps SimOs performed for the calling
// fiber during the call — its own ledger, not the allocator's counters. An
// injected unmap failure never reaches SimOs: a region whose unmap failed
// (and stays mapped, queued for reuse) must not be counted.
#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

void Oracles::check_regions_unmapped(std::size_t reported, std::uint64_t unmapped_by_call) {
  if (reported != unmapped_by_call) {
    fail("regions-unmapped", fmt::format("free_unused_regions returned {} region(s) unmapped; SimOs unmapped {} for "
                                         "the call",
                                         reported, unmapped_by_call));
  }
}

}  // namespace segsim::scenarios
