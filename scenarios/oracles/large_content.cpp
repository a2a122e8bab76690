// large objects, content: every live object reads back the pattern last
// written into it (a lost object — decommitted, merged into a free range and
// handed out again — shows here).
#include <cstring>

#include <fmt/format.h>

#include "scenarios/oracles/large_objects.h"

namespace segsim::scenarios {

void LargeObjectChecks::write(std::uint64_t key, std::uint8_t fill) {
  LargeModelEntry& entry = live_.at(key);
  std::memset(entry.handle.data(), fill, entry.handle.size());
  entry.fill = fill;
}

void LargeObjectChecks::verify(std::uint64_t key, const char* when) {
  const LargeModelEntry& entry = live_.at(key);
  const std::byte* data = entry.handle.data();
  const std::uint64_t want = 0x0101010101010101ULL * entry.fill;
  for (std::size_t i = 0; i < entry.handle.size(); i += sizeof(std::uint64_t)) {
    std::uint64_t word;
    std::memcpy(&word, data + i, sizeof word);
    if (word != want) {
      oracles_.fail("content", fmt::format("large object of {} bytes {}: byte {} reads {:#018x}, wrote {:#04x}",
                                           entry.handle.size(), when, i, word, entry.fill),
                    data);
    }
  }
}

}  // namespace segsim::scenarios
