// large objects, content: every live object reads back the pattern last
// written into it (a lost object — decommitted, merged into a free range and
// handed out again — shows here).
//
// The pattern covers some pages of an object, not all: its first and last
// page and every kPatternStride-th page between (the phase from the object's
// SimOs offset, so it is the same pages for the object's whole life). The
// other pages must read zero — nothing wrote them. Writing every page faulted
// each one in: on a paravirtualised VM (~13 us a fault, docs/benchmarks.md)
// that was two thirds of a pressure seed. A bug that loses or overwrites a
// range of an object reaches its first or last page, or a patterned page
// within kPatternStride pages; one that only zeroes unpatterned pages goes unseen.
#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "scenarios/oracles/large_objects.h"
#include "scenarios/oracles/zero_scan.h"

namespace segsim::scenarios {

namespace {

constexpr std::size_t kPatternStride = 32;  // pages: a 2 MiB object gets 18 of its 512

// `first_page`: the object's first page's index in SimOs (its key / page size).
bool patterned(std::size_t page, std::size_t pages, std::uint64_t first_page) {
  return page == 0 || page + 1 == pages || (page + first_page) % kPatternStride == 0;
}

}  // namespace

void LargeObjectChecks::write(std::uint64_t key, std::uint8_t fill) {
  LargeModelEntry& entry = live_.at(key);
  const std::size_t page_bytes = os_.page_size();
  const std::size_t pages = (entry.handle.size() + page_bytes - 1) / page_bytes;
  // The other pages are zeroed where they may hold data — an allocation
  // without zeroing hands out what a released object left — which costs no
  // fault: such a page is resident already. (Large objects start on a granule,
// which is page-aligned.)
  std::optional<faults::SimOs::Residency> residency = os_.residency(entry.handle.data(), entry.handle.size());
  if (residency && residency->first_page != entry.handle.data()) residency.reset();  // not page-aligned: zero them all
  for (std::size_t page = 0; page < pages; ++page) {
    const std::size_t from = page * page_bytes;
    const std::size_t bytes = std::min(page_bytes, entry.handle.size() - from);
    if (patterned(page, pages, key / page_bytes)) {
      std::memset(entry.handle.data() + from, fill, bytes);
    } else if (!residency || residency->may_hold_data[page] != 0) {
      std::memset(entry.handle.data() + from, 0, bytes);
    }
  }
  entry.fill = fill;
}

void LargeObjectChecks::verify(std::uint64_t key, const char* when) {
  const LargeModelEntry& entry = live_.at(key);
  const std::byte* data = entry.handle.data();
  const std::size_t page_bytes = os_.page_size();
  const std::size_t pages = (entry.handle.size() + page_bytes - 1) / page_bytes;
  auto differs = [&](std::size_t at, std::uint8_t want) {
    std::uint8_t got;
    std::memcpy(&got, data + at, 1);
    oracles_.fail("content", fmt::format("large object of {} bytes {}: byte {} reads {:#04x}, wrote {:#04x}",
                                         entry.handle.size(), when, at, got, want),
                  data);
  };
  std::optional<faults::SimOs::Residency> residency = os_.residency(data, entry.handle.size());
  if (residency && residency->first_page != data) residency.reset();  // not page-aligned: read every page
  for (std::size_t page = 0; page < pages; ++page) {
    const std::size_t from = page * page_bytes;
    const std::size_t bytes = std::min(page_bytes, entry.handle.size() - from);
    if (patterned(page, pages, key / page_bytes)) {
      if (auto at = first_byte_other_than(data + from, bytes, std::byte{entry.fill})) differs(from + *at, entry.fill);
    } else if (residency && residency->may_hold_data[page] == 0) {
      continue;  // not resident: reads zero
    } else if (auto at = first_nonzero_word(data + from, bytes)) {
      const std::size_t word = from + *at;
      std::size_t byte = word;
      while (data[byte] == std::byte{0}) ++byte;  // the word holds a non-zero byte
      differs(byte, 0);
    }
  }
}

}  // namespace segsim::scenarios
