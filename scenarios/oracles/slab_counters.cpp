// slab-counters: what stats() counts is cumulative — allocations, frees,
// remote and fast-path calls, depot exchanges, requested bytes, slabs taken
// and given back, refusals — so no snapshot may show less than one the same
// fiber took earlier.
// A thread's exit must hand its counts on to the allocator (a lost hand-over
// shows here, and in nothing else: the model's totals are checked at
// quiescence, where the fast-path counts have no model). Magazine capacity
// adapts, but only within the documented bounds: [initial / 2, initial * 2]
// (at least 1, at most 1024), exactly the initial one with adaptation off.
// Every snapshot: each class's object size and objects per slab are the
// class's size and the slab's bytes over it.
// A refused allocate of a valid size is a slab its call failed to acquire
// (a segment refused, or every slab slot in use), counted in slab_failures
// before the call returned: a snapshot taken after a refusal was counted
// here counts at least as many.
#include <algorithm>
#include <initializer_list>

#include <fmt/format.h>

#include "scenarios/oracles/sim_now.h"
#include "scenarios/oracles/slab_oracles.h"

namespace segsim::scenarios {

namespace {
constexpr std::uint32_t kMaxMagazineCapacity = 1024;  // slab_allocator.h: the config's limit

// One cumulative count in two snapshots.
struct CountPair {
  const char* what;
  std::uint64_t was, now;
};

// The first of `counts` lower now than it was, described.
std::optional<std::string> first_lower(std::initializer_list<CountPair> counts) {
  for (const CountPair& c : counts) {
    if (c.now < c.was) return fmt::format("{} went down from {} to {}", c.what, c.was, c.now);
  }
  return std::nullopt;
}
}  // namespace

std::optional<std::string> slab_counter_regression(const SlabStats& before, const SlabStats& after) {
  for (std::size_t c = 0; c < kSlabClassCount; ++c) {
    const SlabClassStats& b = before.classes[c];
    const SlabClassStats& a = after.classes[c];
    if (auto regressed = first_lower({{"allocations", b.allocations, a.allocations},
                                      {"frees", b.frees, a.frees},
                                      {"remote frees", b.remote_frees, a.remote_frees},
                                      {"fast-path allocations", b.fast_allocations, a.fast_allocations},
                                      {"fast-path frees", b.fast_frees, a.fast_frees},
                                      {"depot exchanges", b.depot_exchanges, a.depot_exchanges},
                                      {"requested bytes", b.requested_bytes, a.requested_bytes}})) {
      return fmt::format("class {} B: {}", kSlabClassBytes[c], *regressed);
    }
  }
  return first_lower({{"slabs acquired", before.slabs_acquired, after.slabs_acquired},
                      {"slabs released", before.slabs_released, after.slabs_released},
                      {"slab failures", before.slab_failures, after.slab_failures},
                      {"double frees refused", before.double_frees, after.double_frees},
                      {"invalid pointers refused", before.invalid_pointers, after.invalid_pointers}});
}

void SlabOracles::allocation_refused(const Error& error) {
  if (error.code == Errc::OutOfBudget || error.code == Errc::OutOfMemory) ++allocations_refused_;
}

void SlabOracles::check_failures_counted(std::size_t bytes, const Error& error, const SlabStats& stats) {
  if (stats.slab_failures >= allocations_refused_) return;
  hub_.fail("slab-counters", fmt::format("allocate({}) refused ({}): {} allocation(s) refused so far, each a slab not "
                                         "acquired, but stats() counts {} slab failure(s)",
                                         bytes, error.describe(), allocations_refused_, stats.slab_failures));
}

void SlabOracles::check_counters(const SlabStats& stats, const SlabAllocatorConfig& config) {
  // Only one fiber's snapshots are ordered: another's may have begun earlier
  // and ended later (stats() takes locks, so others run in between).
  const std::uint32_t fiber = fiber_now();
  if (auto last = last_stats_.find(fiber); last != last_stats_.end()) {
    if (auto regressed = slab_counter_regression(last->second, stats)) {
      hub_.fail("slab-counters", fmt::format("between two stats() snapshots of fiber {} {}", fiber, *regressed));
    }
  }
  last_stats_.insert_or_assign(fiber, stats);
  // The allocator-wide totals (slab_allocator.h): each the sum of its classes'.
  std::size_t live = 0, cached = 0;
  for (const SlabClassStats& s : stats.classes) {
    live += s.live_objects;
    cached += s.cached_objects + s.depot_objects;
  }
  if (stats.live_objects() != live || stats.cached_objects() != cached) {
    hub_.fail("slab-counters", fmt::format("stats() totals {} live and {} cached object(s); its classes sum to {} and {}",
                                           stats.live_objects(), stats.cached_objects(), live, cached));
  }
  for (std::size_t c = 0; c < kSlabClassCount; ++c) {
    // A class's shape: its object size, and as many objects as fit a slab.
    const SlabClassStats& shape = stats.classes[c];
    if (shape.object_bytes != kSlabClassBytes[c] || shape.objects_per_slab != config.slab_bytes / kSlabClassBytes[c]) {
      hub_.fail("slab-counters", fmt::format("class {}: stats() says {} B objects, {} a slab; slabs of {} B hold {} of "
                                             "{} B", c, shape.object_bytes, shape.objects_per_slab, config.slab_bytes,
                                             config.slab_bytes / kSlabClassBytes[c], kSlabClassBytes[c]));
    }
    const std::uint32_t initial = config.magazine_capacity[c];
    const std::uint32_t low = config.adaptive_magazines ? std::max<std::uint32_t>(1, initial / 2) : initial;
    const std::uint32_t high = config.adaptive_magazines ? std::min(kMaxMagazineCapacity, initial * 2) : initial;
    const std::uint32_t now = stats.classes[c].magazine_capacity;
    if (now < low || now > high) {
      hub_.fail("slab-counters", fmt::format("class {} B: magazine capacity {} outside [{}, {}] (initial {}, {})",
                                             kSlabClassBytes[c], now, low, high, initial,
                                             config.adaptive_magazines ? "adaptive" : "fixed"));
    }
  }
}

}  // namespace segsim::scenarios
