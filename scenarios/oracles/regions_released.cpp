// regions-released: release_unused_regions promises to return "regions
// released": each fully returned region of the class has its physical memory
// dropped with one DontNeed advise of its Os, on the calling thread, and is
// counted only when that advise succeeded (a failed one keeps it resident,
// counted as a madvise failure). So the count must equal the calling fiber's
// DontNeed advises that succeeded during the call, by the harness's ledger
// between the allocator and its Os (os_ledger.h) — not the allocator's
// counters.
#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

std::uint64_t Oracles::allocator_dont_needs_ok_by_current_fiber() const {
  return allocator_os_ == nullptr ? 0 : allocator_os_->dont_need_ok_by_current_fiber();
}

void Oracles::check_regions_released(std::size_t reported, std::uint64_t dropped_by_call) {
  if (allocator_os_ == nullptr) return;
  if (reported != dropped_by_call) {
    fail("regions-released", fmt::format("release_unused_regions returned {} region(s) released; its Os dropped the "
                                         "pages of {} for the call",
                                         reported, dropped_by_call));
  }
}

}  // namespace segsim::scenarios
