// Invalid configurations of the stack's components, every rule of each
// validator broken alone on every seed: SegmentAllocator::create,
// LargeObjectAllocator::create and PressureForecaster::create must refuse
// each with InvalidConfig, a detail that names the rule, and nothing
// allocated. A LargeObjectAllocator config on every rule's boundary at once
// must be accepted.
// (The slab allocator's and the arena manager's are checked by slab-churn and
// txn-arenas.)
#pragma once

#include "scenarios/stack.h"

namespace segsim::scenarios {

void check_invalid_configs(Stack& stack);

}  // namespace segsim::scenarios
