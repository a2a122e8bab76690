// The budget refusal drill (issue 10): over budget, growth first unmaps
// fully-returned regions of any class, then refuses with OutOfBudget
// (segment_allocator.h). It retries only when another thread took the room
// it freed meanwhile (segment_regions.cpp, reserve_region_budget), so a
// lone caller whose budget is full of live slices makes one pass: one
// free_unused_regions, then the refusal. A retry that nothing called for
// changes no state and no text — only the time the refusal takes, up to 64
// passes over every class — so no state oracle sees it (seeds 12, 49 and
// 52's survivors in reserve_region_budget's give-up test).
//
// On a ClockedInstance with the caches off (no cache holds a free slice the
// pass could give back) the drill fills the budget with live slices of one
// class, counts the locks a free_unused_regions call with the budget path's
// target takes (it frees nothing), then those the refused allocation takes:
// at most that pass's once more, and a few of the growth's own. Failures:
// "bounded-growth" (a refusal's work past one pass), "allocation" (no
// refusal, or not OutOfBudget).
//
// Run at quiescence (tcache-churn's finish, every seed); nothing of the run's
// stack is touched, and the simulation sees no scheduling point.
#pragma once

#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

void run_budget_refusal_drill(Stack& stack, sim::Rng& rng);

}  // namespace segsim::scenarios
