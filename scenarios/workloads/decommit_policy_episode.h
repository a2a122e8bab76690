// The decommit-policy episode: the large-object allocator's lazy decommit —
// when release() runs a pass, which ranges a pass, decommit_idle(min) and the
// pressure actions decommit — changes no result a caller sees, so the run's
// oracles cannot judge it: a release that decommits on every call, or an
// emergency that leaves a range released in the same nanosecond resident,
// passed every sweep. The episode drives a private LargeObjectAllocator
// (private SimOs, no fault point able to fire but the one the last step
// fires, best fit; decommit_after_ns and
// decommit_check_interval_ns drawn: 0, 1 ns, microseconds, a millisecond, a
// second) from the calling fiber alone, on a clock that moves only when it
// sleeps (workloads/manual_clock.h), and checks every call against the
// decommit-policy model (oracles/decommit_policy.h):
//  * objects of 5–8 granules fill two or three spans exactly; every other
//    one stays live, so no two released ranges are adjacent (none coalesces);
//  * the others are released and allocated again (exact fits) at drawn
//    times — sleeps of 0 and 1 ns, to the next check and to a range's
//    decommit time ±1 ns, up to twice the larger setting;
//  * decommit_idle(min) with min 0, 1, decommit_after_ns, a dirty range's idle
//    time ±1 ns and past every range's;
//  * StackPressureActions with only this allocator as a target: gentle,
//    aggressive and emergency, often right after a release in the same
//    nanosecond;
//  * last, a coalescing drill: a live neighbour of a dirty range released
//    while decommit_idle advises that range with its lock dropped (the fault
//    point large.decommit.slow, fired once; the release runs at the end of
//    its sleep): the range comes back merged, dirty, idle since the release
//    — then a pass asking 1 ns more than that must leave it.
//
// Run at quiescence (the large-objects and pressure scenarios' finish): the
// instance is the episode's alone, so the run's own state, oracles and trace
// are untouched.
#pragma once

#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

// Runs the episode from the calling fiber; `rng` draws its configuration and calls.
void run_decommit_policy_episode(Stack& stack, sim::Rng& rng);

}  // namespace segsim::scenarios
