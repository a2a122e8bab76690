// leaks: at quiescence, after the workload gave everything back, no slice is
// live and no page is borrowed.
#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

void Oracles::check_leaks(std::size_t borrowed_pages) {
  if (allocator_ == nullptr) return;
  const AllocatorStats stats = allocator_->stats();
  if (stats.live_slices() != 0) {
    fail("leak", fmt::format("{} slice(s) ({} bytes) still live at quiescence", stats.live_slices(),
                             stats.live_bytes()));
  }
  if (borrowed_pages != 0) fail("leak", fmt::format("{} page(s) still borrowed at quiescence", borrowed_pages));
}

}  // namespace segsim::scenarios
