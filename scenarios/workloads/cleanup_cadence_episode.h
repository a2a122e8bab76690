// The cleanup-cadence episode (issue 10): when the proactive cleanup starts,
// and what it releases, change no result a caller sees, so the run's oracles
// cannot judge it; a cleanup that starts on the wrong release (or every one,
// or never) passed every sweep. The episode drives a private SegmentAllocator
// (private SimOs, no thread caches, no fault point able to fire, cleanup
// start and period drawn, small so they come often; on or off) from the
// calling fiber alone, and checks every call against the cleanup-cadence
// model (oracles/cleanup_cadence.h): batches of one class allocated and
// released in drawn orders across several regions, each cleanup waited for
// and its releases checked, single releases aimed at the due points and
// either side of them.
//
// Run at quiescence (tcache-churn's finish): the instance is the episode's
// alone, so the run's own state and oracles are untouched.
#pragma once

#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

// Runs the episode from the calling fiber; `rng` draws its configuration and calls.
void run_cleanup_cadence_episode(Stack& stack, sim::Rng& rng);

}  // namespace segsim::scenarios
