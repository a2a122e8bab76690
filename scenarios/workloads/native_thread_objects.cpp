// The native-thread episode's slab object calls, each checked as it returns:
// see native_thread_episode.h.
#include <cstdint>
#include <thread>

#include <fmt/format.h>

#include "core/asan.h"
#include "scenarios/oracles/error_text.h"
#include "scenarios/workloads/native_thread_episode.h"

namespace segsim::scenarios {

void NativeEpisode::allocate_object(std::size_t bytes, const char* phase) {
  Result<SlabObject> got = slab->allocate(bytes);
  if (slab_class_of(bytes) < 0) {
    if (got.ok() || got.error().code != Errc::InvalidSize) {
      fail(fmt::format("{}: slab allocate({}) gave {}; InvalidSize was due", phase, bytes,
                       outcome_text(got, "an object")));
      if (got.ok()) (void)slab->free(got.value());
    }
    return;
  }
  if (!got.ok()) {
    fail(fmt::format("{}: slab allocate({}) refused on a fault-free Os: {}", phase, bytes, got.error().describe()));
    return;
  }
  const SlabObject object = got.value();
  ++slab_allocations;
  slab_requested_bytes += bytes;
  if (object.size() != slab_class_bytes(static_cast<std::size_t>(slab_class_of(bytes))) ||
      reinterpret_cast<std::uintptr_t>(object.data()) % 64 != 0) {
    fail(fmt::format("{}: slab allocate({}) gave {} bytes at a {}-aligned address", phase, bytes, object.size(),
                     reinterpret_cast<std::uintptr_t>(object.data()) % 64));
  }
  Result<SlabObject> found = slab->lookup(object.data());
  if (!found.ok() || found->generation() != object.generation() || found->index() != object.index()) {
    fail(fmt::format("{}: lookup of a new object answered {}", phase,
                     outcome_text(found, "another object")));
  }
  objects_live.push_back({object, take_new_block(object.data(), object.size(), bytes, "slab object", phase)});
}

void NativeEpisode::free_object(std::size_t index, const char* phase, bool through_lookup) {
  const NativeHeldObject held = objects_live[index];
  objects_live.erase(objects_live.begin() + static_cast<std::ptrdiff_t>(index));
  check_bytes(held.object.data(), held.object.size(), held.fill, "a live slab object");
  SlabObject handle = held.object;
  if (through_lookup) {
    Result<SlabObject> found = slab->lookup(held.object.data());
    if (!found.ok()) {
      fail(fmt::format("{}: lookup of a live object refused: {}", phase, found.error().describe()));
      return;
    }
    handle = found.value();
  }
  if (Status freed = slab->free(handle); !freed.ok()) {
    fail(fmt::format("{}: free of a live object refused: {}", phase, freed.error().describe()));
    return;
  }
  ++slab_frees;
  if (through_lookup) ++slab_remote_frees;
  // Freed and not handed out again yet: poisoned exactly under ASan.
  if (asan::is_poisoned(held.object.data()) != asan::kEnabled) {
    fail(fmt::format("{}: a freed slab object is {}poisoned (ASan {})", phase,
                     asan::kEnabled ? "not " : "", asan::kEnabled ? "on" : "off"));
  }
  Status again = slab->free(held.object);
  if (again.ok() || again.error().code != Errc::DoubleFree) {
    fail(fmt::format("{}: a second free answered {}; DoubleFree was due", phase,
                     outcome_text(again, "ok")));
  } else {
    ++slab_double_frees;
  }
}

void NativeEpisode::free_object_on_a_fresh_thread(const char* phase) {
  if (objects_live.empty()) return;
  const NativeHeldObject held = objects_live.back();
  objects_live.pop_back();
  check_bytes(held.object.data(), held.object.size(), held.fill, "a live slab object");
  const auto c = static_cast<std::size_t>(held.object.size_class());
  Status freed;
  SlabClassStats before, after;
  std::thread([&] {
    before = slab->stats().classes[c];  // stats() makes no cache
    freed = slab->free(held.object);
    after = slab->stats().classes[c];  // before this thread's exit flushes its cache
  }).join();
  if (!freed.ok()) {
    fail(fmt::format("{}: a fresh thread's free of a live object refused: {}", phase, freed.error().describe()));
    return;
  }
  ++slab_frees;
  ++slab_remote_frees;
  if (after.fast_frees != before.fast_frees + 1 || after.depot_exchanges != before.depot_exchanges ||
      after.remote_frees != before.remote_frees + 1) {
    fail(fmt::format("{}: a fresh thread's first call, a free of a {} B object, counted {} fast free(s), {} depot "
                     "exchange(s) and {} remote free(s); 1, 0 and 1 were due (its new cache's loaded magazine has "
                     "room)",
                     phase, held.object.size(), after.fast_frees - before.fast_frees,
                     after.depot_exchanges - before.depot_exchanges, after.remote_frees - before.remote_frees));
  }
}

}  // namespace segsim::scenarios
