// overlap: two live segments never share bytes.
#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

void Oracles::overlap_insert(const Segment& segment) {
  auto offset = os_.offset_of(segment.data());
  if (!offset) return;
  const std::uint64_t begin = *offset;
  const std::uint64_t end = begin + segment.size();
  auto next = live_.lower_bound(begin);
  if (next != live_.end() && next->first < end) {
    fail("overlap", fmt::format("new segment [{:#x}, {:#x}) overlaps live segment at {:#x}", begin, end,
                                next->first),
         segment.data());
  }
  if (next != live_.begin() && std::prev(next)->second > begin) {
    fail("overlap", fmt::format("new segment [{:#x}, {:#x}) overlaps live segment at {:#x}", begin, end,
                                std::prev(next)->first),
         segment.data());
  }
  live_.emplace(begin, end);
}

void Oracles::overlap_erase(const Segment& segment) {
  if (auto offset = os_.offset_of(segment.data())) live_.erase(*offset);
}

}  // namespace segsim::scenarios
