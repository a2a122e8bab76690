// The cache-policy episode (issue 10): the thread caches' policy — when a
// cache takes a released slice, spills, refills, hands out, counts — changes
// no result a caller sees, so the run's oracles cannot judge it, and a cache
// that quietly stops caching passed every sweep. The episode drives a private
// SegmentAllocator (private SimOs, no fault point able to fire, proactive
// cleanup off, its cache size and all-caches limit drawn) from the calling
// fiber alone, with helper fibers that allocate, hand their segments over and
// flush, and checks every call against the cache-policy model
// (oracles/cache_policy.h): allocations of every class at its edges, zeroed
// and not, releases past a class cache's capacity (spills) and past the
// limit, stale releases, flushes, reclaims, remote releases. It also checks
// that a zeroed allocation reads zero, that a slice keeps its contents while
// held, and that the observer is told of every hand-out and release once
// (observer-calls), the hit paths included.
//
// Run at quiescence (tcache-churn's finish): the instance is the episode's
// alone, so the run's own state and oracles are untouched.
#pragma once

#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

// Runs the episode from the calling fiber; `rng` draws its configuration and calls.
void run_cache_policy_episode(Stack& stack, sim::Rng& rng);

}  // namespace segsim::scenarios
