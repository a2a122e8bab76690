// content: every slot reads back what was last written to it, against the
// workload's shadow model.
#include <cstring>

#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

void Oracles::check_content(std::uint64_t page_id, std::size_t slot, std::span<const std::byte> value,
                            const SlotShadow& expected, const std::byte* segment) {
  if (value.size() != expected.bytes) {
    fail("content", fmt::format("page {} slot {} reads {} bytes, {} were written", page_id, slot,
                                value.size(), expected.bytes),
         segment);
  }
  // Byte 0 right and each byte equal to the next: all right, at memcmp
  // speed (the fuzzers verify whole pages after every call).
  if (value.empty() || (value[0] == std::byte{expected.fill} &&
                        std::memcmp(value.data(), value.data() + 1, value.size() - 1) == 0)) {
    return;
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != std::byte{expected.fill}) {
      fail("content", fmt::format("page {} slot {} byte {} reads {:#04x}, {:#04x} was written", page_id, slot,
                                  i, static_cast<unsigned>(value[i]), expected.fill),
           segment);
    }
  }
}

}  // namespace segsim::scenarios
