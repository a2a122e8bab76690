// zero-on-allocate: a segment handed out by allocate() reads all zero — also
// after injected madvise failures (the memset fallback must have run).
#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"
#include "scenarios/oracles/zero_scan.h"

namespace segsim::scenarios {

void Oracles::check_zeroed(const Segment& segment) {
  // Word by word over the whole segment: at most 256 KiB, fine in simulation.
  if (auto at = first_nonzero_word(os_, segment.data(), segment.size())) {
    fail("zero-on-allocate", fmt::format("fresh segment of {} bytes is not zero at byte {}", segment.size(), *at),
         segment.data());
  }
}

}  // namespace segsim::scenarios
