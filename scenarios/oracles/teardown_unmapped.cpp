// teardown-unmapped: a component's destructor gives every mapping it still
// has back to its Os — one unmap each, of that whole mapping, nothing else —
// and a mapping is left behind only where that unmap failed (leaked, counted:
// there is no caller to hand the error to). Judged from the harness's ledger
// between the component and its Os (os_ledger.h), taken just before the
// destructor and read after it: a destructor that skips a mapping, unmaps one
// twice or hands the Os a range it never mapped shows here, and in nothing
// else — every other oracle is done by then. The run's segment allocator
// (run.cpp), the decommit-policy episode's large-object allocator, and the
// teardown drill's segment allocator destroyed with a cleanup in flight
// (workloads/teardown_drill.h), whose release must come before any unmap.
#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

std::string teardown_unmapped_problem(const char* destructor, const char* mappings, const OsLedger& before,
                                      const OsLedger& after) {
  const std::uint64_t maps = after.maps_ok + after.maps_failed - before.maps_ok - before.maps_failed;
  const std::uint64_t tried = after.unmaps_ok + after.unmaps_failed - before.unmaps_ok - before.unmaps_failed;
  const std::uint64_t failed = after.unmaps_failed - before.unmaps_failed;
  const std::uint64_t strays = after.unmaps_not_mapped - before.unmaps_not_mapped;
  const std::size_t mapped_before = before.live_mappings.size();
  const std::size_t left = after.live_mappings.size();
  const std::uint64_t advised = after.dont_need_ok + after.dont_need_failed - before.dont_need_ok - before.dont_need_failed;
  if (advised != 0 && after.unmaps_before_last_dont_need > before.unmaps_ok + before.unmaps_failed) {
    return fmt::format("{} let a DontNeed advise come after its first unmap: a cleanup still ran while it tore its "
                       "{} down",
                       destructor, mappings);
  }
  if (maps == 0 && strays == 0 && tried == mapped_before && left == failed) return "";
  return fmt::format("{} with {} {} mapped made {} map(s) and {} unmap(s) ({} failed, {} of a range that was not "
                     "one of its mappings) and left {} mapping(s) behind",
                     destructor, mapped_before, mappings, maps, tried, failed, strays, left);
}

void Oracles::check_teardown_unmapped(const OsLedger& before) {
  allocator_ = nullptr;  // destroyed: nothing may ask it again
  if (allocator_os_ == nullptr) return;
  if (std::string problem = teardown_unmapped_problem("~SegmentAllocator", "region(s)", before, *allocator_os_);
      !problem.empty()) {
    report("teardown-unmapped", problem);
  }
}

}  // namespace segsim::scenarios
