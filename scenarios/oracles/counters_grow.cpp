// counters-grow: an allocator's event counters only grow. A stats()
// snapshot that counts fewer of an event than an earlier one lost events —
// a thread cache's hits or remote releases, say, once its fiber ended and
// the cache retired (stats() adds the retired caches' counts to the live
// ones'). No per-call model sees it: the model's counts restart from each
// snapshot.
#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

void Oracles::check_counters_grow(const AllocatorStats& earlier, const AllocatorStats& now) {
  struct Counter {
    const char* name;
    std::uint64_t AllocatorStats::*field;
  };
  static constexpr Counter kCounters[] = {
      {"regions_mapped", &AllocatorStats::regions_mapped},     {"regions_unmapped", &AllocatorStats::regions_unmapped},
      {"regions_released", &AllocatorStats::regions_released}, {"regions_reused", &AllocatorStats::regions_reused},
      {"resets_memset", &AllocatorStats::resets_memset},       {"resets_madvise", &AllocatorStats::resets_madvise},
      {"madvise_failures", &AllocatorStats::madvise_failures}, {"map_failures", &AllocatorStats::map_failures},
      {"unmap_failures", &AllocatorStats::unmap_failures},     {"double_frees", &AllocatorStats::double_frees},
      {"invalid_pointers", &AllocatorStats::invalid_pointers}, {"cache_hits", &AllocatorStats::cache_hits},
      {"cache_refills", &AllocatorStats::cache_refills},       {"cache_flushes", &AllocatorStats::cache_flushes},
      {"remote_releases", &AllocatorStats::remote_releases},
  };
  for (const Counter& counter : kCounters) {
    if (now.*counter.field < earlier.*counter.field) {
      fail("counters-grow", fmt::format("stats() counts {} {}, fewer than the {} an earlier snapshot counted",
                                        counter.name, now.*counter.field, earlier.*counter.field));
    }
  }
}

}  // namespace segsim::scenarios
