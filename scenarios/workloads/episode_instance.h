// The private instances a policy episode drives (cache-policy, magazine-policy,
// cleanup-cadence): a SimOs of its own and a SegmentAllocator over it, so the
// run's own stack, its Os ledger and its oracles are untouched. A setup that
// fails is the harness's fault, reported as "exception" naming the episode.
// The caller holds a fault_points::ControllerScope(nullptr) around its use:
// no fault point may steer what the episode's model predicts.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "core/segment_allocator.h"
#include "faults/sim_os.h"
#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

// A SimOs reserving `reservation_bytes`, seeded from `rng`.
std::unique_ptr<faults::SimOs> make_episode_os(Stack& stack, sim::Rng& rng, std::size_t reservation_bytes,
                                               std::string_view episode);

// A SegmentAllocator over `os` with `config` (which must be valid).
std::unique_ptr<SegmentAllocator> make_episode_allocator(Stack& stack, faults::SimOs& os,
                                                         const SegmentAllocatorConfig& config,
                                                         std::string_view episode);

}  // namespace segsim::scenarios
