// The forced growth drill (issue 10): the fault point alloc.pool.slow_path
// promises that an allocation takes the growth path though its class has free
// slices, and that "if growth fails the pool still serves" (core/fault_point.h,
// docs/faults.md). The sweeps fire it at random, where nothing tells whether
// the class grew, and through a thread cache's refill it is never asked — so a
// growth that let the thread caches serve a forced call instead went unseen
// (seed 22's mutant segment_regions.cpp:75), and a forced call over budget was
// served as if another thread had grown the class meanwhile, never by the
// designed fallback (probe alloc.grow.forced_slow_path_served never fired).
//
// On a private allocator whose budget holds a few regions, with thread caches
// on, the drill allocates one slice of a class that has free slices left, then
// forces the slow path (and the cache bypass before it) call after call until
// the budget has been full twice. Each forced call must succeed (the class
// has free slices); one made with room for a region in the budget must grow
// the class by exactly one region (mapped or reused), checked on stats()
// before and after ("allocation"). Each new region holds the forced call's
// slice (the pool serves its newest region), so once the budget is full no
// region can be freed and the pool must serve.
//
// Run at quiescence (tcache-churn's finish, every seed); nothing of the run's
// stack is touched, and the simulation sees no scheduling point.
#pragma once

#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

void run_forced_growth_drill(Stack& stack, sim::Rng& rng);

}  // namespace segsim::scenarios
