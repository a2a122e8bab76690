// slab-flushed: once every fiber has flushed its cache (fiber exit), no object
// is left in any thread's magazines. slab-accounting: no remote free is lost
// or counted twice — the allocator's counts (requested bytes per class
// included) equal the reference model's, no object is live, every object of
// every slab is on a free list, in a magazine or in the depot, audit() is clean,
// and after flush_all every slab has gone back to the segment allocator.
#include <cmath>

#include <fmt/format.h>

#include "scenarios/oracles/slab_oracles.h"

namespace segsim::scenarios {

void SlabOracles::check_quiescent(SlabAllocator& slab, const SlabModelCounts& model) {
  SlabStats stats = slab.stats();
  check_counters(stats, slab.config());
  std::uint64_t allocations = 0, frees = 0, remote = 0;
  for (std::size_t c = 0; c < kSlabClassCount; ++c) {
    const SlabClassStats& s = stats.classes[c];
    if (s.cached_objects != 0) {
      hub_.fail("slab-flushed", fmt::format("every fiber flushed, yet {} object(s) of class {} B sit in thread magazines",
                                            s.cached_objects, s.object_bytes));
    }
    allocations += s.allocations;
    frees += s.frees;
    remote += s.remote_frees;
  }
  auto expect = [&](const char* what, std::uint64_t counted, std::uint64_t modelled) {
    if (counted != modelled) {
      hub_.fail("slab-accounting", fmt::format("the allocator counts {} {}, the model {}", counted, what, modelled));
    }
  };
  expect("allocations", allocations, model.allocations);
  expect("frees", frees, model.frees);
  expect("remote frees", remote, model.remote_frees);
  expect("double frees refused", stats.double_frees, model.double_frees);
  expect("invalid pointers refused", stats.invalid_pointers, model.invalid_pointers);
  expect("live objects", stats.live_objects(), 0);
  for (std::size_t c = 0; c < kSlabClassCount; ++c) {
    const SlabClassStats& s = stats.classes[c];
    if (s.requested_bytes != model.requested_bytes[c]) {
      hub_.fail("slab-accounting", fmt::format("class {} B: the allocator counts {} requested bytes, the model {}",
                                               s.object_bytes, s.requested_bytes, model.requested_bytes[c]));
    }
  }
  check_fast_path_rates(stats);
  // Every object of every slab is somewhere: on its slab's free list, in a
  // thread's magazine or the depot (none is live).
  for (const SlabClassStats& s : stats.classes) {
    if (s.slabs * s.objects_per_slab != s.slab_free_objects + s.cached_objects + s.depot_objects + s.live_objects) {
      hub_.fail("slab-accounting", fmt::format("class {} B: {} slab(s) of {} objects, yet {} on slab free lists, {} in "
                                               "magazines, {} in the depot and {} live",
                                               s.object_bytes, s.slabs, s.objects_per_slab, s.slab_free_objects,
                                               s.cached_objects, s.depot_objects, s.live_objects));
    }
  }
  if (!live_.empty()) hub_.fail("slab-accounting", fmt::format("{} object(s) still live at quiescence", live_.size()));
  if (auto violations = slab.audit(); !violations.empty()) {
    hub_.fail("slab-accounting", fmt::format("audit: {} (and {} more)", violations.front(), violations.size() - 1));
  }
  slab.flush_all();
  stats = slab.stats();
  check_counters(stats, slab.config());
  for (const SlabClassStats& s : stats.classes) {
    if (s.slabs != 0 || s.cached_objects + s.depot_objects != 0) {
      hub_.fail("slab-accounting", fmt::format("after flush_all class {} B keeps {} slab(s), {} cached object(s)",
                                               s.object_bytes, s.slabs, s.cached_objects + s.depot_objects));
    }
  }
  expect("slabs released", stats.slabs_released, stats.slabs_acquired);
  expect("cached objects after flush_all", stats.cached_objects(), 0);
}

// The hit rates are the fast share of all allocations and frees: per class,
// and for the allocator over every class (not an average of the classes').
void SlabOracles::check_fast_path_rates(const SlabStats& stats) {
  std::uint64_t fast = 0, all = 0;
  for (const SlabClassStats& s : stats.classes) {
    const double rate = s.fast_path_hit_rate();
    const std::uint64_t class_all = s.allocations + s.frees;
    const std::uint64_t class_fast = s.fast_allocations + s.fast_frees;
    if (class_fast > class_all || rate < 0.0 || rate > 1.0 ||
        (class_all == 0 ? rate != 0.0 : std::abs(rate * static_cast<double>(class_all) - static_cast<double>(class_fast)) > 0.5)) {
      hub_.fail("slab-accounting", fmt::format("class {} B: fast-path hit rate {} from {} fast of {} calls",
                                               s.object_bytes, rate, class_fast, class_all));
    }
    fast += class_fast;
    all += class_all;
  }
  const double rate = stats.fast_path_hit_rate();
  if (all == 0 ? rate != 0.0 : std::abs(rate * static_cast<double>(all) - static_cast<double>(fast)) > 0.5) {
    hub_.fail("slab-accounting", fmt::format("fast-path hit rate {} from {} fast of {} calls", rate, fast, all));
  }
}

}  // namespace segsim::scenarios
