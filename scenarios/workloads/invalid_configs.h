// Invalid configurations of the stack's components, one rule broken per seed
// and component: SegmentAllocator::create, LargeObjectAllocator::create and
// PressureForecaster::create must refuse each with InvalidConfig, a detail
// that names the rule, and nothing allocated. Which rule is drawn from `rng`,
// so a sweep of a few dozen seeds breaks every rule of every validator.
// (The slab allocator's and the arena manager's are checked by slab-churn and
// txn-arenas.)
#pragma once

#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

void check_invalid_configs(Stack& stack, sim::Rng& rng);

}  // namespace segsim::scenarios
