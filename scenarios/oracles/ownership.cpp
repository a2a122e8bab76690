// ownership: the harness's own model of every live slice, fed by the
// allocator's observer hooks (which run under the slice's class lock, so the
// model changes in step with the allocator). It does not trust the allocator:
// a slice handed out while the model holds it live, or a release the
// allocator accepts for a handle the model says is not live (a stale copy, a
// slice freed twice through two handles), fails here whatever the allocator
// answered.
#include "scenarios/oracles/ownership.h"

#include <fmt/format.h>

#include "scenarios/oracles/oracles.h"
#include "scenarios/oracles/sim_now.h"
#include "sim/simulation.h"

namespace segsim::scenarios {

bool OwnershipModel::live(const Segment& segment) const {
  auto it = live_slices_.find({segment.region_id(), segment.slice_index()});
  return it != live_slices_.end() && it->second.generation == segment.generation();
}

std::uint32_t OwnershipModel::generation_now(const Segment& segment) const {
  auto it = live_slices_.find({segment.region_id(), segment.slice_index()});
  return it != live_slices_.end() && it->second.data == segment.data() ? it->second.generation : 0;
}

std::string OwnershipModel::handing_out(const Segment& segment, std::uint32_t fiber, std::uint64_t step) {
  ++slice_events_;
  const auto key = std::make_pair(segment.region_id(), segment.slice_index());
  if (auto it = live_slices_.find(key); it != live_slices_.end()) {
    return fmt::format("region #{} slice {} handed out (generation {}) while live since step {} (fiber {}, "
                       "generation {})",
                       key.first, key.second, segment.generation(), it->second.step, it->second.fiber,
                       it->second.generation);
  }
  live_slices_.emplace(key, LiveSlice{segment.generation(), fiber, step, segment.size(), segment.data()});
  live_bytes_ += segment.size();
  ++live_per_region_[segment.region_id()];
  return {};
}

std::string OwnershipModel::released(const Segment& segment) {
  ++slice_events_;
  const auto key = std::make_pair(segment.region_id(), segment.slice_index());
  auto it = live_slices_.find(key);
  if (it == live_slices_.end()) {
    return fmt::format("the allocator accepted a release of region #{} slice {} (generation {}), "
                       "which the model holds free",
                       key.first, key.second, segment.generation());
  }
  std::string verdict;
  if (it->second.generation != segment.generation()) {
    verdict = fmt::format("the allocator accepted a release of region #{} slice {} through a stale "
                          "handle (generation {}; live generation {} since step {})",
                          key.first, key.second, segment.generation(), it->second.generation, it->second.step);
  }
  live_bytes_ -= it->second.bytes;
  live_slices_.erase(it);
  if (--live_per_region_[segment.region_id()] == 0) live_per_region_.erase(segment.region_id());
  return verdict;
}

bool Oracles::model_live(const Segment& segment) const { return ownership_.live(segment); }

void Oracles::ownership_handing_out(const Segment& segment) {
  const std::string verdict = ownership_.handing_out(segment, fiber_now(), step_now());
  if (!verdict.empty()) fail("ownership", verdict, segment.data());
}

void Oracles::ownership_released(const Segment& segment) {
  const std::string verdict = ownership_.released(segment);
  // Reported, not thrown: releases run in destructors (a page's return).
  if (!verdict.empty()) report("double-free", verdict, segment.data());
}

}  // namespace segsim::scenarios
