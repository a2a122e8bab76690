// The "recorder-events" oracle (recorder_events.cpp): what the flight
// recorder promises of the slab, arena and large-object layers' calls
// (docs/flight-recorder.md, format 3): every public call the program made is
// one event of its thread, in call order, at depth 0, carrying the layer
// instance's id, the object's ids, the request and the result — a refusal
// with its Errc; flight_recorder::is_slab_op / is_arena_op / is_large_op put
// each event in the layer that made it; the calls they make themselves (the
// segment allocator's chunks and slabs) are recorded nested (depth > 0), not
// as the program's; and the
// report's "slab" / "large" sections carry the configs of the last slab and
// large-object allocators made. The episode that makes the calls on purpose
// is workloads/recorder_layer_ops.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scenarios/crash_report.h"
#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

enum class RecordedLayerKind : std::uint8_t { Slab, Arena, Large };

// One call as the report must keep it. `event.sequence` and `event.depth`
// are not compared (the clock's stamps; depth is 0 for every expected call).
// `instance_known` false: the layer's instance id is not visible through its
// API (an arena manager's): the calls of one layer must then all carry the
// same, non-zero id.
struct ExpectedLayerEvent {
  RecordedLayerKind layer = RecordedLayerKind::Slab;
  CrashEvent event;
  bool instance_known = true;
};

// What the report got wrong, or nullopt. `nested_segment_calls_due`: the
// layers took segments (a slab, an arena's chunk), which must be recorded
// nested. `slab` / `large`: the configs the report must carry (nullopt: not
// checked).
std::optional<std::string> recorded_layers_problem(const std::vector<ExpectedLayerEvent>& expected,
                                                   const CrashReport& report, bool nested_segment_calls_due,
                                                   const std::optional<CrashSlabConfig>& slab,
                                                   const std::optional<CrashLargeConfig>& large);

// Fires "recorder-events" on recorded_layers_problem's answer.
void check_recorded_layers(Oracles& hub, const std::vector<ExpectedLayerEvent>& expected, const CrashReport& report,
                           bool nested_segment_calls_due, const std::optional<CrashSlabConfig>& slab,
                           const std::optional<CrashLargeConfig>& large);

}  // namespace segsim::scenarios
