// zeroing-method: SegmentAllocatorConfig::reset_madvise_min_bytes promises
// that zeroing uses madvise(DONTNEED) for slices of at least that many bytes
// and memset below. A reset of a live segment therefore asks its Os for
// exactly one DontNeed advise over the slice when the slice is that large
// (whether the advise then succeeds or falls back to memset), and none when it
// is smaller. Read from the harness's Os ledger (os_ledger.h), by the calling
// fiber, around the call: another fiber's advises in between are not counted.
// The counters' side (resets_madvise, madvise_failures) is os-accounting's;
// resets_memset must count at least the resets below the threshold that the
// observer heard of (it also counts allocations' zeroings, not modelled).
#include <fmt/format.h>

#include "core/size_class.h"
#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

std::uint64_t Oracles::allocator_dont_needs_by_current_fiber() const {
  return allocator_os_ == nullptr ? 0 : allocator_os_->dont_need_by_current_fiber();
}

void Oracles::check_reset_zeroing(std::size_t slice_bytes, std::uint64_t dont_needs_during_reset) {
  if (allocator_ == nullptr || allocator_os_ == nullptr) return;
  const std::size_t madvise_min_bytes = allocator_->config().reset_madvise_min_bytes;
  const std::uint64_t due = slice_bytes >= madvise_min_bytes ? 1 : 0;
  if (dont_needs_during_reset != due) {
    fail("zeroing-method",
         fmt::format("reset of a {} B segment (reset_madvise_min_bytes {}) asked the Os for {} DontNeed advise(s); "
                     "{} due: madvise from that size on, memset below",
                     slice_bytes, madvise_min_bytes == SIZE_MAX ? std::string("none") : std::to_string(madvise_min_bytes),
                     dont_needs_during_reset, due));
  }
}

void Oracles::note_reset_zeroing(const Segment& segment) {
  if (allocator_ == nullptr || segment.size_class() < 0) return;
  if (class_bytes(static_cast<std::size_t>(segment.size_class())) < allocator_->config().reset_madvise_min_bytes) {
    ++memset_resets_;
  }
}

void Oracles::check_memset_zeroings() {
  if (allocator_ == nullptr) return;
  const AllocatorStats stats = allocator_->stats();
  if (stats.resets_memset < memset_resets_) {
    fail("zeroing-method", fmt::format("stats().resets_memset is {}; the allocator reset {} segment(s) below "
                                       "reset_madvise_min_bytes, each zeroed by memset",
                                       stats.resets_memset, memset_resets_));
  }
}

}  // namespace segsim::scenarios
