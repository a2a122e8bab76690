// Invalid configurations of the stack's components, every rule of each
// validator broken alone on every seed: SegmentAllocator::create,
// LargeObjectAllocator::create and PressureForecaster::create must refuse
// each with InvalidConfig, a detail that names the rule, and nothing
// allocated. SegmentAllocator configs meeting every rule's boundary (three of
// them) and a LargeObjectAllocator config on every rule's boundary at once
// must be accepted.
// (The arena manager's is checked by txn-arenas.)
#pragma once

#include "core/slab_allocator.h"
#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

void check_invalid_configs(Stack& stack);

// SlabAllocator::create (slab-churn, before its allocator is made): each
// field of `valid` out of range, alone, refused with InvalidConfig before
// anything is allocated — every rule on every seed (a refusal costs nothing;
// only the magazine's class is drawn from `rng`) — and each documented limit
// itself accepted.
void check_slab_configs(Stack& stack, const SlabAllocatorConfig& valid, sim::Rng& rng);

}  // namespace segsim::scenarios
