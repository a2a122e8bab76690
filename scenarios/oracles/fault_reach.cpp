// fault-reach: a path that must offer a fault point to the plan asks it.
// Under a controller that may fire a fault point, a thread-cache hit under
// the simulation goes the full path, which asks alloc.tcache.bypass, or on a
// release release.tcache.bypass (segment_thread_cache.cpp): so every
// allocation of a valid size, and every release of a live handle, through
// thread caches asks its point. A path that skips the point gives right results and
// hides the faults the plan asked for — no other oracle sees it. Other
// fibers' calls meanwhile may ask the point too, so only "at least once".
#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

void Oracles::check_fault_point_asked(const char* point, std::uint64_t asks,
                                      const std::function<std::string()>& describe_call) {
  if (asks > 0) return;
  fail("fault-reach", fmt::format("{} under a fault plan that targets fault points never asked '{}'; every such "
                                  "call must offer it to the plan",
                                  describe_call(), point));
}

}  // namespace segsim::scenarios
