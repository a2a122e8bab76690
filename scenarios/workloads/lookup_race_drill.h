// The lookup-race drill (issue 10): lookup() finds a region in the address
// index, then locks the region's class; a free_unused_regions() in between may
// unmap the region, and a growth may map another at the same base. The window
// is a fault point ("lookup.index.yield") that swarm runs rarely reach at the
// right moment, so the drill walks it deterministically from one fiber: on a
// private allocator (no caches, no cleanup) it releases a slice, arms a
// controller that, when the lookup of that slice's start reaches the fault
// point, unmaps every free region and on most draws maps a region again (same
// class or another), and judges the answer against what is mapped at the
// address by then: a region gone is InvalidPointer "its region was unmapped
// while the lookup ran"; a region mapped again there answers as it holds the
// address (its live slice, DoubleFree for a free slice start, InvalidPointer
// inside a slice) — never a slice of the unmapped region (lookup-race).
// Then the stale handle is released (or reset) once more: DoubleFree, with the
// diagnosis of what became of its slice (region unmapped, its slot mapped
// anew elsewhere, or at the same base with the slice free or reallocated —
// then naming the generation it has now).
//
// Run at quiescence (alloc-api's finish, seeds without the recorder): the
// instance is the drill's alone.
#pragma once

#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

void run_lookup_race_drill(Stack& stack, sim::Rng& rng);

}  // namespace segsim::scenarios
