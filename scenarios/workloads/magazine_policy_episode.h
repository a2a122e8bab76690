// The magazine-policy episode (issue 10): when a slab thread cache serves from
// its own magazines, exchanges with the depot, and how its magazine capacity
// adapts change no result a caller sees, so the run's oracles cannot judge
// them; a magazine layer that goes to the depot too often, or adapts to the
// wrong count, passed every sweep. The episode drives a private SlabAllocator
// (over a private SegmentAllocator and SimOs, no fault point able to fire,
// room for every slab, capacities and depot limit drawn, adaptive or not) from
// the calling fiber alone and checks every call against the magazine-policy
// model (oracles/magazine_policy.h): hot phases (bursts past two magazines and
// back: exchanges every few operations, the capacity grows), cold phases (many
// allocate-free pairs served by the magazines, then a burst: the capacity
// shrinks), random walks, frees by handle and by address, refused frees
// (stale, null), flushes, every class at its byte edges.
//
// Run at quiescence (slab-churn's finish): the instance is the episode's
// alone, so the run's own state and oracles are untouched.
#pragma once

#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

// Runs the episode from the calling fiber; `rng` draws its configuration and calls.
void run_magazine_policy_episode(Stack& stack, sim::Rng& rng);

}  // namespace segsim::scenarios
