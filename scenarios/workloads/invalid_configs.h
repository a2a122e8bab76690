// Invalid configurations of the stack's components, every rule of each
// validator broken alone on every seed: SegmentAllocator::create,
// LargeObjectAllocator::create and PressureForecaster::create must refuse
// each with InvalidConfig, a detail that names the rule, and nothing
// allocated. SegmentAllocator configs meeting every rule's boundary (three of
// them) and a LargeObjectAllocator config on every rule's boundary at once
// must be accepted. SegmentAllocator::create refused as when the process's
// ids of its kind ran out: OutOfMemory naming them, nothing allocated, the
// next create served (drawn through IdCounter::refuse_next: the real ids
// are the process's, and its later seeds need them).
// (The arena manager's is checked by txn-arenas.)
#pragma once

#include "core/slab_allocator.h"
#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

void check_invalid_configs(Stack& stack);

// LargeObjectAllocator::create refused as when its ids ran out, as above
// (large-objects, every seed).
void check_large_ids_exhausted(Stack& stack);

// SlabAllocator::create (slab-churn, before its allocator is made): each
// field of `valid` out of range, alone, refused with InvalidConfig before
// anything is allocated — every rule on every seed (a refusal costs nothing;
// only the magazine's class is drawn from `rng`) — and each documented limit
// itself accepted; and the refusal for exhausted ids, as above.
void check_slab_configs(Stack& stack, const SlabAllocatorConfig& valid, sim::Rng& rng);

}  // namespace segsim::scenarios
