// The audit episode (issue 10): the audits of SegmentAllocator,
// SlabAllocator, TxnArenaManager and LargeObjectAllocator are what the
// accounting oracles trust at quiescence, yet a correct run never walks their
// violation reports — only a bug does. The episode builds private instances
// of the four on a private SimOs (no faults: the run's fault-point controller
// is lifted), gives them live, free, cached and nested state, then breaks one
// invariant at a time through the test-only seam (`AuditSeam`, a friend of
// each class), audits, restores the invariant exactly and audits again. The
// "audit-detects" oracle (oracles/audit_detection.h) checks that each broken
// invariant is named and that the restored instance audits clean.
//
// Nothing else runs meanwhile (the conductor's finish, at quiescence) and
// the instances are the episode's alone, so the run's own state and oracles
// are untouched.
#pragma once

#include <cstddef>

#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

// The episode's SegmentAllocator (the flight recorder's report may name it).
inline constexpr std::size_t kAuditRegionBytes[] = {std::size_t{256} << 10, std::size_t{1} << 20};
inline constexpr std::size_t kAuditBudgetBytes = std::size_t{16} << 20;

// Runs the episode from the calling fiber; `rng` draws the instances' sizes.
void run_audit_episode(Stack& stack, sim::Rng& rng);

}  // namespace segsim::scenarios
