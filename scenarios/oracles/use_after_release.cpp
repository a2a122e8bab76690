// use after release: in plain builds a released slice is filled with a canary
// and verified when handed out again — a write in between was a use after
// release. Under ASan the allocator poisons free slices instead, and reading
// them here would itself be reported, so the canary is off.
#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "core/asan.h"
#include "scenarios/oracles/oracles.h"
#include "scenarios/oracles/zero_scan.h"

namespace segsim::scenarios {

namespace {
constexpr std::uint64_t kSliceCanary = 0xdeadbeefcafef00dULL;
// Canary words at a stride: cheap, and any bulk write after release hits one.
constexpr std::size_t kSliceCanaryStrideBytes = 512;

std::size_t page_of(const faults::SimOs::Residency& residency, const std::byte* address) {
  return static_cast<std::size_t>(address - residency.first_page) / residency.page_bytes;
}

}  // namespace

void Oracles::written_after_release(const Segment& segment, std::size_t offset) {
  fail("use-after-release",
       fmt::format("released slice was written after release (byte offset {} of {} bytes)", offset, segment.size()),
       segment.data());
}

// A page of the slice that is not resident reads zero (SimOs::residency):
// it gets no canary — writing one would fault the page in, the main cost of
// a leak-soak seed — and must still read zero when the slice is handed out.
void Oracles::canary_fill(const Segment& segment) {
  if (asan::kEnabled) return;
  auto offset = os_.offset_of(segment.data());
  std::optional<faults::SimOs::Residency> filled = os_.residency(segment.data(), segment.size());
  for (std::size_t off = 0; off + sizeof kSliceCanary <= segment.size(); off += kSliceCanaryStrideBytes) {
    if (filled && filled->may_hold_data[page_of(*filled, segment.data() + off)] == 0) continue;
    std::memcpy(segment.data() + off, &kSliceCanary, sizeof kSliceCanary);
  }
  if (offset) canary_fills_[*offset] = CanaryFill{os_.drop_epoch(), std::move(filled)};
}

void Oracles::canary_verify(const Segment& segment) {
  if (asan::kEnabled) return;
  auto offset = os_.offset_of(segment.data());
  // Only slices this oracle filled: fresh ones read zero, not the canary.
  const SegmentEvent* last = offset ? history_.last(*offset) : nullptr;
  if (last == nullptr || last->what != "released") return;
  const auto fill = canary_fills_.find(*offset);
  if (fill == canary_fills_.end()) return;
  auto check_canaries = [&](std::size_t from, std::size_t to) {  // the canary words in [from, to)
    for (std::size_t word = (from + kSliceCanaryStrideBytes - 1) / kSliceCanaryStrideBytes * kSliceCanaryStrideBytes;
         word < to && word + sizeof kSliceCanary <= segment.size(); word += kSliceCanaryStrideBytes) {
      std::uint64_t value;
      std::memcpy(&value, segment.data() + word, sizeof value);
      if (value != kSliceCanary) written_after_release(segment, word);
    }
  };
  const std::optional<faults::SimOs::Residency>& filled = fill->second.filled;
  if (!filled) {
    // Every page got the canary. A cleanup may have dropped the free slice's
    // pages (madvise DONTNEED), canary and all: then they are not resident,
    // and there is nothing to check. Any write after release made them
    // resident again.
    if (os_.page_state_since(segment.data(), fill->second.drop_epoch) != faults::PageState::Resident) return;
    check_canaries(0, segment.size());
    return;
  }
  // Page by page, with one question to the kernel: a page not resident now
  // reads zero — dropped since, or never touched — and nobody wrote it. A
  // resident page that got the canary must still hold it (dropped and
  // touched again, it does not); one that did not must read zero.
  const std::optional<faults::SimOs::Residency> now = os_.residency(segment.data(), segment.size());
  const std::size_t page_bytes = os_.page_size();
  for (std::size_t off = 0; off < segment.size();) {
    const std::byte* at = segment.data() + off;
    const std::size_t end = std::min(segment.size(), off + page_bytes - static_cast<std::size_t>(
                                                                          reinterpret_cast<std::uintptr_t>(at) % page_bytes));
    const bool resident = now ? now->may_hold_data[page_of(*now, at)] != 0
                              : os_.page_state_since(at, fill->second.drop_epoch) == faults::PageState::Resident;
    if (resident && filled->may_hold_data[page_of(*filled, at)] != 0) {
      check_canaries(off, end);
    } else if (resident) {
      // No canary here: any byte written since reads non-zero (or faulted
      // the page in with zeroes — that write goes unseen, and changed nothing).
      if (auto nonzero = first_nonzero_word(at, end - off)) written_after_release(segment, off + *nonzero);
    }
    off = end;
  }
}

}  // namespace segsim::scenarios
