// content: every slot reads back what was last written to it, against the
// workload's shadow model.
#include <cstring>

#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"
#include "scenarios/oracles/zero_scan.h"

namespace segsim::scenarios {

void Oracles::check_content(std::uint64_t page_id, std::size_t slot, std::span<const std::byte> value,
                            const SlotShadow& expected, const std::byte* segment) {
  if (value.size() != expected.bytes) {
    fail("content", fmt::format("page {} slot {} reads {} bytes, {} were written", page_id, slot,
                                value.size(), expected.bytes),
         segment);
  }
  if (auto i = first_byte_other_than(value.data(), value.size(), std::byte{expected.fill})) {
    fail("content", fmt::format("page {} slot {} byte {} reads {:#04x}, {:#04x} was written", page_id, slot,
                                *i, static_cast<unsigned>(value[*i]), expected.fill),
         segment);
  }
}

}  // namespace segsim::scenarios
