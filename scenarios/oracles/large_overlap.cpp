// large objects, overlap: no two live large objects share bytes.
#include <fmt/format.h>

#include "scenarios/oracles/large_objects.h"

namespace segsim::scenarios {

void LargeObjectChecks::overlap_insert(const LargeObject& object) {
  const std::uint64_t begin = offset_of(object);
  const std::uint64_t end = begin + object.size();
  auto next = ranges_.lower_bound(begin);
  if (next != ranges_.end() && next->first < end) {
    oracles_.fail("overlap", fmt::format("new large object [{:#x}, {:#x}) overlaps the live one at {:#x}", begin, end,
                                         next->first), object.data());
  }
  if (next != ranges_.begin() && std::prev(next)->second > begin) {
    oracles_.fail("overlap", fmt::format("new large object [{:#x}, {:#x}) overlaps the live one at {:#x}", begin, end,
                                         std::prev(next)->first), object.data());
  }
  ranges_.emplace(begin, end);
}

void LargeObjectChecks::overlap_erase(const LargeObject& object) { ranges_.erase(offset_of(object)); }

}  // namespace segsim::scenarios
