// The native-thread episode's slab checks after join(): see
// native_thread_checks.h.
#include "scenarios/workloads/native_thread_checks.h"

#include <string>
#include <vector>

#include <fmt/format.h>

#include "scenarios/oracles/slab_oracles.h"

namespace segsim::scenarios {

void check_slab_after_thread_exit(Stack& stack, const NativeEpisodeCounts& counts, const SlabAllocator& slab) {
  auto fail = [&](const std::string& what) { stack.oracles.fail(kNativeOracle, what); };
  const SlabStats stats = slab.stats();
  if (counts.slab_stats_while_live) {
    if (auto regressed = slab_counter_regression(*counts.slab_stats_while_live, stats)) {
      stack.oracles.fail("slab-counters", "across a native thread's exit " + *regressed);
    }
  }
  if (stats.thread_caches != 0) fail(fmt::format("{} slab thread cache(s) left after the thread exited", stats.thread_caches));
  if (stats.live_objects() != 0) fail(fmt::format("{} slab object(s) live after every one was freed", stats.live_objects()));
  if (stats.double_frees != counts.slab_double_frees) {
    fail(fmt::format("the slab allocator counts {} double frees; the episode refused {}", stats.double_frees,
                     counts.slab_double_frees));
  }
  // One pass over the classes: what nothing may still cache, the sums, and
  // the fast-path counts. Those are the cache's alone (the uncached calls
  // after it count none): its exit moved them whole into the totals, no
  // more and no less than it held at the thread's last snapshot.
  std::uint64_t frees = 0, allocations = 0, requested_bytes = 0, remote_frees = 0;
  bool fast_counts_reported = false;
  for (std::size_t c = 0; c < kSlabClassCount; ++c) {
    const SlabClassStats& after = stats.classes[c];
    if (after.cached_objects != 0) {
      fail(fmt::format("{} object(s) of class {} B still cached after the thread exited{}", after.cached_objects,
                       kSlabClassBytes[c], counts.exits_with_cached_objects ? " with them in its magazines" : ""));
    }
    frees += after.frees;
    allocations += after.allocations;
    requested_bytes += after.requested_bytes;
    remote_frees += after.remote_frees;
    if (!counts.slab_stats_while_live || fast_counts_reported) continue;
    const SlabClassStats& live = counts.slab_stats_while_live->classes[c];
    if (after.fast_allocations != live.fast_allocations || after.fast_frees != live.fast_frees) {
      stack.oracles.fail("slab-counters",
                         fmt::format("class {} B: the thread's cache counted {} fast-path allocations and {} "
                                     "fast-path frees before it exited; after its exit the totals hold {} and {}",
                                     kSlabClassBytes[c], live.fast_allocations, live.fast_frees,
                                     after.fast_allocations, after.fast_frees));
      fast_counts_reported = true;
    }
  }
  // The thread's remote frees, counted in its cache, moved to the retired
  // totals when it exited: exactly those it made.
  if (remote_frees != counts.slab_remote_frees) {
    stack.oracles.fail("slab-counters", fmt::format("after a native thread's exit the slab allocator counts {} "
                                                    "remote frees; the thread made {} (through lookup handles)",
                                                    remote_frees, counts.slab_remote_frees));
  }
  // Every allocation counted, the uncached ones (a thread past its
  // thread-locals) too: allocations and requested bytes exactly.
  if (allocations != counts.slab_allocations || requested_bytes != counts.slab_requested_bytes) {
    stack.oracles.fail("slab-counters", fmt::format("after a native thread's exit the slab allocator counts {} "
                                                    "allocations of {} requested bytes; the episode made {} of {}",
                                                    allocations, requested_bytes, counts.slab_allocations,
                                                    counts.slab_requested_bytes));
  }
  if (frees > counts.slab_frees) {
    fail(fmt::format("the slab allocator counts {} frees; the episode made {}", frees, counts.slab_frees));
  }
  if (std::vector<std::string> lines = slab.audit(); !lines.empty()) fail("slab audit: " + lines.front());
}

}  // namespace segsim::scenarios
