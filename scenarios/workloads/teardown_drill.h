// The teardown drill (issue 10): ~SegmentAllocator "waits for async cleanups,
// then unmaps every region" (core/segment_allocator.h) — a promise no run
// judged: the stack's allocator is destroyed at quiescence, and the episodes'
// with their proactive cleanup off or waited for (seed 36's mutant
// segment_allocator.cpp:93, the destructor's executor shutdown deleted,
// survived every sweep).
//
// On a private allocator (its own SimOs under an OsLedgerOs, no thread
// caches, a cleanup due at every region's worth of free slices of the drawn
// class) the drill fills one region, releases it all — the last release
// starts a cleanup — and, with the fault point alloc.cleanup.delay firing so
// the cleanup is still in flight, destroys the allocator from the calling
// fiber. The cleanup must release the fully free region (a DontNeed advise)
// before the destructor's first unmap, and the destructor must give back each
// mapping once (teardown-unmapped). Judged only when the cleanup was still in
// flight when the destructor began.
//
// Run at quiescence (tcache-churn's finish, every seed); nothing of the run's
// stack is touched.
#pragma once

#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

void run_teardown_drill(Stack& stack, sim::Rng& rng);

}  // namespace segsim::scenarios
