// ownership: the harness's own model of every live slice, fed by the
// allocator's observer hooks (which run under the slice's class lock, so the
// model changes in step with the allocator). It does not trust the allocator:
// a slice handed out while the model holds it live, or a release the
// allocator accepts for a handle the model says is not live (a stale copy, a
// slice freed twice through two handles), fails here whatever the allocator
// answered.
#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"
#include "sim/simulation.h"

namespace segsim::scenarios {

namespace {
std::uint32_t fiber_now() {
  sim::Simulation* simulation = sim::Simulation::current();
  return simulation == nullptr ? sim::kNoFiber : simulation->current_fiber();
}
std::uint64_t step_now() {
  sim::Simulation* simulation = sim::Simulation::current();
  return simulation == nullptr ? 0 : simulation->step();
}
}  // namespace

bool Oracles::model_live(const Segment& segment) const {
  auto it = live_slices_.find({segment.region_id(), segment.slice_index()});
  return it != live_slices_.end() && it->second.generation == segment.generation();
}

void Oracles::ownership_handing_out(const Segment& segment) {
  ++slice_events_;
  const auto key = std::make_pair(segment.region_id(), segment.slice_index());
  if (auto it = live_slices_.find(key); it != live_slices_.end()) {
    fail("ownership",
         fmt::format("region #{} slice {} handed out (generation {}) while live since step {} (fiber {}, "
                     "generation {})",
                     key.first, key.second, segment.generation(), it->second.step, it->second.fiber,
                     it->second.generation),
         segment.data());
  }
  live_slices_.emplace(key, LiveSlice{segment.generation(), fiber_now(), step_now(), segment.size()});
  live_bytes_ += segment.size();
  ++live_per_region_[segment.region_id()];
}

void Oracles::ownership_released(const Segment& segment) {
  ++slice_events_;
  const auto key = std::make_pair(segment.region_id(), segment.slice_index());
  auto it = live_slices_.find(key);
  if (it == live_slices_.end() || it->second.generation != segment.generation()) {
    // Reported, not thrown: releases run in destructors (a page's return).
    report("double-free",
           it == live_slices_.end()
               ? fmt::format("the allocator accepted a release of region #{} slice {} (generation {}), "
                             "which the model holds free",
                             key.first, key.second, segment.generation())
               : fmt::format("the allocator accepted a release of region #{} slice {} through a stale "
                             "handle (generation {}; live generation {} since step {})",
                             key.first, key.second, segment.generation(), it->second.generation,
                             it->second.step),
           segment.data());
    if (it == live_slices_.end()) return;
  }
  live_bytes_ -= it->second.bytes;
  live_slices_.erase(it);
  if (--live_per_region_[segment.region_id()] == 0) live_per_region_.erase(segment.region_id());
}

}  // namespace segsim::scenarios
