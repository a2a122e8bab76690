// The unmap-order drill: see unmap_order_drill.h.
#include "scenarios/workloads/unmap_order_drill.h"

#include <array>
#include <memory>

#include <fmt/format.h>

#include "core/fault_point.h"
#include "core/size_class.h"
#include "scenarios/workloads/episode_instance.h"

namespace segsim::scenarios {

namespace {

constexpr const char* kDrill = "unmap-order drill";

}  // namespace

void run_unmap_order_drill(Stack& stack, sim::Rng& rng) {
  fault_points::ControllerScope quiet(nullptr);  // no fault point steers the private allocator
  auto os = make_episode_os(stack, rng, kDrillReservationBytes, kDrill);
  SegmentAllocatorConfig config;
  config.region_bytes = kDrillRegionBytes;
  config.budget_bytes = kDrillBudgetBytes;
  config.thread_cache_bytes = 0;     // every release reaches the pool
  config.proactive_cleanup = false;  // only the drill releases a region
  auto allocator = make_episode_allocator(stack, *os, config, kDrill);
  const EpisodeCalls calls{stack, *allocator, kDrill};
  // Two different classes, either one the freed one.
  const int freed_class = static_cast<int>(rng.below(kSizeClassCount));
  const int active_class = static_cast<int>((freed_class + 1 + rng.below(kSizeClassCount - 1)) % kSizeClassCount);
  const bool freed_first = rng.chance(0.5);  // which region is mapped first
  for (const int c : freed_first ? std::array{freed_class, active_class} : std::array{active_class, freed_class}) {
    const Segment s = calls.allocate(class_bytes(static_cast<std::size_t>(c)), "a slice");
    calls.release(s, "the region's one slice");
  }
  if (const std::size_t released = allocator->release_unused_regions(freed_class); released != 1) {
    stack.oracles.fail("regions-released", fmt::format("{}: release_unused_regions({}) with one all-free region of "
                                                       "the class released {}", kDrill, freed_class, released));
  }
  const AllocatorStats before = allocator->stats();
  // A whole region or a single byte over the target: either excess is one
  // region's worth to unmap, and the freed queue covers it.
  const std::size_t excess_bytes = rng.chance(0.5) ? kDrillRegionBytes : 1;
  const std::size_t unmapped = allocator->free_unused_regions(before.virtual_bytes - excess_bytes);
  const AllocatorStats after = allocator->stats();
  const SizeClassStats& freed = after.classes[static_cast<std::size_t>(freed_class)];
  const SizeClassStats& active = after.classes[static_cast<std::size_t>(active_class)];
  if (unmapped != 1 || freed.freed_regions != 0 || active.active_regions != 1) {
    stack.oracles.fail("regions-unmapped",
                       fmt::format("{}: free_unused_regions {} B below the {} B mapped, with one region of "
                                   "class {} in the freed queue and one all-free active region of class {}: "
                                   "unmapped {}, leaving {} freed and {} active; the freed one alone was due (the "
                                   "freed queue first)",
                                   kDrill, excess_bytes, before.virtual_bytes, freed_class, active_class, unmapped,
                                   freed.freed_regions, active.active_regions));
  }
}

}  // namespace segsim::scenarios
