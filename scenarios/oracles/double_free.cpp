// double free: a slice released twice, or a pointer that is not a live slice
// start. The allocator refuses both and counts them; any refusal means the
// stack above it (pages, pool, caches) tried.
#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

void Oracles::check_double_free() {
  if (allocator_ == nullptr) return;
  const AllocatorStats stats = allocator_->stats();
  if (stats.double_frees != 0) {
    fail("double-free", fmt::format("the allocator refused {} release(s) of a slice that was not live",
                                    stats.double_frees));
  }
  if (stats.invalid_pointers != 0) {
    fail("double-free", fmt::format("the allocator refused {} release(s) of a pointer that is no slice start",
                                    stats.invalid_pointers));
  }
}

}  // namespace segsim::scenarios
