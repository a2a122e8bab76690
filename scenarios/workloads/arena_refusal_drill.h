// The arena segment-refusal drill (issue 10): TxnArenaManager promises that a
// begin() or an allocate() the segment allocator refuses is OutOfBudget with
// the segment allocator's own detail, changes nothing and is counted in
// stats().segment_refusals (core/txn_arena.h). The run's arenas share a 1 GiB
// budget with page work, so that refusal came only from a fault plan, now and
// then: seed 70's mutant txn_arena.cpp:169 (a refused chunk growth goes on as
// if granted) passed every sweep.
//
// On a private allocator (regions of 256 KiB, the largest segment class; a
// budget of a drawn number of them; thread caches on or off, a draw), whose
// budget the drill fills with segments of 256 KiB, one per region — the size
// of Medium's one initial chunk, of each of Large's eight, and of every chunk
// an arena grows by — so exactly the segments it gives back are there to take:
//  1. full: begin(Medium) is refused by the segment allocator;
//  2. a drawn number k < 8 given back: begin(Large) takes k chunks, is refused
//     for the next, and gives the k back (none kept: the allocator's live
//     slices are the drill's again);
//  3. one given back: begin(Medium) succeeds; an allocation filling its chunk
//     up to a drawn remainder, then one larger than the remainder, is refused
//     (its growth refused), changing nothing in the arena — used, reserved,
//     chunks, the tree's reservation;
//  4. one more given back: the same allocation succeeds in a second chunk;
//     the rollback returns both.
// After every call: stats().segment_refusals grew by exactly the refusals,
// over_limit not at all, live arenas and reserved bytes as the model says,
// audit() clean. Failures are "arena-refusal" (a refusal's code, detail or
// effect) and "arena-accounting" (a count); a broken premise is "exception".
//
// Run at quiescence (txn-arenas' finish, every seed); nothing of the run's
// stack is touched, and the simulation sees no scheduling point.
#pragma once

#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

void run_arena_refusal_drill(Stack& stack, sim::Rng& rng);

}  // namespace segsim::scenarios
