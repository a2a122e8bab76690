// use after release: in plain builds a released slice is filled with a canary
// and verified when handed out again — a write in between was a use after
// release. Under ASan the allocator poisons free slices instead, and reading
// them here would itself be reported, so the canary is off.
#include <cstring>

#include <fmt/format.h>

#include "core/asan.h"
#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

namespace {
constexpr std::uint64_t kSliceCanary = 0xdeadbeefcafef00dULL;
// Canary words at a stride: cheap, and any bulk write after release hits one.
constexpr std::size_t kSliceCanaryStrideBytes = 512;
}  // namespace

void Oracles::canary_fill(const Segment& segment) {
  if (asan::kEnabled) return;
  if (auto offset = os_.offset_of(segment.data())) canary_drop_epochs_[*offset] = os_.drop_epoch();
  for (std::size_t off = 0; off + sizeof kSliceCanary <= segment.size(); off += kSliceCanaryStrideBytes) {
    std::memcpy(segment.data() + off, &kSliceCanary, sizeof kSliceCanary);
  }
}

void Oracles::canary_verify(const Segment& segment) {
  if (asan::kEnabled) return;
  auto offset = os_.offset_of(segment.data());
  // Only slices this oracle filled: fresh ones read zero, not the canary.
  const SegmentEvent* last = offset ? history_.last(*offset) : nullptr;
  if (last == nullptr || last->what != "released") return;
  // A cleanup may have dropped the free slice's pages (madvise DONTNEED),
  // canary and all: then they are not resident, and there is nothing to check.
  // Any write after release made them resident again.
  const auto filled = canary_drop_epochs_.find(*offset);
  if (filled == canary_drop_epochs_.end()) return;
  if (os_.page_state_since(segment.data(), filled->second) != faults::PageState::Resident) return;
  for (std::size_t off = 0; off + sizeof kSliceCanary <= segment.size(); off += kSliceCanaryStrideBytes) {
    std::uint64_t word;
    std::memcpy(&word, segment.data() + off, sizeof word);
    if (word != kSliceCanary) {
      fail("use-after-release",
           fmt::format("released slice was written after release (byte offset {} of {} bytes)", off,
                       segment.size()),
           segment.data());
    }
  }
}

}  // namespace segsim::scenarios
