// teardown-unmapped: the segment allocator's destructor gives every region it
// still has mapped back to its Os — one unmap each, of that region's whole
// mapping, nothing else — and a mapping is left behind only where that unmap
// failed (leaked, counted: there is no caller to hand the error to). Judged
// from the harness's ledger between the allocator and its Os (os_ledger.h),
// taken just before the destructor and read after it: a destructor that
// skips a region, unmaps one twice or hands the Os a range it never mapped
// shows here, and in nothing else — every other oracle is done by then.
#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

void Oracles::check_teardown_unmapped(const OsLedger& before) {
  allocator_ = nullptr;  // destroyed: nothing may ask it again
  if (allocator_os_ == nullptr) return;
  const OsLedger& after = *allocator_os_;
  const std::uint64_t maps = after.maps_ok + after.maps_failed - before.maps_ok - before.maps_failed;
  const std::uint64_t tried = after.unmaps_ok + after.unmaps_failed - before.unmaps_ok - before.unmaps_failed;
  const std::uint64_t failed = after.unmaps_failed - before.unmaps_failed;
  const std::uint64_t strays = after.unmaps_not_mapped - before.unmaps_not_mapped;
  const std::size_t mapped_before = before.live_mappings.size();
  const std::size_t left = after.live_mappings.size();
  if (maps != 0 || strays != 0 || tried != mapped_before || left != failed) {
    report("teardown-unmapped",
           fmt::format("~SegmentAllocator with {} region(s) mapped made {} map(s) and {} unmap(s) ({} failed, {} of a "
                       "range that was not one of its mappings) and left {} mapping(s) behind",
                       mapped_before, maps, tried, failed, strays, left));
  }
}

}  // namespace segsim::scenarios
