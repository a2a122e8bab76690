// The flight recorder's table of mapped regions on purpose (issue 10): a
// compact event carries no address, and the report writer rebuilds it from
// the base its region was noted at (core/flight_recorder_regions.h) — but the
// sweeps wrote reports only while every region was mapped where it was first
// mapped and every allocator lived, and no oracle read a report's addresses.
// The episode walks each promise of that table with private allocators (two
// to eight, 256 KiB regions, thread caches drawn on or off, some calls inside
// a recorder Scope so that they are recorded wide, with their own address),
// writing a report after each step and checking every allocator event in it
// with the "recorder-addresses" oracle (oracles/recorder_addresses.h) against
// where the allocators said they mapped each region (SegmentObserver::
// region_mapped):
//   1. regions mapped (up to some 400 keys in the table), calls of every
//      kind and class boundary, one allocator run to OutOfBudget;
//   2. the first allocator's regions unmapped (free_unused_regions): their
//      events keep the old base while the allocator lives;
//   3. those ids mapped again, at other bases (another allocator may take the
//      freed room first): old events give the new base;
//   4. one allocator destroyed: its compact events give 0x0;
//   5. a fault signal at a near-null address (not under TSan, which defers
//      signals): those address-0 events must not be blamed for it.
// Every successful call of the episode must be in each report (the ring
// holds them all): none may be dropped or put under another allocator.
//
// Runs at quiescence (the conductor's finish) with the run's fault-point
// controller lifted and its own enable() (a fresh report count); the
// recorder is enabled again with the seed's config afterwards. No platform
// call of the run's stack: the rest of the seed's schedule is unchanged.
#pragma once

#include <cstddef>

#include "scenarios/stack.h"
#include "scenarios/workloads/recorder_ops.h"
#include "sim/random.h"

namespace segsim::scenarios {

inline constexpr std::size_t kRecorderRegionsRegionBytes = std::size_t{256} << 10;
inline constexpr std::size_t kRecorderRegionsBudgetBytes = 40 * kRecorderRegionsRegionBytes;

void recorder_region_ops(Stack& stack, RecorderCheck& check, sim::Rng& rng);

}  // namespace segsim::scenarios
