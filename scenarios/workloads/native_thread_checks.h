// The native-thread episode's checks after join() (native_thread.h): what
// the thread counted of its calls, and what the allocators must show once it
// and its caches are gone. Internal to the episode (native_thread.cpp; the
// thread's NativeEpisode, native_thread_episode.h, keeps the counts).
#pragma once

#include <cstdint>
#include <optional>

#include "core/segment_allocator.h"
#include "core/slab_allocator.h"
#include "scenarios/stack.h"

namespace segsim::scenarios {

inline constexpr const char* kNativeOracle = "native-thread";

// What the thread counted of its slab calls, and the stats it took before
// exiting — while its caches still held their counts.
struct NativeEpisodeCounts {
  // The thread exits with freed objects still in its slab magazines (no flush
  // first): its exit must hand them to the depot.
  bool exits_with_cached_objects = false;
  std::uint64_t slab_allocations = 0, slab_frees = 0, slab_double_frees = 0;
  std::uint64_t slab_remote_frees = 0;  // through a lookup's handle, from the thread's cache
  std::uint64_t slab_requested_bytes = 0;  // of the allocations made
  std::optional<SlabStats> slab_stats_while_live;  // taken by the thread before it exits
  std::optional<AllocatorStats> segment_stats_while_live;  // likewise
};

// The slab after the thread exited and every object went back: its cache
// retired (no thread cache, nothing in a magazine), no counter gone down,
// the remote frees, fast-path counts, allocations and requested bytes exactly
// those the thread made, no more frees than it made, a clean audit. Fails
// native-thread or slab-counters.
void check_slab_after_thread_exit(Stack& stack, const NativeEpisodeCounts& counts, const SlabAllocator& slab);

}  // namespace segsim::scenarios
