// large objects, zero-on-allocate: allocate() hands out zeroes — fresh spans,
// reused dirty ranges (memset), decommitted ranges, and ranges whose
// decommit failed (they must not be assumed zero).
#include <cstring>

#include <fmt/format.h>

#include "scenarios/oracles/large_objects.h"

namespace segsim::scenarios {

void LargeObjectChecks::check_zeroed(const LargeObject& object) {
  const std::size_t words = object.size() / sizeof(std::uint64_t);
  for (std::size_t i = 0; i < words; ++i) {
    std::uint64_t word;
    std::memcpy(&word, object.data() + i * sizeof word, sizeof word);
    if (word != 0) {
      oracles_.fail("zero-on-allocate", fmt::format("fresh large object of {} bytes is not zero at byte {}",
                                                    object.size(), i * sizeof word),
                    object.data());
    }
  }
}

}  // namespace segsim::scenarios
