// The object layers of the "recorded" scenario (scenarios/workloads/recorded.cpp):
// a crash report's SlabAllocator, TxnArenaManager and LargeObjectAllocator
// operations (format version 3), rebuilt on a layer object of the simulated
// stack made with the report's config (docs/reproduce.md). Objects are
// matched by their recorded ids; a free waits for its object's allocation
// (a remote free's sequence number may be below it: the slab's hand-overs
// go through atomics, which carry no stamp).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/large_object_allocator.h"
#include "core/slab_allocator.h"
#include "core/txn_arena.h"
#include "scenarios/crash_report.h"
#include "scenarios/stack.h"

namespace segsim::scenarios {

enum class RecordedLayer { Allocator, Page, Slab, Arena, Large };

// Which layer (and which instance of it) the rebuilt run replays: the
// program's last call (depth 0) in the newest recorded thread that made one,
// when it is an object layer's; else the allocator / page layer as before
// (instance 0). A refused report is always the allocator's.
struct RecordedTarget {
  RecordedLayer layer = RecordedLayer::Allocator;
  std::uint32_t instance = 0;
};
RecordedTarget recorded_target(const CrashReport& report);

// Whether event `e` is replayed in a rebuild of `target` (object layers only).
bool replays_object_event(const RecordedTarget& target, const CrashEvent& e);

// The id of the object an event creates (an allocation, a begun arena), or
// the object it acts on; nullopt for neither.
using ObjectKey = std::tuple<std::uint32_t, std::uint32_t, std::uint32_t, std::uint64_t>;
std::optional<ObjectKey> creates_object(const CrashEvent& e);
std::optional<ObjectKey> uses_object(const CrashEvent& e);

struct RecordedLayers {
  RecordedTarget target;
  std::unique_ptr<SlabAllocator> slab;
  std::unique_ptr<TxnArenaManager> arenas;
  std::unique_ptr<LargeObjectAllocator> large;
  std::map<ObjectKey, SlabObject> slab_objects;  // live here, by recorded ids
  std::map<std::uint64_t, std::uint64_t> arena_ids;  // recorded arena id → rebuilt
  struct LargeHeld {
    LargeObject object;
    std::uint8_t fill = 0;
  };
  std::map<ObjectKey, LargeHeld> large_objects;
  std::uint64_t fills = 0;
  // The first content / zeroing failure of a large object: reported when the
  // operations are done, so that an assertion the stack makes later (what an
  // assertion report is matched by) is not hidden by its earlier symptom.
  std::string deferred_oracle;
  std::string deferred_message;
};

// Makes the layer object (prepare, on the conductor) and allocates up front
// the objects the window frees but allocated before it.
void prepare_layers(Stack& stack, RecordedLayers& layers, const std::vector<const CrashEvent*>& in_order);
// Performs event `e` (a replayed object-layer call) of the running fiber.
void perform_layer_operation(Stack& stack, RecordedLayers& layers, const CrashEvent& e);
// A client fiber's end: its slab magazines go back (a thread's exit).
void finish_layer_client(RecordedLayers& layers);
// After every client: what the window left live goes back, then the layer's
// audit (an oracle failure when it finds a violation).
void finish_layers(Stack& stack, RecordedLayers& layers);

}  // namespace segsim::scenarios
