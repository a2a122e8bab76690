// Word-by-word scans of a range: the first non-zero word (zero-on-allocate
// oracles) and the first byte other than a fill (the content oracle).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <algorithm>
#include <optional>

#include "faults/sim_os.h"

namespace segsim::scenarios {

inline std::optional<std::size_t> first_nonzero_word(const std::byte* data, std::size_t bytes) {
  for (std::size_t i = 0; i + sizeof(std::uint64_t) <= bytes; i += sizeof(std::uint64_t)) {
    std::uint64_t word;
    std::memcpy(&word, data + i, sizeof word);
    if (word != 0) return i;
  }
  return std::nullopt;
}

// SimOs::residency of a range that starts on a page, so that flag i is the
// range's own page i; none when SimOs cannot answer or the range is not
// page-aligned (then every page must be read).
inline std::optional<faults::SimOs::Residency> page_aligned_residency(const faults::SimOs& os, const std::byte* data,
                                                                      std::size_t bytes) {
  std::optional<faults::SimOs::Residency> residency = os.residency(data, bytes);
  if (residency && residency->first_page != data) residency.reset();
  return residency;
}

// first_nonzero_word over the pages that may hold data only (SimOs::residency):
// the same answer without faulting in pages that read zero anyway.
inline std::optional<std::size_t> first_nonzero_word(const faults::SimOs& os, const std::byte* data, std::size_t bytes) {
  const std::optional<faults::SimOs::Residency> residency = os.residency(data, bytes);
  if (!residency) return first_nonzero_word(data, bytes);
  const std::size_t page_bytes = os.page_size();
  for (std::size_t page = 0; page < residency->may_hold_data.size(); ++page) {
    if (residency->may_hold_data[page] == 0) continue;
    const std::byte* page_begin = residency->first_page + page * page_bytes;
    // Words on the grid of `data`, from the one holding the page's first byte.
    const std::size_t from = page_begin <= data ? 0 : static_cast<std::size_t>(page_begin - data) / sizeof(std::uint64_t) * sizeof(std::uint64_t);
    // ...to the one holding its last byte (an unaligned range: a word may
    // straddle two pages; it is read in both turns).
    const std::size_t page_end = static_cast<std::size_t>(page_begin + page_bytes - data);
    const std::size_t to = std::min(bytes, (page_end + sizeof(std::uint64_t) - 1) / sizeof(std::uint64_t) * sizeof(std::uint64_t));
    if (auto at = first_nonzero_word(data + from, to - from)) return from + *at;
  }
  return std::nullopt;
}

// The index of the first byte that is not `fill`: a word at a time, then the
// bytes of the first word that differs (a byte loop that may fail on every
// byte does not vectorise; it was 44 % of a chicago run's instructions).
// The common answer, every byte right, comes first from glibc's vectorised
// memcmp of the range against itself shifted by one byte (every byte equals
// the first): several times fewer instructions than the word loop.
inline std::optional<std::size_t> first_byte_other_than(const std::byte* data, std::size_t bytes, std::byte fill) {
  if (bytes == 0 || (data[0] == fill && std::memcmp(data, data + 1, bytes - 1) == 0)) return std::nullopt;
  const std::uint64_t pattern = 0x0101010101010101ULL * static_cast<std::uint8_t>(fill);
  std::size_t i = 0;
  for (; i + sizeof(std::uint64_t) <= bytes; i += sizeof(std::uint64_t)) {
    std::uint64_t word;
    std::memcpy(&word, data + i, sizeof word);
    if (word != pattern) break;
  }
  for (; i < bytes; ++i) {
    if (data[i] != fill) return i;
  }
  return std::nullopt;
}

}  // namespace segsim::scenarios
