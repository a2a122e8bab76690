// clear-after-return and prealloc-leak, only in the mutants build
// (core/mutants/sites.h).
#include <cstdint>
#include <cstring>

#include "core/mutants/sites.h"

namespace segsim::mutants {

void zero_page_memory(const Segment& slot_memory, const Segment& dewey_memory) {
  std::memset(slot_memory.data(), 0, slot_memory.size());
  if (dewey_memory != slot_memory) std::memset(dewey_memory.data(), 0, dewey_memory.size());
}

void preallocate_pages(SegmentAllocator& allocator, const LeafPageConfig& config) {
  constexpr std::uint64_t kPreallocatedPages = 16;
  for (std::uint64_t i = 0; i < kPreallocatedPages; ++i) {
    auto page = LeafPage::create(allocator, config, UINT64_MAX - i);
    // Leaked: nothing ever hands these pages out or gives their segments back.
    if (page.ok()) (void)page.value().release();
  }
}

}  // namespace segsim::mutants
