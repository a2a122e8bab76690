// Where the SegmentAllocators' regions are mapped, for the flight recorder's
// reports (flight_recorder.h). A compact event carries a slice's stable ids
// but not its address (the store is what the hot path saves); the report
// writer rebuilds the address from the region's base noted here (and so
// maps a fault address to a recorded slice, as before).
//
// A fixed, lock-free open-addressing table keyed by (allocator id, region
// id): written by the allocators when they map a region and when they are
// destroyed (rare, never on the hot path), read by the report writer —
// also inside a fatal-signal handler, so reads are plain atomic loads with
// no allocation and no lock. A region that is unmapped but whose allocator
// lives keeps its entry (its events' addresses stay readable, and a fault in
// memory it no longer maps is still named) until the id is mapped again.
// A full table notes nothing more: those regions' events have address 0.
#pragma once

#include <cstddef>
#include <cstdint>

namespace segsim::flight_recorder::detail {

inline constexpr std::size_t kRegionTableEntries = 16384;  // a power of two

// Called by a SegmentAllocator when region `region` of allocator
// `allocator` is mapped at `base`. Not noexcept: its fault point
// (recorder.regions.claim.yield) yields, and under a simulation a yield is a
// scheduling point where a run that ends cancels the fiber (an exception);
// the entry it had claimed is then left free, nothing noted.
void note_region_mapped(std::uint32_t allocator, std::uint32_t region, std::uintptr_t base);
// Called when allocator `allocator` unmaps region `region` for good (its
// destructor): the entry is freed for another region.
void forget_region(std::uint32_t allocator, std::uint32_t region) noexcept;

// Async-signal-safe reads. The noted base of (allocator, region); 0 when
// none is noted.
std::uintptr_t region_base(std::uint32_t allocator, std::uint32_t region) noexcept;

// The entry where the search for (allocator, region) starts. Keys sharing it
// are placed past it, in the next free entry: a drill that makes keys collide
// on purpose picks them by this (scenarios/workloads/region_table_drill.h).
std::size_t region_home_entry(std::uint32_t allocator, std::uint32_t region) noexcept;
// Where (allocator, region) is noted: its entry, kRegionTableEntries when
// none. Every key sits within region_max_displacement() entries past its
// home entry, so that a search from the home finds it.
std::size_t region_entry(std::uint32_t allocator, std::uint32_t region) noexcept;
std::size_t region_max_displacement() noexcept;

}  // namespace segsim::flight_recorder::detail
