#include "scenarios/workloads/recorded_layers.h"

#include <cstring>

#include <fmt/format.h>

namespace segsim::scenarios {

namespace recorded_layers {

using flight_recorder::Op;

RecordedLayer layer_of(Op op) {
  if (flight_recorder::is_slab_op(op)) return RecordedLayer::Slab;
  if (flight_recorder::is_arena_op(op)) return RecordedLayer::Arena;
  if (flight_recorder::is_large_op(op)) return RecordedLayer::Large;
  return flight_recorder::is_page_op(op) ? RecordedLayer::Page : RecordedLayer::Allocator;
}

ObjectKey key_of(const CrashEvent& e) { return {e.region, e.slice, e.generation, e.object}; }
ObjectKey arena_key(std::uint64_t id) { return {0, 0, 0, id}; }

// A fill byte for the n-th large object: never 0 (a wiped object must not pass).
std::uint8_t large_fill(std::uint64_t n) { return static_cast<std::uint8_t>(1 + (n * 37) % 255); }

SlabAllocatorConfig slab_config(const CrashReport& report, std::uint32_t instance) {
  SlabAllocatorConfig config;
  if (!report.slab || report.slab->allocator != instance) return config;
  const CrashSlabConfig& c = *report.slab;
  config.slab_bytes = c.slab_bytes;
  for (std::size_t i = 0; i < kSlabClassCount && i < c.magazine_capacity.size(); ++i) {
    config.magazine_capacity[i] = static_cast<std::uint32_t>(c.magazine_capacity[i]);
  }
  config.adaptive_magazines = c.adaptive_magazines;
  config.depot_full_magazines_max = c.depot_full_magazines_max;
  config.empty_slabs_kept = c.empty_slabs_kept;
  config.max_slabs = c.max_slabs;
  return config;
}

LargeObjectAllocatorConfig large_config(const CrashReport& report, std::uint32_t instance) {
  LargeObjectAllocatorConfig config;
  if (!report.large || report.large->allocator != instance) return config;
  const CrashLargeConfig& c = *report.large;
  config.max_object_bytes = c.max_object_bytes;
  config.granule_bytes = c.granule_bytes;
  config.span_bytes = c.span_bytes;
  config.budget_bytes = c.budget_bytes;
  config.fit = static_cast<FitPolicy>(c.fit);
  config.decommit_after_ns = c.decommit_after_ns;
  config.decommit_check_interval_ns = c.decommit_check_interval_ns;
  return config;
}

void fill_large(RecordedLayers::LargeHeld& held) {
  std::memset(held.object.data(), held.fill, held.object.size());
}

// Every page's first byte and the last byte: what the real run's clients check.
bool large_intact(const RecordedLayers::LargeHeld& held) {
  const std::byte want{held.fill};
  for (std::size_t b = 0; b < held.object.size(); b += 4096) {
    if (held.object.data()[b] != want) return false;
  }
  return held.object.size() == 0 || held.object.data()[held.object.size() - 1] == want;
}

void defer_failure(RecordedLayers& layers, const char* oracle, std::string message) {
  if (!layers.deferred_oracle.empty()) return;
  layers.deferred_oracle = oracle;
  layers.deferred_message = std::move(message);
}

void slab_allocate(Stack& stack, RecordedLayers& layers, const CrashEvent& e) {
  Result<SlabObject> got = layers.slab->allocate(e.bytes);
  if (!got.ok()) return;
  if (e.error) {  // refused in the recorded run: not a handle the window uses
    (void)layers.slab->free(got.value());
    return;
  }
  layers.slab_objects[key_of(e)] = got.value();
  (void)stack;
}

void slab_free(Stack& stack, RecordedLayers& layers, const CrashEvent& e) {
  auto it = layers.slab_objects.find(key_of(e));
  if (it == layers.slab_objects.end()) return;  // allocated before the window and not known, or freed here already
  const SlabObject object = it->second;
  if (e.error) return;  // the recorded free was refused: the object stays live
  layers.slab_objects.erase(it);
  const Status freed = layers.slab->free(object);
  if (!freed.ok()) {
    stack.oracles.fail("slab-refusal", fmt::format("free of recorded slab object (slab {}, index {}, generation {}) "
                                                   "refused: {}",
                                                   e.region, e.slice, e.generation, errc_name(freed.error().code)));
  }
}

void arena_begin(Stack& stack, RecordedLayers& layers, const CrashEvent& e) {
  Result<TxnArena*> got = e.op == Op::ArenaBegin
                              ? layers.arenas->begin(e.slice, static_cast<ArenaProfile>(e.generation % kArenaProfileCount))
                              : [&]() -> Result<TxnArena*> {
                                  auto parent = layers.arena_ids.find(e.slice);
                                  if (parent == layers.arena_ids.end()) {
                                    return make_error(Errc::InvalidPointer, "parent not rebuilt");
                                  }
                                  return layers.arenas->begin_child(parent->second);
                                }();
  if (!got.ok()) return;
  if (e.error || e.region == 0) {
    (void)layers.arenas->rollback(got.value()->id());
    return;
  }
  layers.arena_ids[e.region] = got.value()->id();
  (void)stack;
}

void arena_allocate(RecordedLayers& layers, const CrashEvent& e) {
  auto it = layers.arena_ids.find(e.region);
  if (it == layers.arena_ids.end()) return;
  Result<TxnArena*> arena = layers.arenas->find(it->second);
  if (!arena.ok()) return;
  const std::size_t alignment = e.slice == 0 ? 16 : e.slice;
  Result<std::byte*> data = arena.value()->allocate(e.bytes, alignment);
  if (data.ok()) std::memset(data.value(), 0x5a, e.bytes);
}

void arena_end(Stack& stack, RecordedLayers& layers, const CrashEvent& e) {
  auto it = layers.arena_ids.find(e.region);
  if (it == layers.arena_ids.end()) return;
  const std::uint64_t id = it->second;
  const Status ended = e.op == Op::ArenaCommit ? layers.arenas->commit(id) : layers.arenas->rollback(id);
  if (ended.ok()) layers.arena_ids.erase(it);
  if (!ended.ok() && !e.error && ended.error().code != Errc::InUse) {
    stack.oracles.fail("arena-refusal", fmt::format("{} of recorded arena {} refused: {}", flight_recorder::op_name(e.op),
                                                    e.region, errc_name(ended.error().code)));
  }
}

void large_allocate(RecordedLayers& layers, const CrashEvent& e) {
  const bool zeroed = e.op == Op::LargeAllocate;
  Result<LargeObject> got = zeroed ? layers.large->allocate(e.bytes) : layers.large->allocate_uninitialized(e.bytes);
  if (!got.ok()) return;
  if (zeroed) {
    for (std::size_t b = 0; b < got->size(); b += 4096) {
      if (got->data()[b] != std::byte{0}) {
        defer_failure(layers, "zero-on-allocate",
                           fmt::format("recorded large object (span {}, generation {}) allocated zeroed reads a "
                                       "non-zero byte at offset {}",
                                       e.region, e.slice, b));
        break;
      }
    }
  }
  if (e.error) {
    (void)layers.large->release(got.value());
    return;
  }
  RecordedLayers::LargeHeld held{got.value(), large_fill(++layers.fills)};
  fill_large(held);
  layers.large_objects[key_of(e)] = held;
}

void large_release(Stack& stack, RecordedLayers& layers, const CrashEvent& e) {
  auto it = layers.large_objects.find(key_of(e));
  if (it == layers.large_objects.end() || e.error) return;
  const RecordedLayers::LargeHeld held = it->second;
  layers.large_objects.erase(it);
  if (!large_intact(held)) {
    defer_failure(layers, "content", fmt::format("recorded large object (span {}, generation {}) no longer reads what "
                                              "was written when released",
                                              e.region, e.slice));
  }
  const Status released = layers.large->release(held.object);
  if (!released.ok()) {
    stack.oracles.fail("double-free", fmt::format("release of recorded large object (span {}, generation {}) "
                                                  "refused: {}",
                                                  e.region, e.slice, errc_name(released.error().code)));
  }
}

}  // namespace recorded_layers

RecordedTarget recorded_target(const CrashReport& report) {
  if (report.kind == "refused") return {};
  const CrashThread* newest = nullptr;
  for (const CrashThread& thread : report.threads) {
    bool called = false;
    for (const CrashEvent& e : thread.events) called |= e.depth == 0;
    if (called && (newest == nullptr || thread.thread > newest->thread)) newest = &thread;
  }
  if (newest == nullptr) return {};
  for (auto it = newest->events.rbegin(); it != newest->events.rend(); ++it) {
    if (it->depth != 0) continue;
    const RecordedLayer layer = recorded_layers::layer_of(it->op);
    if (layer == RecordedLayer::Allocator || layer == RecordedLayer::Page) return {};
    return {layer, it->allocator};
  }
  return {};
}

bool replays_object_event(const RecordedTarget& target, const CrashEvent& e) {
  return flight_recorder::is_object_op(e.op) && e.depth == 0 && e.allocator == target.instance &&
         recorded_layers::layer_of(e.op) == target.layer;
}

std::optional<ObjectKey> creates_object(const CrashEvent& e) {
  if (e.error) return std::nullopt;
  switch (e.op) {
    case flight_recorder::Op::SlabAllocate:
    case flight_recorder::Op::LargeAllocate:
    case flight_recorder::Op::LargeAllocateUninitialized: return recorded_layers::key_of(e);
    case flight_recorder::Op::ArenaBegin:
    case flight_recorder::Op::ArenaBeginChild:
      if (e.region == 0) return std::nullopt;
      return recorded_layers::arena_key(e.region);
    default: return std::nullopt;
  }
}

std::optional<ObjectKey> uses_object(const CrashEvent& e) {
  switch (e.op) {
    case flight_recorder::Op::SlabFree:
    case flight_recorder::Op::LargeRelease: return recorded_layers::key_of(e);
    case flight_recorder::Op::ArenaBeginChild: return recorded_layers::arena_key(e.slice);
    case flight_recorder::Op::ArenaAllocate:
    case flight_recorder::Op::ArenaCommit:
    case flight_recorder::Op::ArenaRollback: return recorded_layers::arena_key(e.region);
    default: return std::nullopt;
  }
}

void prepare_layers(Stack& stack, RecordedLayers& layers, const std::vector<const CrashEvent*>& in_order) {
  const CrashReport& report = stack.recording->report;
  switch (layers.target.layer) {
    case RecordedLayer::Slab: {
      auto made = SlabAllocator::create(stack.allocator, recorded_layers::slab_config(report, layers.target.instance));
      if (!made.ok()) made = SlabAllocator::create(stack.allocator);
      layers.slab = std::move(made.value());
      break;
    }
    case RecordedLayer::Arena: layers.arenas = std::move(TxnArenaManager::create(stack.allocator).value()); break;
    case RecordedLayer::Large: {
      auto made = LargeObjectAllocator::create(stack.os, recorded_layers::large_config(report, layers.target.instance));
      if (!made.ok()) made = LargeObjectAllocator::create(stack.os);
      layers.large = std::move(made.value());
      break;
    }
    default: return;
  }
  // Slab objects and large objects the window frees but allocated before it.
  std::map<ObjectKey, bool> created;
  for (const CrashEvent* e : in_order) {
    if (auto key = creates_object(*e)) created[*key] = true;
    if (e->error || (e->op != flight_recorder::Op::SlabFree && e->op != flight_recorder::Op::LargeRelease)) continue;
    const ObjectKey key = recorded_layers::key_of(*e);
    if (created.count(key) > 0) continue;
    created[key] = true;
    if (layers.slab && e->size_class >= 0 && static_cast<std::size_t>(e->size_class) < kSlabClassCount) {
      auto got = layers.slab->allocate(slab_class_bytes(static_cast<std::size_t>(e->size_class)));
      if (got.ok()) layers.slab_objects[key] = got.value();
    }
  }
  if (layers.slab) layers.slab->flush_thread_cache();
}

void perform_layer_operation(Stack& stack, RecordedLayers& layers, const CrashEvent& e) {
  using recorded_layers::Op;
  switch (e.op) {
    case Op::SlabAllocate: recorded_layers::slab_allocate(stack, layers, e); break;
    case Op::SlabFree: recorded_layers::slab_free(stack, layers, e); break;
    case Op::SlabFlush: layers.slab->flush_thread_cache(); break;
    case Op::ArenaBegin:
    case Op::ArenaBeginChild: recorded_layers::arena_begin(stack, layers, e); break;
    case Op::ArenaAllocate: recorded_layers::arena_allocate(layers, e); break;
    case Op::ArenaCommit:
    case Op::ArenaRollback: recorded_layers::arena_end(stack, layers, e); break;
    case Op::LargeAllocate:
    case Op::LargeAllocateUninitialized: recorded_layers::large_allocate(layers, e); break;
    case Op::LargeRelease: recorded_layers::large_release(stack, layers, e); break;
    case Op::LargeDecommitIdle: (void)layers.large->decommit_idle(static_cast<std::int64_t>(e.bytes)); break;
    case Op::LargeUnmapFreeSpans: (void)layers.large->unmap_free_spans(e.bytes); break;
    default: break;
  }
  stack.oracles.check_cheap();
}

void finish_layer_client(RecordedLayers& layers) {
  if (layers.slab) layers.slab->flush_thread_cache();
}

void finish_layers(Stack& stack, RecordedLayers& layers) {
  if (layers.slab) {
    for (const auto& [key, object] : layers.slab_objects) (void)layers.slab->free(object);
    layers.slab_objects.clear();
    layers.slab->flush_thread_cache();
    if (const std::vector<std::string> violations = layers.slab->audit(); !violations.empty()) {
      stack.oracles.fail("slab-accounting", "slab audit after the recorded operations: " + violations.front());
    }
    // Every magazine back to the slabs, every empty slab to the allocator:
    // an object no magazine, depot or slab holds any more was lost.
    layers.slab->flush_all();
    (void)layers.slab->release_empty_slabs();
    const SlabStats after = layers.slab->stats();
    std::size_t slabs = 0;
    for (const SlabClassStats& c : after.classes) slabs += c.slabs;
    if (after.live_objects() != 0 || slabs != 0) {
      stack.oracles.fail("slab-accounting",
                         fmt::format("after every recorded object was freed and every cache flushed, {} objects are "
                                     "live and {} slabs held (objects lost)",
                                     after.live_objects(), slabs));
    }
    layers.slab.reset();
  }
  if (layers.arenas) {
    // Newest first: a savepoint ends before its parent.
    std::vector<std::uint64_t> open;
    for (const auto& [recorded, id] : layers.arena_ids) open.push_back(id);
    std::sort(open.rbegin(), open.rend());
    for (std::uint64_t id : open) (void)layers.arenas->rollback(id);
    layers.arena_ids.clear();
    if (const std::vector<std::string> violations = layers.arenas->audit(); !violations.empty()) {
      stack.oracles.fail("accounting", "arena audit after the recorded operations: " + violations.front());
    }
    layers.arenas.reset();
  }
  if (!layers.deferred_oracle.empty()) stack.oracles.fail(layers.deferred_oracle, layers.deferred_message);
  if (layers.large) {
    for (const auto& [key, held] : layers.large_objects) {
      if (!recorded_layers::large_intact(held)) {
        stack.oracles.fail("content", fmt::format("recorded large object (span {}, generation {}) no longer reads "
                                                  "what was written after the recorded operations",
                                                  std::get<0>(key), std::get<1>(key)));
      }
      (void)layers.large->release(held.object);
    }
    layers.large_objects.clear();
    if (const std::vector<std::string> violations = layers.large->audit(); !violations.empty()) {
      stack.oracles.fail("accounting", "large-object audit after the recorded operations: " + violations.front());
    }
    layers.large.reset();
  }
}

}  // namespace segsim::scenarios
