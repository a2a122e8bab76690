// A thread's flight-recorder ring: claimed on its first event, taken over
// from an exited thread when the table is full, written (flight_recorder.h).
#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

#include "core/assert.h"
#include "core/flight_recorder.h"
#include "core/flight_recorder_state.h"
#include "core/probe.h"
#include "core/platform/sync_clock.h"

namespace segsim::flight_recorder {

namespace {

using detail::g_epoch;
using detail::Ring;
using detail::state;
using detail::tls_ring;

constinit Ring* g_retired_rings = nullptr;  // retire_rings() only: the rings of earlier enables

// A thread's exit marks its ring exited (a pthread key's destructor: it runs
// after the thread's C++ thread_local destructors, whose operations — a slab
// cache's flush — are still recorded). Later events of the thread are dropped.
pthread_key_t g_exit_key;
constinit bool g_exit_key_made = false;

void thread_exited(void* ring_pointer) {
  auto* ring = static_cast<Ring*>(ring_pointer);
  tls_ring.epoch = 0;  // never live: the hot path goes to ring_of_this_thread, which refuses
  tls_ring.compact_epoch = 0;
  tls_ring.refused_epoch = g_epoch.load(std::memory_order_acquire);
  tls_ring.ring = nullptr;
  if (ring != nullptr) ring->exited.store(true, std::memory_order_release);
}

// A claim lost is another thread's claim won (or that ring was already not
// exited), so a claimer that loses this many in a row meets a livelock, not
// a race: it is refused, counted like a thread past kMaxThreads.
constexpr std::uint32_t kMaxRingClaims = kMaxThreads;

// All slots taken: the ring of the exited thread with the lowest number
// (the oldest), claimed by a compare-exchange; null when none, or when
// kMaxRingClaims claims in a row were lost.
Ring* reuse_exited_ring(detail::State& s) {
  for (std::uint32_t claims = 0; claims < kMaxRingClaims; ++claims) {
    Ring* oldest = nullptr;
    for (std::size_t r = 0; r < kMaxThreads; ++r) {
      Ring* ring = s.rings[r].load(std::memory_order_acquire);
      if (ring == nullptr || !ring->exited.load(std::memory_order_acquire)) continue;
      if (oldest == nullptr || ring->thread < oldest->thread) oldest = ring;
    }
    if (oldest == nullptr) return nullptr;
    bool expected = true;
    if (!oldest->exited.compare_exchange_strong(expected, false, std::memory_order_acq_rel)) continue;
    oldest->laps.store(0, std::memory_order_relaxed);
    oldest->cursor.store(oldest->first_cursor(), std::memory_order_release);
    oldest->thread = s.next_thread.fetch_add(1, std::memory_order_relaxed);
    SEGSIM_PROBE("recorder.ring.taken_over");
    return oldest;
  }
  SEGSIM_PROBE("recorder.ring.claims_lost");
  return nullptr;
}

}  // namespace

namespace {

// The ring first, then the epoch that makes the hot path use it (ThreadRing).
Ring* adopt(Ring* ring, std::uint32_t epoch) noexcept {
  SEGSIM_ASSERT(ring != nullptr, "a thread adopts a null flight-recorder ring");
  // A compact event takes the clock unstepped; 0 would read as an empty slot.
  (void)platform::sync_clock::tick();
  tls_ring.ring = ring;
  tls_ring.epoch = epoch;
  detail::set_depth(tls_ring.depth);  // the compact epoch as a Scope sets it: this epoch at depth 0, else none
  // The hot path writes through tls_ring.ring, unchecked, whenever the epoch
  // is live (ThreadRing): a null one there would be a segfault, not a report.
  SEGSIM_ASSERT(tls_ring.ring != nullptr, "a live epoch without the thread's flight-recorder ring");
  if (g_exit_key_made) (void)pthread_setspecific(g_exit_key, ring);
  return ring;
}

// hold_next_ring_claim()'s and hold_next_wrap()'s hooks for this thread,
// each run once.
struct Hold {
  void (*hold)(void*) = nullptr;
  void* arg = nullptr;
};
constinit thread_local Hold tls_ring_claim_hold;
constinit thread_local Hold tls_wrap_hold;

void run_hold(Hold& slot) noexcept {
  const Hold hold = std::exchange(slot, Hold{});
  if (hold.hold != nullptr) hold.hold(hold.arg);
}

// One of fail_ring_allocations()'s failures, if any is left.
bool take_ring_allocation_failure(detail::State& s) noexcept {
  std::uint32_t left = s.ring_allocations_to_fail.load(std::memory_order_relaxed);
  while (left > 0 && !s.ring_allocations_to_fail.compare_exchange_weak(left, left - 1, std::memory_order_relaxed)) {
  }
  return left > 0;
}

Ring* refuse_ring(std::uint32_t epoch) noexcept {
  tls_ring.refused_epoch = epoch;
  return nullptr;
}

}  // namespace

Ring* detail::ring_of_this_thread() noexcept {
  const std::uint32_t epoch = g_epoch.load(std::memory_order_acquire);
  // Every wide event asks: the answer for a thread that has its ring comes
  // before state()'s guard check (a function-local static's).
  if (tls_ring.epoch == epoch) [[likely]] return tls_ring.ring;
  if (tls_ring.refused_epoch == epoch) return nullptr;
  detail::State& s = state();
  tls_ring.ring = nullptr;
  const std::uint32_t index = s.ring_count.load(std::memory_order_relaxed);
  if (index >= kMaxThreads) {
    if (Ring* reused = reuse_exited_ring(s); reused != nullptr) return adopt(reused, epoch);
    SEGSIM_PROBE("recorder.ring.refused");
    s.rings_refused.fetch_add(1, std::memory_order_relaxed);
    return refuse_ring(epoch);
  }
  // The slots and, right after them, the ring's header (Ring): one block.
  const std::size_t slot_bytes = s.ring_events * sizeof(detail::Slot);
  void* block = take_ring_allocation_failure(s)
                    ? nullptr
                    : ::operator new(slot_bytes + sizeof(Ring), std::align_val_t{alignof(Ring)}, std::nothrow);
  auto* wide = new (std::nothrow) Event[s.ring_events];
  Ring* ring = nullptr;
  if (block != nullptr) {
    auto* slots = new (block) detail::Slot[s.ring_events];
    ring = new (static_cast<unsigned char*>(block) + slot_bytes) Ring;
    // The block holds the slots, then the header, with nothing between or
    // outside: a header placed anywhere else overwrites a slot or the heap.
    SEGSIM_ASSERT(reinterpret_cast<unsigned char*>(slots + s.ring_events) == reinterpret_cast<unsigned char*>(ring),
                  "a flight-recorder ring's header does not start where its slots end, inside its block");
    ring->mask = s.ring_events - 1;
    // The hot path writes from first_cursor(), which the mask sets, with no
    // bound check: a mask too large writes before the block, into the heap,
    // and a crash later would name nothing.
    SEGSIM_ASSERT(ring->mask + 1 == s.ring_events && (s.ring_events & ring->mask) == 0,
                  "a flight-recorder ring's mask is not its slot count minus one (a power of two)");
    ring->slots = slots;
    ring->cursor.store(ring->first_cursor(), std::memory_order_relaxed);
    ring->wide = wide;
    s.rings_held.fetch_add(1, std::memory_order_relaxed);
  }
  auto drop = [&] {
    if (block != nullptr) {
      ::operator delete(block, std::align_val_t{alignof(Ring)});
      s.rings_held.fetch_sub(1, std::memory_order_relaxed);
    }
    delete[] wide;
  };
  if (block == nullptr || wide == nullptr) {
    SEGSIM_PROBE("recorder.ring.alloc_failed");
    drop();
    s.rings_refused.fetch_add(1, std::memory_order_relaxed);  // its calls are missing: the report says so
    return refuse_ring(epoch);
  }
  // Claim a slot; a thread that lost the race for it tries the next one.
  run_hold(tls_ring_claim_hold);
  std::uint32_t slot = s.ring_count.fetch_add(1, std::memory_order_acq_rel);
  if (slot >= kMaxThreads) {
    drop();
    if (Ring* reused = reuse_exited_ring(s); reused != nullptr) return adopt(reused, epoch);
    SEGSIM_PROBE("recorder.ring.lost_race");
    s.rings_refused.fetch_add(1, std::memory_order_relaxed);
    return refuse_ring(epoch);
  }
  SEGSIM_ASSERT(slot < kMaxThreads, "a flight-recorder ring claimed a slot past the table");
  ring->thread = s.next_thread.fetch_add(1, std::memory_order_relaxed);
  s.rings[slot].store(ring, std::memory_order_release);
  return adopt(ring, epoch);
}

void detail::watch_thread_exits() noexcept {
  if (!g_exit_key_made) g_exit_key_made = pthread_key_create(&g_exit_key, &thread_exited) == 0;
}

void detail::retire_rings(State& s) noexcept {
  // An earlier enable()'s rings are abandoned, never freed (a thread may
  // still write to one), but kept reachable: a leak checker must not report
  // what is kept on purpose.
  for (std::atomic<Ring*>& slot : s.rings) {
    Ring* ring = slot.exchange(nullptr, std::memory_order_acq_rel);
    if (ring == nullptr) continue;
    ring->retired_next = g_retired_rings;
    g_retired_rings = ring;
  }
}

void hold_next_ring_claim(void (*hold)(void*), void* arg) noexcept { tls_ring_claim_hold = {hold, arg}; }

void hold_next_wrap(void (*hold)(void*), void* arg) noexcept { tls_wrap_hold = {hold, arg}; }

std::uint32_t rings_held() noexcept { return state().rings_held.load(std::memory_order_relaxed); }

std::size_t rings_retired() noexcept {
  std::size_t n = 0;
  for (const Ring* ring = g_retired_rings; ring != nullptr; ring = ring->retired_next) ++n;
  return n;
}

void fail_ring_allocations(std::uint32_t count) noexcept {
  state().ring_allocations_to_fail.store(count, std::memory_order_relaxed);
}

namespace detail {

void wrap(Ring* ring) noexcept {
  const std::uint64_t laps = ring->laps.load(std::memory_order_relaxed);
  // Release: a reader that sees the lap count odd counts the whole lap
  // (ring_head) and may read every slot of it.
  ring->laps.store(laps + 1, std::memory_order_release);
  ring->cursor.store(ring->first_cursor(), std::memory_order_release);  // after laps is odd (ring_head)
  run_hold(tls_wrap_hold);
  ring->laps.store(laps + 2, std::memory_order_release);
}

// A wide event: its fields in the side array, its slot tagged (Slot).
static void record_wide(Ring* ring, const Event& event) noexcept {
  const std::int64_t cursor = ring->cursor.load(std::memory_order_relaxed);
  Slot* slot = ring->slot_at(cursor);
  ring->wide[ring->index_of(cursor)] = event;
  slot->sequence = event.sequence;
  slot->place = kWideTag << 56;  // where and owner of a wide slot are read by nobody: left as they were
  advance(ring, cursor);
}

void record(const Event& event_in) noexcept {
  Ring* ring = ring_of_this_thread();
  if (ring == nullptr) return;
  Event event = event_in;
  const std::uint32_t tls_depth = tls_ring.depth;
  const std::uint32_t depth = tls_depth > 0 ? tls_depth - 1 : 0;
  event.depth = depth_byte(depth);
  // The order: the seam's logical clock (platform/sync_clock.h), stepped by
  // the operation's own mutexes, so two operations on one slice (ordered by
  // its class lock) are stamped in their order — no shared counter.
  event.sequence = platform::sync_clock::tick();
  record_wide(ring, event);
}

// An allocator call on `segment` as a wide event: numbered now, at this
// thread's depth.
static Event slice_event(Op op, std::uint64_t bytes, const Segment& segment, std::uint8_t result) noexcept {
  Event event;
  event.sequence = platform::sync_clock::tick();
  event.address = reinterpret_cast<std::uintptr_t>(segment.data());
  event.bytes = bytes;
  event.page = segment.allocator_id();  // 0 for a failed allocate
  event.region = segment.region_id();
  event.slice = segment.slice_index();
  event.generation = segment.generation();
  event.op = op;
  // -1: no class — a null handle, or one whose class the allocator does not
  // have (a forged or corrupted handle, refused): the report's reader accepts
  // only real classes.
  const bool has_class = !segment.is_null() && segment.size_class() < static_cast<int>(kSizeClassCount);
  event.size_class = static_cast<std::int8_t>(has_class ? segment.size_class() : -1);
  event.result = result;
  event.depth = tls_ring.depth8;
  return event;
}

void record_slice_wide(Op op, std::uint64_t bytes, const Segment& segment, std::uint8_t result) noexcept {
  Ring* ring = ring_of_this_thread();
  if (ring == nullptr) return;
  record_wide(ring, slice_event(op, bytes, segment, result));
}

void record_hit_slow(Op op, std::uint64_t bytes, const Segment& segment) noexcept {
  if (tls_ring.depth > 0) return record_slice_wide(op, bytes, segment, 0);
  Ring* ring = ring_of_this_thread();
  if (ring != nullptr) record_compact(ring, op, bytes, segment);
}


void note_page_cache(std::size_t max_entries, std::size_t max_bytes) noexcept {
  State& s = state();
  if (s.cache_max_entries.load(std::memory_order_relaxed) == max_entries &&
      s.cache_max_bytes.load(std::memory_order_relaxed) == max_bytes) {
    return;
  }
  s.cache_max_entries.store(max_entries, std::memory_order_relaxed);
  s.cache_max_bytes.store(max_bytes, std::memory_order_relaxed);
}

void note_slab(const SlabNote& note) noexcept {
  if (!on()) return;
  state().slab.store(note);
}

void note_large(const LargeNote& note) noexcept {
  if (!on()) return;
  state().large.store(note);
}

void note_stack(std::size_t region_bytes, std::size_t budget_bytes) noexcept {
  State& s = state();
  if (s.region_bytes.load(std::memory_order_relaxed) == region_bytes) return;
  s.region_bytes.store(region_bytes, std::memory_order_relaxed);
  s.budget_bytes.store(budget_bytes, std::memory_order_relaxed);
}

void refused(Op op, const Segment& segment, const Error& error) noexcept {
  State& s = state();
  if (!s.report_refusals || s.refusals_expected.load(std::memory_order_acquire) > 0) return;
  FailureInfo failure;
  failure.kind = "refused";
  Ring* ring = ring_of_this_thread();
  failure.refused_thread = ring == nullptr ? UINT32_MAX : ring->thread;
  // The refused call is its thread's last recorded event (record_operation
  // recorded it wide, every id and its result, just before), so a reader
  // finds it among the thread's events; a thread without a ring recorded
  // none, so its call is made up from the handle here — with a number of its
  // own: a report's events are numbered from 1.
  if (const std::uint64_t head = ring == nullptr ? 0 : ring_head(*ring); head > 0) {
    failure.refused = unpack_slot(*ring, head - 1);
  } else {
    failure.refused = slice_event(op, 0, segment, static_cast<std::uint8_t>(1 + static_cast<unsigned>(error.code)));
  }
  char path[600];
  if (write_crash_report(failure, path, sizeof path)) {
    const std::string line = std::string("segsim: flight recorder: crash report ") + path + "\n";
    (void)!::write(STDERR_FILENO, line.data(), line.size());
  }
}

}  // namespace detail

}  // namespace segsim::flight_recorder
