// overlap: two live segments never share bytes.
#include "scenarios/oracles/overlap.h"

#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

std::string OverlapChecker::insert(std::uint64_t begin, std::uint64_t end) {
  auto next = live_.lower_bound(begin);
  if (next != live_.end() && next->first < end) {
    return fmt::format("new segment [{:#x}, {:#x}) overlaps live segment at {:#x}", begin, end, next->first);
  }
  if (next != live_.begin() && std::prev(next)->second > begin) {
    return fmt::format("new segment [{:#x}, {:#x}) overlaps live segment at {:#x}", begin, end,
                       std::prev(next)->first);
  }
  live_.emplace(begin, end);
  return {};
}

void Oracles::overlap_insert(const Segment& segment) {
  auto offset = os_.offset_of(segment.data());
  if (!offset) return;
  const std::string verdict = overlap_.insert(*offset, *offset + segment.size());
  if (!verdict.empty()) fail("overlap", verdict, segment.data());
}

void Oracles::overlap_erase(const Segment& segment) {
  if (auto offset = os_.offset_of(segment.data())) overlap_.erase(*offset);
}

}  // namespace segsim::scenarios
