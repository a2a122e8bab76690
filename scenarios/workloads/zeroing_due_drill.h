// The zeroing-due drill (issue 10): SegmentAllocator promises that a zeroed
// allocation zeroes a slice only when it may be dirty (core/segment_allocator.h).
// A slice not handed out since its region was mapped, or since the region's
// memory went back to the Os, reads zero already; zeroing it again is correct
// but costs a memset of up to 256 KiB. Nothing else notices: the memory reads
// zero either way, so a region whose release forgot that its slices read zero
// (seed 67's mutant region.cpp:51) passed every sweep.
//
// On a private allocator (one region of a drawn class; thread caches on or
// off, a draw: the caches' hand-out path or the pool's; a drawn zeroing
// method: memset, or madvise from the class's size on), the
// drill counts zeroings — stats().resets_memset + resets_madvise, one per
// zeroing whichever way it went — across four phases, and each handed-out
// slice is read whole:
//  1. fresh: a drawn number of zeroed allocations, then the caches flushed and
//     the rest of the region — none zeroed (a fresh mapping reads zero);
//  2. dirty: every slice written and released, caches flushed, then a drawn
//     number of allocations, each zeroed or uninitialized by a draw — exactly
//     the zeroed ones zeroed, and each reads zero;
//  3. released: every slice written and released, caches flushed,
//     release_unused_regions(class) gives the region's memory back (1 region:
//     regions-released' own promise, re-checked as the drill's premise), then
//     the whole region again, zeroed — none zeroed, each reads zero;
//  4. released again, then a drawn part of it handed out and dirtied again —
//     when the whole region is taken once more, exactly that part is zeroed.
// Failures are "zero-on-allocate" (a zeroing that was not due, or one missing:
// then also the bytes that do not read zero); a broken premise is "exception".
//
// Run at quiescence (tcache-churn's finish, every seed); nothing of the run's
// stack is touched, and the simulation sees no scheduling point.
#pragma once

#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

void run_zeroing_due_drill(Stack& stack, sim::Rng& rng);

}  // namespace segsim::scenarios
