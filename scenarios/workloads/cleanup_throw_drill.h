// The cleanup-throw drill (issue 10): a proactive cleanup whose Os throws
// (a user's Os may: std::bad_alloc from its own bookkeeping) ends by that
// throw — the executor survives it — and must leave its class as a cleanup
// that finished: counted finished (stats() shows none in flight), its guard
// cleared so the next due cleanup starts, and the region it was releasing
// queued for reuse, resident, not lost to a Releasing state (probe
// cleanup.advise_threw). Under a simulation a task may not end by a throw
// (the run fails), so no fiber reaches this path (seed 41's mutant
// segment_cleanup.cpp:63, the guard left set after a throw, survived every
// sweep): the drill runs it on a real std::thread, whose cleanups run on the
// allocator's own worker thread, while the calling fiber waits in join()
// (as the native-thread episode does: the seed's schedule stays the same).
//
// On a private allocator (its own SimOs, no thread caches, a cleanup due at
// every region's worth of free slices of the drawn class): fill one region,
// release it all (a cleanup starts; its DontNeed advise throws), wait for it
// to finish; then take the region back from the freed queue, release it all
// again (the next cleanup must start) and wait: this one releases it.
// Failures: "cleanup-cadence", reported by the fiber after join().
//
// Run at quiescence (tcache-churn's finish, every seed).
#pragma once

#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

void run_cleanup_throw_drill(Stack& stack, sim::Rng& rng);

}  // namespace segsim::scenarios
