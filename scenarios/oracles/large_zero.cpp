// large objects, zero-on-allocate: allocate() hands out zeroes — fresh spans,
// reused dirty ranges (memset), decommitted ranges, and ranges whose
// decommit failed (they must not be assumed zero).
#include <fmt/format.h>

#include "scenarios/oracles/large_objects.h"
#include "scenarios/oracles/zero_scan.h"

namespace segsim::scenarios {

void LargeObjectChecks::check_zeroed(const LargeObject& object) {
  if (auto at = first_nonzero_word(os_, object.data(), object.size())) {
    oracles_.fail("zero-on-allocate", fmt::format("fresh large object of {} bytes is not zero at byte {}", object.size(), *at),
                  object.data());
  }
}

}  // namespace segsim::scenarios
