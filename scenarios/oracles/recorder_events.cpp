// recorder-events: see recorder_events.h.
#include "scenarios/oracles/recorder_events.h"

#include <array>

#include <fmt/format.h>

#include "core/error.h"
#include "core/flight_recorder.h"

namespace segsim::scenarios {

namespace {

const char* layer_name(RecordedLayerKind layer) {
  switch (layer) {
    case RecordedLayerKind::Slab: return "slab";
    case RecordedLayerKind::Arena: return "arena";
    case RecordedLayerKind::Large: return "large-object";
  }
  return "?";
}

// The layer the recorder's own classification gives `op`; nullopt: none of the three.
std::optional<RecordedLayerKind> layer_of(flight_recorder::Op op) {
  if (flight_recorder::is_slab_op(op)) return RecordedLayerKind::Slab;
  if (flight_recorder::is_arena_op(op)) return RecordedLayerKind::Arena;
  if (flight_recorder::is_large_op(op)) return RecordedLayerKind::Large;
  return std::nullopt;
}

std::string describe(const CrashEvent& e) {
  // "allocator N", not a bare number: an instance's id hangs on what the
  // process made before, and the signature renames only that phrase.
  return fmt::format("{} (allocator {}, ids [{}, {}, {}, {}], bytes {}, class {}, {})", flight_recorder::op_name(e.op),
                     e.allocator, e.region, e.slice, e.generation, e.object, e.bytes, e.size_class,
                     e.error ? errc_name(*e.error) : std::string_view("ok"));
}

bool same_call(const CrashEvent& got, const CrashEvent& due, bool compare_instance) {
  return got.op == due.op && (!compare_instance || got.allocator == due.allocator) && got.region == due.region &&
         got.slice == due.slice && got.generation == due.generation && got.object == due.object &&
         got.bytes == due.bytes && got.size_class == due.size_class && got.error == due.error;
}

std::optional<std::string> slab_config_problem(const CrashReport& report, const CrashSlabConfig& due) {
  if (!report.slab) return "the report has no \"slab\" config; a slab allocator was made while recording";
  const CrashSlabConfig& got = *report.slab;
  if (got.allocator != due.allocator || got.slab_bytes != due.slab_bytes ||
      got.magazine_capacity != due.magazine_capacity || got.adaptive_magazines != due.adaptive_magazines ||
      got.depot_full_magazines_max != due.depot_full_magazines_max || got.empty_slabs_kept != due.empty_slabs_kept ||
      got.max_slabs != due.max_slabs) {
    return fmt::format("the report's slab config (allocator {}, slab {} B, adaptive {}, depot {}, kept {}, max {}) is "
                       "not the last slab allocator's (allocator {}, slab {} B, adaptive {}, depot {}, kept {}, max {}) "
                       "or its magazine capacities differ",
                       got.allocator, got.slab_bytes, got.adaptive_magazines, got.depot_full_magazines_max,
                       got.empty_slabs_kept, got.max_slabs, due.allocator, due.slab_bytes, due.adaptive_magazines,
                       due.depot_full_magazines_max, due.empty_slabs_kept, due.max_slabs);
  }
  return std::nullopt;
}

std::optional<std::string> large_config_problem(const CrashReport& report, const CrashLargeConfig& due) {
  if (!report.large) return "the report has no \"large\" config; a large-object allocator was made while recording";
  const CrashLargeConfig& got = *report.large;
  if (got.allocator != due.allocator || got.max_object_bytes != due.max_object_bytes ||
      got.granule_bytes != due.granule_bytes || got.span_bytes != due.span_bytes ||
      got.budget_bytes != due.budget_bytes || got.fit != due.fit || got.decommit_after_ns != due.decommit_after_ns ||
      got.decommit_check_interval_ns != due.decommit_check_interval_ns) {
    return fmt::format("the report's large-object config (allocator {}, max {} B, granule {} B, span {} B, budget {} B, "
                       "fit {}, decommit after {} ns, every {} ns) is not the last large-object allocator's "
                       "(allocator {}, max {} B, granule {} B, span {} B, budget {} B, fit {}, {} ns, {} ns)",
                       got.allocator, got.max_object_bytes, got.granule_bytes, got.span_bytes, got.budget_bytes,
                       got.fit, got.decommit_after_ns, got.decommit_check_interval_ns, due.allocator,
                       due.max_object_bytes, due.granule_bytes, due.span_bytes, due.budget_bytes, due.fit,
                       due.decommit_after_ns, due.decommit_check_interval_ns);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> recorded_layers_problem(const std::vector<ExpectedLayerEvent>& expected,
                                                   const CrashReport& report, bool nested_segment_calls_due,
                                                   const std::optional<CrashSlabConfig>& slab,
                                                   const std::optional<CrashLargeConfig>& large) {
  // The program's calls (depth 0), in each thread's order; what the layers
  // called themselves (the segment allocator's slabs and chunks, a release's
  // lazy decommit) is nested.
  std::vector<const CrashEvent*> calls;
  std::size_t nested_segment_calls = 0;
  for (const CrashThread& thread : report.threads) {
    for (const CrashEvent& event : thread.events) {
      if (event.depth == 0) {
        calls.push_back(&event);
      } else if (flight_recorder::is_allocator_op(event.op)) {
        ++nested_segment_calls;
      }
    }
  }
  if (nested_segment_calls_due && nested_segment_calls == 0) {
    return "no segment-allocator call is recorded nested (depth > 0), yet the layers took slabs or chunks";
  }
  std::array<std::optional<std::uint32_t>, 3> instance{};  // per layer: the first call's id
  for (std::size_t i = 0; i < expected.size() || i < calls.size(); ++i) {
    if (i >= calls.size()) {
      return fmt::format("the report keeps {} call(s) at depth 0 of the {} made; the first lost: {}", calls.size(),
                         expected.size(), describe(expected[i].event));
    }
    const CrashEvent& got = *calls[i];
    if (i >= expected.size()) {
      return fmt::format("the report has a call at depth 0 that the program did not make, after its {}: {}",
                         expected.size(), describe(got));
    }
    const ExpectedLayerEvent& due = expected[i];
    const std::optional<RecordedLayerKind> layer = layer_of(got.op);
    if (layer != due.layer) {
      return fmt::format("call {} ({}) of the {} layer is put in the {} layer by the recorder's classification", i,
                         flight_recorder::op_name(got.op), layer_name(due.layer),
                         layer ? layer_name(*layer) : "no object");
    }
    if (!same_call(got, due.event, due.instance_known)) {
      return fmt::format("call {} is recorded as {}; the call made was {}", i, describe(got), describe(due.event));
    }
    std::optional<std::uint32_t>& id = instance[static_cast<std::size_t>(due.layer)];
    if (!due.instance_known && (got.allocator == 0 || (id && *id != got.allocator))) {
      return fmt::format("call {} ({}) names {} allocator {}; the episode's one instance was allocator {}", i,
                         flight_recorder::op_name(got.op), layer_name(due.layer), got.allocator, id ? *id : 0);
    }
    if (!id) id = got.allocator;
  }
  if (slab) {
    if (auto problem = slab_config_problem(report, *slab)) return problem;
  }
  if (large) {
    if (auto problem = large_config_problem(report, *large)) return problem;
  }
  return std::nullopt;
}

void check_recorded_layers(Oracles& hub, const std::vector<ExpectedLayerEvent>& expected, const CrashReport& report,
                           bool nested_segment_calls_due, const std::optional<CrashSlabConfig>& slab,
                           const std::optional<CrashLargeConfig>& large) {
  if (auto problem = recorded_layers_problem(expected, report, nested_segment_calls_due, slab, large)) {
    hub.fail("recorder-events", *problem);
  }
}

}  // namespace segsim::scenarios
