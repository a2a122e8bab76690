// large objects, content: every live object reads back the pattern last
// written into it (a lost object — decommitted, merged into a free range and
// handed out again — shows here).
//
// The pattern covers some pages of an object, not all: its first and last
// page and every kPatternStride-th page between. The other pages must read
// zero — nothing wrote them. Writing every page faulted each one in: on a
// paravirtualised VM (~13 us a fault, docs/benchmarks.md) that was two thirds
// of a pressure seed. Which pages between carry the pattern moves with each
// write (the phase comes from the write's fill byte, drawn per write), so over
// an object's writes and a sweep's seeds every page carries it at times: a bug
// that loses or overwrites a range of a live object shows whenever the range
// holds a patterned page, and the edges always are.
#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "scenarios/oracles/large_objects.h"
#include "scenarios/oracles/zero_scan.h"

namespace segsim::scenarios {

namespace {

constexpr std::size_t kPatternStride = 32;  // pages: a 2 MiB object gets 18 of its 512

// `first_page`: the object's first page's index in SimOs (its key / page
// size), so the phase is the object's own and not the grid's.
bool patterned(std::size_t page, std::size_t pages, std::uint64_t first_page, std::uint8_t fill) {
  return page == 0 || page + 1 == pages || (page + first_page + fill) % kPatternStride == 0;
}

}  // namespace

void LargeObjectChecks::write(std::uint64_t key, std::uint8_t fill) {
  LargeModelEntry& entry = live_.at(key);
  const std::size_t page_bytes = os_.page_size();
  const std::size_t pages = (entry.handle.size() + page_bytes - 1) / page_bytes;
  // The other pages are zeroed where they may hold data — an allocation
  // without zeroing hands out what a released object left, and the pages an
  // earlier write patterned hold its fill — which costs no fault: such a page
  // is resident already. (Large objects start on a granule, so on a page.)
  const std::optional<faults::SimOs::Residency> residency =
      page_aligned_residency(os_, entry.handle.data(), entry.handle.size());
  for (std::size_t page = 0; page < pages; ++page) {
    const std::size_t from = page * page_bytes;
    const std::size_t bytes = std::min(page_bytes, entry.handle.size() - from);
    if (patterned(page, pages, key / page_bytes, fill)) {
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
  const std::optional<faults::SimOs::Residency> residency = page_aligned_residency(os_, data, entry.handle.size());
  for (std::size_t page = 0; page < pages; ++page) {
    const std::size_t from = page * page_bytes;
    const std::size_t bytes = std::min(page_bytes, entry.handle.size() - from);
    const std::byte want{patterned(page, pages, key / page_bytes, entry.fill) ? entry.fill : std::uint8_t{0}};
    if (want == std::byte{0} && residency && residency->may_hold_data[page] == 0) continue;  // not resident: reads zero
    if (auto at = first_byte_other_than(data + from, bytes, want)) differs(from + *at, std::to_integer<std::uint8_t>(want));
  }
}

}  // namespace segsim::scenarios
