// The unmap-order drill (issue 10): free_unused_regions "unmaps fully-returned
// regions (freed queue first)" (core/segment_allocator.h) — which regions a
// call unmaps, not only how many (regions-unmapped). Seed 39's mutant
// segment_regions.cpp:306, active regions taken before the freed queue,
// survived every sweep: no run could tell which kind each unmapped region was.
//
// On a private allocator (its own SimOs, no thread caches, no proactive
// cleanup) and one fiber: one region of a drawn class made all free and
// released (release_unused_regions: it joins the freed queue), one region of
// another class made all free and left active, then free_unused_regions with
// a target one region or one byte below what is mapped. Exactly one region
// is due either way, and it is the freed one: the freed class keeps none, the
// other its active one (regions-unmapped).
//
// Run at quiescence (tcache-churn's finish, every seed); nothing of the run's
// stack is touched.
#pragma once

#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

void run_unmap_order_drill(Stack& stack, sim::Rng& rng);

}  // namespace segsim::scenarios
