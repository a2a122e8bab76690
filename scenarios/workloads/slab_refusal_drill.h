// The slab segment-refusal drill (issue 10): SlabAllocator promises that an
// allocation the segment allocator cannot back is OutOfBudget / OutOfMemory
// from it, state unchanged, and counted in stats().slab_failures
// (core/slab_allocator.h) — and, as every refusal, that it happens only when
// it must. The run's slabs share a 1 GiB budget, so only a fault plan made the
// segment allocator refuse a slab: the probe slab.grow.segment_refused fired
// in 9 of 200 swarm seeds of slab-churn, none without faults.
//
// On a private allocator (regions of 256 KiB; a budget of a drawn number of
// them) under a slab allocator of 256 KiB slabs (one a region), the drill
// fills the budget with 256 KiB segments and gives a drawn k back, so k slabs
// can be had and no more. In a drawn class, one thread:
//  1. allocates until refused: exactly k slabs' objects are handed out — all
//     of them, none twice — then the refusal: the segment allocator's
//     OutOfBudget, nothing changed (live and cached objects, slabs), one slab
//     failure more;
//  2. frees a drawn object: the next allocation succeeds (the refusal was due
//     to the budget alone);
//  3. one more segment given back: the next allocation takes a new slab.
// Then everything freed and flushed; the slab allocator destroyed gives every
// slab back (the segment allocator holds the drill's segments alone).
// Failures are "slab-refusal" (a refusal's code, timing or effect) and
// "slab-accounting" (a count); a broken premise is "exception".
//
// Run at quiescence (slab-churn's finish, every seed); nothing of the run's
// stack is touched.
#pragma once

#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

void run_slab_refusal_drill(Stack& stack, sim::Rng& rng);

}  // namespace segsim::scenarios
