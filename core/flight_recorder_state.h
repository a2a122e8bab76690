// The flight recorder's shared state: the rings and what a report needs.
// Internal to flight_recorder*.cpp and crash_report_writer.cpp.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/flight_recorder.h"
#include "core/flight_recorder_note.h"
#include "core/flight_recorder_regions.h"
#include "core/size_class.h"

namespace segsim::flight_recorder::detail {

// Ring and Slot: flight_recorder.h (the hot path writes it inline).

// The events `ring` has ever held (its slots hold the last mask + 1 of them):
// rebuilt from its laps and cursor, read as a seqlock. While a wrap is under
// way (laps odd) the lap before it is complete and nothing of the next is
// written yet, so the count is exact without the cursor — for a reader on
// another thread and for a signal handler that interrupted its own thread's
// wrap alike. Only a lap counted between the two reads of laps sends the
// reader round again (bounded: a writer wrapping on every attempt would have
// to record a lap each time). Async-signal-safe.
inline std::uint64_t ring_head(const Ring& ring) noexcept {
  constexpr int kMaxAttempts = 1000;
  const std::uint64_t lap_events = ring.mask + 1;
  std::uint64_t head = 0;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    const std::uint64_t laps = ring.laps.load(std::memory_order_acquire);
    if (laps % 2 != 0) return (laps + 1) / 2 * lap_events;
    const std::int64_t cursor = ring.cursor.load(std::memory_order_acquire);
    head = laps / 2 * lap_events + ring.index_of(cursor);
    if (ring.laps.load(std::memory_order_acquire) == laps) return head;
  }
  return head;
}

// The event numbered `index` of `ring` (it must still be held: index within
// the last mask + 1 events), unpacked from its slot (Slot says how). A copy
// taken while the thread records may be torn; readers drop what is stale.
inline Event unpack_slot(const Ring& ring, std::uint64_t index) noexcept {
  const Slot& slot = ring.slots[index & ring.mask];
  if (slot.place >> 56 == kWideTag) return ring.wide[index & ring.mask];
  Event e;
  e.sequence = slot.sequence;
  e.bytes = slot.where & (kCompactBytesLimit - 1);
  e.op = static_cast<Op>(compact_code(static_cast<Op>((slot.where >> kOpShift) & 0x3)));
  e.depth = 0;  // a nested call is wide
  e.page = static_cast<std::uint32_t>(slot.owner);
  e.generation = static_cast<std::uint32_t>(slot.owner >> 32);
  e.region = static_cast<std::uint32_t>(slot.place);
  e.slice = static_cast<std::uint16_t>(slot.place >> 32);
  e.size_class = static_cast<std::int8_t>(slot.place >> 48);
  e.result = 0;  // a compact event is a successful call
  // Its address from the region's base as noted now (0 if none is noted).
  if (const std::uintptr_t base = region_base(static_cast<std::uint32_t>(e.page), e.region); base != 0) {
    e.address = base + std::uintptr_t{e.slice} * class_bytes(static_cast<std::size_t>(e.size_class));
  }
  return e;
}

// What failed: a fatal signal, an assertion, or a refused release / reset.
struct FailureInfo {
  const char* kind = "";  // "signal" | "assertion" | "refused" | a caller's reason
  int signal = 0;
  std::uintptr_t fault_address = 0;
  Event refused{};            // for "refused": the operation
  std::uint32_t refused_thread = 0;
  const char* message = nullptr;  // a caller's first line for people (NUL-terminated), or null
};

struct State {
  char dir[512] = {};
  char build_id[256] = {};
  std::size_t ring_events = 0;
  std::atomic<std::uint32_t> epoch{0};
  std::atomic<std::uint32_t> ring_count{0};   // slots of rings[] taken
  std::atomic<std::uint32_t> next_thread{0};  // a ring's thread number (grows past kMaxThreads: rings are reused)
  // Threads not recorded (a report's threads_not_recorded): past kMaxThreads
  // with no exited ring to take over (or every claim of one lost, a bounded
  // number of times), or their ring's allocation failed.
  std::atomic<std::uint64_t> rings_refused{0};
  std::atomic<std::uint32_t> ring_allocations_to_fail{0};  // fail_ring_allocations()
  std::atomic<std::uint32_t> writes_to_interrupt{0};       // interrupt_report_writes()
  std::atomic<std::uint64_t> report_writes{0};             // report_writes()
  std::atomic<std::uint32_t> rings_held{0};                // rings_held()
  // Registered by threads concurrently (ring_of_this_thread), read by others
  // (a ring to take over, a report): atomic, lock-free (a signal handler reads them).
  std::atomic<Ring*> rings[kMaxThreads] = {};
  std::atomic<std::uint32_t> reports{0};
  std::atomic<std::size_t> region_bytes{0};
  std::atomic<std::size_t> budget_bytes{0};
  std::atomic<std::size_t> cache_max_entries{0};  // 0: no PageCache recorded
  std::atomic<std::size_t> cache_max_bytes{0};
  // The last slab / large-object allocator made while on (note_slab, note_large).
  NoteCell<SlabNote> slab;
  NoteCell<LargeNote> large;
  bool report_refusals = true;
  std::atomic<std::uint32_t> refusals_expected{0};  // RefusalsExpected scopes alive
};
State& state() noexcept;

// The last failed SEGSIM_ASSERT (static texts), for a report written on the
// SIGABRT that follows it.
struct AssertionInfo {
  std::atomic<const char*> condition{nullptr};
  const char* message = "";
  const char* file = "";
  int line = 0;
};
AssertionInfo& last_assertion() noexcept;

// Async-signal-safe: writes DIR/segsim-crash-<pid>-<n>.json through a
// temporary and a rename. False when no report could be written. `path_out`
// (capacity `path_capacity`) receives the path.
bool write_crash_report(const FailureInfo& failure, char* path_out, std::size_t path_capacity) noexcept;

// Rings (flight_recorder_rings.cpp). watch_thread_exits(): from now on a
// thread's exit marks its ring exited, for another thread to take over.
// retire_rings(): every ring of `s` out of its table, kept reachable (a thread
// may still write to one) and never freed; enable() only.
void watch_thread_exits() noexcept;
void retire_rings(State& s) noexcept;

// The fatal signals' handler (flight_recorder_signals.cpp), installed by
// enable() when asked and removed by disable(); reset_fatal_report() lets the
// next run in this process report its own first fatal signal.
void install_fatal_handlers() noexcept;
void remove_fatal_handlers() noexcept;
void reset_fatal_report() noexcept;

// Async-signal-safe: `text` into `out` (capacity bytes, NUL included), cut to
// fit; nothing when there is no room at all.
void copy_text(char* out, std::size_t capacity, std::string_view text) noexcept;

}  // namespace segsim::flight_recorder::detail
