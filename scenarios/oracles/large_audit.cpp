// large objects, adjacent-free and accounting: the allocator's audit (no two
// adjacent free ranges, no overlap, bytes add up) holds after every call and
// at quiescence, its live objects are the model's, nothing leaks.
#include <fmt/format.h>

#include "scenarios/oracles/large_objects.h"

namespace segsim::scenarios {

void LargeObjectChecks::check_audit() {
  const std::vector<std::string> violations = large_.audit();
  if (violations.empty()) return;
  const bool adjacency = violations.front().find("adjacent free") != std::string::npos;
  oracles_.fail(adjacency ? "adjacent-free" : "accounting",
                fmt::format("large-object audit: {} (and {} more)", violations.front(), violations.size() - 1));
}

void LargeObjectChecks::check_quiescent(std::size_t foreign_live_objects) {
  check_audit();
  const LargeObjectStats stats = large_.stats();
  check_counters(stats, true);
  check_free_ranges(stats);
  if (stats.live_objects != live_.size()) {
    oracles_.fail("accounting", fmt::format("the allocator has {} live large objects, the model {}", stats.live_objects,
                                            live_.size()));
  }
  std::size_t model_bytes = 0;
  for (const auto& [key, entry] : live_) model_bytes += entry.handle.size();
  if (stats.live_bytes != model_bytes) {
    oracles_.fail("accounting", fmt::format("the allocator has {} live large bytes, the model {}", stats.live_bytes,
                                            model_bytes));
  }
  if (stats.live_objects + foreign_live_objects != 0) {
    oracles_.fail("leak", fmt::format("{} large object(s) still live at quiescence",
                                      stats.live_objects + foreign_live_objects));
  }
  if (stats.mapped_bytes != stats.live_bytes + stats.free_bytes) {
    oracles_.fail("accounting", fmt::format("mapped {} != live {} + free {}", stats.mapped_bytes, stats.live_bytes,
                                            stats.free_bytes));
  }
}

}  // namespace segsim::scenarios
