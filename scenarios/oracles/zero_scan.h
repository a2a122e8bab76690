// The first non-zero byte of a range (word by word), for the zero-on-allocate oracles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

namespace segsim::scenarios {

inline std::optional<std::size_t> first_nonzero_word(const std::byte* data, std::size_t bytes) {
  for (std::size_t i = 0; i + sizeof(std::uint64_t) <= bytes; i += sizeof(std::uint64_t)) {
    std::uint64_t word;
    std::memcpy(&word, data + i, sizeof word);
    if (word != 0) return i;
  }
  return std::nullopt;
}

}  // namespace segsim::scenarios
