// zero-on-allocate: a segment handed out by allocate() reads all zero — also
// after injected madvise failures (the memset fallback must have run).
#include <cstring>

#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

void Oracles::check_zeroed(const Segment& segment) {
  // Word by word over the whole segment: at most 256 KiB, fine in simulation.
  const std::size_t words = segment.size() / sizeof(std::uint64_t);
  for (std::size_t i = 0; i < words; ++i) {
    std::uint64_t word;
    std::memcpy(&word, segment.data() + i * sizeof word, sizeof word);
    if (word != 0) {
      fail("zero-on-allocate",
           fmt::format("fresh segment of {} bytes is not zero at byte {}", segment.size(), i * sizeof word),
           segment.data());
    }
  }
}

}  // namespace segsim::scenarios
