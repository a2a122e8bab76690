// refusals-counted: every refusal the run's allocator makes is counted in
// stats() by its code (double_frees, invalid_pointers). The observer hears
// each refused release and reset (after the allocator counted it), so at
// quiescence each counter is at least the refusals of its code the hub heard;
// lookups' refusals count too, unheard, so not exactly. The double-free
// oracle bounds the counters from above (no refusal but the deliberate ones);
// this one from below (none the allocator forgot).
#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

void Oracles::check_refusals_counted() {
  if (allocator_ == nullptr) return;
  const AllocatorStats stats = allocator_->stats();
  if (stats.double_frees >= refused_double_frees_ && stats.invalid_pointers >= refused_invalid_pointers_) return;
  fail("refusals-counted",
       fmt::format("stats() counts {} DoubleFree and {} InvalidPointer refusal(s); the allocator refused {} and {} "
                   "release(s) / reset(s) so, told the observer",
                   stats.double_frees, stats.invalid_pointers, refused_double_frees_, refused_invalid_pointers_));
}

}  // namespace segsim::scenarios
