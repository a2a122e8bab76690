// The release race drill (issue 10): two threads release the same handle at
// once. The release fast path (release_cached) checks the slice's generation
// without the lock, reaches a scheduling point, then frees the slice with one
// compare-exchange on that generation; a thread that loses the exchange must
// hand the call to the locked path, which refuses it as DoubleFree — one of
// the two releases succeeds, never both (segment_allocator.h: a release of a
// handle that is not live is refused and changes nothing). Seed 50's mutant
// segment_thread_cache.cpp:274 answered "released" to the loser; no sweep
// released one handle from two fibers in that window, since workloads
// release only what they own.
//
// The simulated hit path (release_hit_simulated, taken when the cache keeps
// a grant that covers the slice) has the same order and the same promise.
//
// On a ClockedInstance the drill walks the window deterministically: thread A
// allocates a slice (its cache flushed or not, by the round's draw: the
// release then takes release_cached or the hit path) and releases it; at the
// release's scheduling point
// thread B releases the same handle first and then, by the round's draw,
// leaves the slice in its cache, allocates from that class again (the slice
// may come back under a new generation), or flushes its cache (the slice goes
// to the pool). A's release must be refused as DoubleFree and change nothing:
// stats() the same as just after B (no grant of the caches' limit grown),
// one more double free counted, audit() clean; B's new slice is still live (B's release of it succeeds) and A's
// handle is refused again after it. Failures: "ownership" (an accepted
// release), "accounting" (stats, audit).
//
// Run at quiescence (tcache-churn's finish, every seed); nothing of the run's
// stack is touched, and the simulation sees no scheduling point.
#pragma once

#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

void run_release_race_drill(Stack& stack, sim::Rng& rng);

}  // namespace segsim::scenarios
