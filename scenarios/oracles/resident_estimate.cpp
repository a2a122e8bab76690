// resident-estimate: AllocatorStats::resident_estimate_bytes counts the slices
// touched since their region was mapped or its physical memory last dropped.
// Every slice out of the pool (handed out, or in a thread cache) was touched
// on the way out, and only a wholly free region is dropped — so the estimate
// is at least those slices' bytes. Each class's figures are read under its
// lock, so the bound holds in any snapshot, mid-run included. The upper
// bound only at quiescence (a region being released keeps its touched slices
// outside the active regions, and the class figures and the mapped bytes are
// read under different locks): the touched slices lie in mapped regions, so
// the estimate is at most the bytes mapped.
#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

void Oracles::check_resident_estimate(const AllocatorStats& stats) {
  std::size_t out_of_pool_bytes = 0;
  for (const SizeClassStats& c : stats.classes) out_of_pool_bytes += (c.live_slices + c.cached_slices) * c.slice_bytes;
  if (stats.resident_estimate_bytes < out_of_pool_bytes) {
    fail("resident-estimate", fmt::format("stats().resident_estimate_bytes is {}; the slices out of the pool (live or "
                                          "cached) hold {} bytes",
                                          stats.resident_estimate_bytes, out_of_pool_bytes));
  }
}

void Oracles::check_resident_estimate_at_quiescence() {
  if (allocator_ == nullptr) return;
  const AllocatorStats stats = allocator_->stats();
  check_resident_estimate(stats);
  if (stats.resident_estimate_bytes > stats.virtual_bytes) {
    fail("resident-estimate", fmt::format("at quiescence stats().resident_estimate_bytes is {}, more than the {} bytes "
                                          "mapped (virtual_bytes)",
                                          stats.resident_estimate_bytes, stats.virtual_bytes));
  }
}

}  // namespace segsim::scenarios
