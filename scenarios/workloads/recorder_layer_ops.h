// The flight recorder's object layers on purpose (issue 10): a sweep's
// workloads call the slab, arena and large-object layers' public operations
// with the recorder off, or on their main paths only, so neither the layers'
// recording of every operation and result nor the report writer's object
// events and configs were checked. The episode records one call of every
// kind the three layers record — each operation, succeeding and refused with
// each refusal it has (a slab request past the largest class, a second and a
// null free; an arena past max_live_arenas, a child of an arena never issued,
// a zero-byte and a misaligned allocation, an end with a live child, a second
// end; a large request under the smallest object and past the largest, a
// second release; decommit and unmap) — on private instances, writes a
// report and checks it with the "recorder-events" oracle
// (oracles/recorder_events.h): every call is kept, in order, with its ids,
// request and result, each in its layer; the nested segment-allocator calls
// are nested; the slab and large configs are the instances'. Then a report
// that a file-size limit cuts short must not be written at all (no path, no
// file, no temporary left): the writer's failing-write path.
//
// Runs at quiescence (the conductor's finish) with the run's fault-point
// controller lifted and its own enable() (a ring that keeps every call, a
// fresh report count); the recorder is enabled again with the seed's config
// afterwards, so what follows records as before. No platform call of the
// run's stack: the schedule of the rest of the seed is unchanged.
#pragma once

#include <cstddef>

#include "scenarios/stack.h"
#include "scenarios/workloads/recorder_ops.h"
#include "sim/random.h"

namespace segsim::scenarios {

// The episode's SegmentAllocator (a later report may name it).
inline constexpr std::size_t kRecorderLayersRegionBytes = std::size_t{2} << 20;
inline constexpr std::size_t kRecorderLayersBudgetBytes = std::size_t{24} << 20;

void recorder_layer_ops(Stack& stack, RecorderCheck& check, sim::Rng& rng);

}  // namespace segsim::scenarios
