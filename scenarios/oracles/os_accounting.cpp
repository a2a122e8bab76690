// os-accounting: the allocator's counters of what it asked of the Os — regions
// mapped and unmapped, zeroing resets by madvise and regions released, and the
// failures of each — are what the harness's ledger between the allocator and
// its Os (os_ledger.h) saw, exactly. The same promise the property model
// checks against ScriptedOs (property/allocator_model.cpp,
// check_os_accounting), here under the scenarios' schedules and faults. A
// counter bumped twice, skipped, or bumped for a call that failed shows here,
// however quietly the stack carried on.
//
// At quiescence only, and only with no cleanup running: a counter is bumped
// after its Os call returns, so mid-run a fiber may sit between the two.
#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

void Oracles::check_os_accounting() {
  if (allocator_ == nullptr || allocator_os_ == nullptr) return;
  const AllocatorStats stats = allocator_->stats();
  if (stats.cleanups_started() != stats.cleanups_finished()) return;  // a cleanup still runs: nothing exact to say
  const OsLedger& os = *allocator_os_;
  struct Expectation {
    const char* what;
    std::uint64_t counted;
    std::uint64_t asked;
  };
  const Expectation expectations[] = {
      {"regions_mapped vs successful maps", stats.regions_mapped, os.maps_ok},
      {"map_failures vs failed maps", stats.map_failures, os.maps_failed},
      {"regions_unmapped vs successful unmaps", stats.regions_unmapped, os.unmaps_ok},
      {"unmap_failures vs failed unmaps", stats.unmap_failures, os.unmaps_failed},
      {"resets_madvise + regions_released vs successful DontNeed advises", stats.resets_madvise + stats.regions_released,
       os.dont_need_ok},
      {"madvise_failures vs failed DontNeed advises", stats.madvise_failures, os.dont_need_failed},
      {"advises other than DontNeed", 0, os.other_advises},
      {"unmaps of a range that is not one of its live mappings", 0, os.unmaps_not_mapped},
  };
  // Its peak counts reservations too (made before the map; a failed map gives
  // one back): at least the most its Os ever had mapped for it.
  if (stats.peak_virtual_bytes < os.peak_mapped_bytes) {
    fail("os-accounting", fmt::format("allocator stats: peak_virtual_bytes is {}; its Os had {} bytes mapped for it",
                                      stats.peak_virtual_bytes, os.peak_mapped_bytes));
  }
  for (const Expectation& e : expectations) {
    if (e.counted != e.asked) {
      fail("os-accounting", fmt::format("allocator stats: {}: the allocator counts {}, it asked its Os {}", e.what,
                                        e.counted, e.asked));
    }
  }
}

}  // namespace segsim::scenarios
