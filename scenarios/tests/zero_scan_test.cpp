// The oracles' word-at-a-time scans agree with a plain byte loop: the first
// byte other than a fill, at every length and position (word boundaries,
// tails shorter than a word, no mismatch at all).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstddef>
#include <optional>
#include <vector>

#include "scenarios/oracles/zero_scan.h"

namespace segsim::scenarios {
namespace {

std::optional<std::size_t> byte_loop(const std::vector<std::byte>& data, std::byte fill) {
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (data[i] != fill) return i;
  }
  return std::nullopt;
}

TEST(ZeroScan, FirstByteOtherThanFindsEachPositionAtEachLength) {
  for (std::size_t length = 0; length <= 40; ++length) {
    std::vector<std::byte> data(length, std::byte{0x5a});
    EXPECT_EQ(first_byte_other_than(data.data(), length, std::byte{0x5a}), std::nullopt) << length;
    for (std::size_t at = 0; at < length; ++at) {
      data[at] = std::byte{0x5b};
      EXPECT_EQ(first_byte_other_than(data.data(), length, std::byte{0x5a}), at) << length << " " << at;
      data[at] = std::byte{0x5a};
    }
  }
}

RC_GTEST_PROP(ZeroScan, FirstByteOtherThanMatchesAByteLoop, (std::vector<std::uint8_t> raw, std::uint8_t fill)) {
  // Mostly fill bytes, so the first difference can lie anywhere.
  std::vector<std::byte> data;
  for (std::uint8_t b : raw) data.push_back(std::byte{b % 8 == 0 ? b : fill});
  const std::size_t offset = *rc::gen::inRange<std::size_t>(0, data.size() + 1);  // unaligned starts too
  std::vector<std::byte> tail(data.begin() + static_cast<std::ptrdiff_t>(offset), data.end());
  RC_ASSERT(first_byte_other_than(data.data() + offset, tail.size(), std::byte{fill}) ==
            byte_loop(tail, std::byte{fill}));
}

}  // namespace
}  // namespace segsim::scenarios
