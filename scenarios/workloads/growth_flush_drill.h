// The growth flush drill (issue 10): a class grows only after the thread
// caches gave back their free slices of it (core/segment_allocator.h) — no
// thread hoards free slices while its class maps new regions. The sweeps'
// oracles bound growth only loosely (a cache's worth of slices per fiber is
// slack they allow), so a growth that skipped the flush went unseen (seed
// 21's mutant segment_regions.cpp:82). The drill makes the case exact: on a
// private allocator under a ManualClock acting as two threads, thread A
// allocates and releases slices of a class (its cache keeps some), then
// thread B allocates that class until it has drained the pool and grown
// twice; around each of B's calls, a stats() before and after: a call that
// mapped or reused a region while a cache held free slices of the class
// (B's own is empty when it grows: it would have hit) broke the promise
// (cache-policy). In odd rounds (when A's cache holds slices of the class) A
// reclaims its whole cache at the moment B's growth flush, having seen A's
// class cache hold slices, waits for the class lock (ManualClock::at_lock:
// the second lock of one mutex in one call): the flush then finds the cache
// empty and must give back nothing and ask for no cleanup (seed 22's mutant
// segment_thread_cache.cpp:323 reported "cleanup due" there). Proactive
// cleanup is off, so no call of B may start or ask for a cleanup
// (cleanup-cadence). Each round ends with everything released, both caches
// flushed and free_unused_regions(0).
//
// Run at quiescence (tcache-churn's finish, every seed); nothing of the run's
// stack is touched, and the simulation sees no scheduling point.
#pragma once

#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

void run_growth_flush_drill(Stack& stack, sim::Rng& rng);

}  // namespace segsim::scenarios
