// The flight recorder's rings, switch and failure triggers (flight_recorder.h).
#include "core/flight_recorder.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "core/assert.h"
#include "core/flight_recorder_state.h"
#include "core/probe.h"
#include "core/platform/sync_clock.h"

namespace segsim::flight_recorder {

namespace detail {

std::atomic<std::uint32_t> g_live{0};

State& state() noexcept {
  static State instance;
  return instance;
}

AssertionInfo& last_assertion() noexcept {
  static AssertionInfo instance;
  return instance;
}

}  // namespace detail

namespace {

using detail::Ring;
using detail::state;

constexpr std::size_t kMinRingEvents = 16;
constexpr std::size_t kMaxRingEvents = 65536;
// The signals whose handler writes a report, each with the action it
// replaced (restored before the signal is raised again).
struct FatalSignal {
  int number;
  struct sigaction previous;
};
FatalSignal g_fatal_signals[] = {{SIGSEGV, {}}, {SIGBUS, {}}, {SIGILL, {}}, {SIGFPE, {}}, {SIGABRT, {}}};
bool g_handlers_installed = false;

using detail::g_epoch;
using detail::tls_ring;
using detail::copy_text;
Ring* g_retired_rings = nullptr;  // enable() only: the rings of earlier enables

// A thread's exit marks its ring exited (a pthread key's destructor: it runs
// after the thread's C++ thread_local destructors, whose operations — a slab
// cache's flush — are still recorded). Later events of the thread are dropped.
pthread_key_t g_exit_key;
bool g_exit_key_made = false;

void thread_exited(void* ring_pointer) {
  auto* ring = static_cast<Ring*>(ring_pointer);
  tls_ring.epoch = 0;  // never live: the hot path goes to ring_of_this_thread, which refuses
  tls_ring.compact_epoch = 0;
  tls_ring.refused_epoch = g_epoch.load(std::memory_order_acquire);
  tls_ring.ring = nullptr;
  if (ring != nullptr) ring->exited.store(true, std::memory_order_release);
}

// All slots taken: the ring of the exited thread with the lowest number
// (the oldest), claimed by a compare-exchange; null when none.
Ring* reuse_exited_ring(detail::State& s) {
  for (;;) {
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
  tls_ring.compact_epoch = tls_ring.depth == 0 ? epoch : 0;
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
    SEGSIM_ASSERT(ring != nullptr, "a flight-recorder ring block without its header");
    ring->mask = s.ring_events - 1;
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

namespace {

// One report per dying process: a fault that a sanitizer's own handler turns
// into abort(), or faults racing on two threads, are the same crash.
std::atomic<bool> g_fatal_reported{false};
static_assert(std::atomic<bool>::is_always_lock_free, "used inside a signal handler");

std::atomic<bool> g_fatal_report_done{false};
// Counted, so the harness can tell a wait that was due from one that was not
// (flight_recorder.h); the limit is lowered only by hold_fatal_report().
std::atomic<std::uint32_t> g_fatal_wait_pauses{0};
std::atomic<std::uint32_t> g_fatal_wait_limit{kMaxFatalReportWaitPauses};
static_assert(std::atomic<std::uint32_t>::is_always_lock_free, "used inside a signal handler");

// Another thread is writing the crash report: wait for it (bounded), so this
// thread's own death (two threads failing the same assertion) does not end
// the process before the report is whole.
void wait_for_fatal_report() {
  struct timespec pause {0, 1000000};  // 1 ms
  const std::uint32_t limit = g_fatal_wait_limit.load();
  for (std::uint32_t i = 0; i < limit && !g_fatal_report_done.load(); ++i) {
    g_fatal_wait_pauses.fetch_add(1);
    ::nanosleep(&pause, nullptr);
  }
}

void restore_previous_handlers() {
  for (const FatalSignal& signal : g_fatal_signals) ::sigaction(signal.number, &signal.previous, nullptr);
}

void fatal_signal_handler(int signal, siginfo_t* info, void*) {
  // The interrupted code's errno back when the handler returns (its report's
  // writes may set it).
  struct ErrnoKept {
    int saved = errno;
    ~ErrnoKept() { errno = saved; }
  } errno_kept;
  // Afterwards, back to what was there before, for every fatal signal:
  // returning re-runs the faulting instruction (or abort() raises again)
  // under it, and what it raises next is not reported twice.
  if (g_fatal_reported.exchange(true)) {
    wait_for_fatal_report();
    restore_previous_handlers();
    return;
  }
  // The tape stops here: other threads' events from now on are not the sketch.
  detail::g_live.store(0, std::memory_order_relaxed);
  detail::FailureInfo failure;
  failure.kind = "signal";
  failure.signal = signal;
  failure.fault_address = signal == SIGABRT || info == nullptr ? 0 : reinterpret_cast<std::uintptr_t>(info->si_addr);
  if (signal == SIGABRT && detail::last_assertion().condition.load() != nullptr) failure.kind = "assertion";
  char path[600];
  if (detail::write_crash_report(failure, path, sizeof path)) {
    const char prefix[] = "segsim: flight recorder: crash report ";
    (void)!::write(STDERR_FILENO, prefix, sizeof prefix - 1);
    (void)!::write(STDERR_FILENO, path, std::strlen(path));
    (void)!::write(STDERR_FILENO, "\n", 1);
  }
  restore_previous_handlers();
  g_fatal_report_done.store(true);
}

void install_handlers() {
  if (g_handlers_installed) return;
  struct sigaction action {};
  action.sa_sigaction = &fatal_signal_handler;
  action.sa_flags = SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  for (FatalSignal& signal : g_fatal_signals) ::sigaction(signal.number, &action, &signal.previous);
  g_handlers_installed = true;
}

void remove_handlers() {
  if (!g_handlers_installed) return;
  restore_previous_handlers();
  g_handlers_installed = false;
}

// SEGSIM_FLIGHT_RECORDER=DIR turns the recorder on when the process starts.
[[maybe_unused]] const bool g_from_environment =
    enable_from_environment(std::getenv("SEGSIM_FLIGHT_RECORDER"), std::getenv("SEGSIM_BUILD_ID"), STDERR_FILENO);

}  // namespace

const char* op_name(Op op) noexcept {
  switch (op) {
    case Op::Allocate: return "allocate";
    case Op::AllocateUninitialized: return "allocate_uninitialized";
    case Op::Release: return "release";
    case Op::Reset: return "reset";
    case Op::PoolBorrow: return "pool_borrow";
    case Op::PoolGiveBack: return "pool_give_back";
    case Op::PageSetSlot: return "page_set_slot";
    case Op::PageSetDeweyId: return "page_set_dewey_id";
    case Op::PageReturn: return "page_return";
    case Op::PageClear: return "page_clear";
    case Op::PageReset: return "page_reset";
    case Op::CachePut: return "cache_put";
    case Op::CacheGet: return "cache_get";
    case Op::CacheUnpin: return "cache_unpin";
    case Op::CacheErase: return "cache_erase";
    case Op::CacheClear: return "cache_clear";
    case Op::CacheShrink: return "cache_shrink";
    case Op::SlabAllocate: return "slab_allocate";
    case Op::SlabFree: return "slab_free";
    case Op::SlabFlush: return "slab_flush";
    case Op::ArenaBegin: return "arena_begin";
    case Op::ArenaBeginChild: return "arena_begin_child";
    case Op::ArenaAllocate: return "arena_allocate";
    case Op::ArenaCommit: return "arena_commit";
    case Op::ArenaRollback: return "arena_rollback";
    case Op::LargeAllocate: return "large_allocate";
    case Op::LargeAllocateUninitialized: return "large_allocate_uninitialized";
    case Op::LargeRelease: return "large_release";
    case Op::LargeDecommitIdle: return "large_decommit_idle";
    case Op::LargeUnmapFreeSpans: return "large_unmap_free_spans";
  }
  return "unknown";
}

bool enable(const Config& config, std::string* error_line) {
  auto refuse = [&](std::string line) {
    SEGSIM_PROBE("recorder.enable.refused");
    if (error_line != nullptr) *error_line = std::move(line);
    return false;
  };
  if (config.dir.empty() || config.dir.size() >= sizeof state().dir - 1) return refuse("recorder directory: empty or too long");
  if (::access(config.dir.c_str(), W_OK | X_OK) != 0) {
    return refuse("recorder directory '" + config.dir + "' is not a writable directory: " + std::strerror(errno));
  }
  if (config.ring_events < kMinRingEvents || config.ring_events > kMaxRingEvents) {
    return refuse("ring_events must be in 16..65536");
  }
  std::size_t events = kMinRingEvents;
  while (events < config.ring_events) events <<= 1;
  detail::g_live.store(0, std::memory_order_release);
  detail::State& s = state();
  copy_text(s.dir, sizeof s.dir, config.dir);
  copy_text(s.build_id, sizeof s.build_id, config.build_id);
  s.ring_events = events;
  s.report_refusals = config.report_refusals;
  s.ring_count.store(0, std::memory_order_release);
  s.next_thread.store(0, std::memory_order_relaxed);
  if (!g_exit_key_made) g_exit_key_made = pthread_key_create(&g_exit_key, &thread_exited) == 0;
  s.rings_refused.store(0, std::memory_order_relaxed);
  s.rings_held.store(0, std::memory_order_relaxed);
  s.slab.clear();
  s.large.clear();
  // An earlier enable()'s rings are abandoned, never freed (a thread may
  // still write to one), but kept reachable: a leak checker must not report
  // what is kept on purpose.
  for (std::atomic<Ring*>& slot : s.rings) {
    Ring* ring = slot.exchange(nullptr, std::memory_order_acq_rel);
    if (ring == nullptr) continue;
    ring->retired_next = g_retired_rings;
    g_retired_rings = ring;
  }
  const std::uint32_t epoch = s.epoch.fetch_add(1, std::memory_order_acq_rel) + 1;  // never 0 (off)
  g_epoch.store(epoch, std::memory_order_release);
  if (config.catch_signals) install_handlers();
  platform::sync_clock::g_on.store(true, std::memory_order_release);
  detail::g_live.store(epoch, std::memory_order_release);
  return true;
}

bool enable_from_environment(const char* dir, const char* build_id, int line_fd) {
  if (dir == nullptr || dir[0] == '\0') return false;
  Config config;
  config.dir = dir;
  if (build_id != nullptr) config.build_id = build_id;
  std::string why;
  if (enable(config, &why)) return true;
  const std::string line = "segsim: flight recorder off: " + why + "\n";
  (void)!::write(line_fd, line.data(), line.size());
  return false;
}

void disable() {
  detail::g_live.store(0, std::memory_order_release);
  platform::sync_clock::g_on.store(false, std::memory_order_release);
  remove_handlers();
}

std::string write_report(const char* reason) {
  if (!on()) return {};
  detail::FailureInfo failure;
  failure.kind = reason;
  char path[600];
  return detail::write_crash_report(failure, path, sizeof path) ? std::string(path) : std::string();
}

std::string write_final_report(const char* reason, const std::string& message) {
  if (detail::g_live.exchange(0, std::memory_order_acq_rel) == 0) return {};
  char text[kMaxMessageBytes + 1];
  copy_text(text, sizeof text, message);
  detail::FailureInfo failure;
  failure.kind = reason;
  failure.message = text;
  char path[600];
  return detail::write_crash_report(failure, path, sizeof path) ? std::string(path) : std::string();
}

RefusalsExpected::RefusalsExpected() noexcept { state().refusals_expected.fetch_add(1, std::memory_order_acq_rel); }
RefusalsExpected::~RefusalsExpected() { state().refusals_expected.fetch_sub(1, std::memory_order_acq_rel); }

std::size_t reports_written() noexcept {
  return std::min<std::size_t>(state().reports.load(std::memory_order_relaxed), kMaxReportsPerProcess);
}

void fail_ring_allocations(std::uint32_t count) noexcept {
  state().ring_allocations_to_fail.store(count, std::memory_order_relaxed);
}

void interrupt_report_writes(std::uint32_t count) noexcept {
  state().writes_to_interrupt.store(count, std::memory_order_relaxed);
}

void hold_next_ring_claim(void (*hold)(void*), void* arg) noexcept { tls_ring_claim_hold = {hold, arg}; }

void hold_next_wrap(void (*hold)(void*), void* arg) noexcept { tls_wrap_hold = {hold, arg}; }

std::uint32_t rings_held() noexcept { return state().rings_held.load(std::memory_order_relaxed); }

std::size_t rings_retired() noexcept {
  std::size_t n = 0;
  for (const Ring* ring = g_retired_rings; ring != nullptr; ring = ring->retired_next) ++n;
  return n;
}

bool reset_report_count() noexcept {
  if (on()) return false;
  state().reports.store(0, std::memory_order_relaxed);
  // A fatal report ends its process, unless the handler returned (a raised
  // signal: the harness's test of the handler, workloads/recorder_crash.cpp):
  // the next run in this process reports its own first fatal signal.
  g_fatal_reported.store(false);
  g_fatal_report_done.store(false);
  g_fatal_wait_limit.store(kMaxFatalReportWaitPauses);
  return true;
}

std::uint64_t report_writes() noexcept { return state().report_writes.load(std::memory_order_relaxed); }

std::uint32_t fatal_report_wait_pauses() noexcept { return g_fatal_wait_pauses.load(); }

void hold_fatal_report(std::uint32_t wait_pauses) noexcept {
  if (wait_pauses == 0) {
    g_fatal_wait_limit.store(kMaxFatalReportWaitPauses);
    g_fatal_report_done.store(true);
    return;
  }
  g_fatal_wait_limit.store(std::min(wait_pauses, kMaxFatalReportWaitPauses));
  g_fatal_report_done.store(false);
  g_fatal_reported.store(true);
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

void record(const Event& event_in, bool scoped) noexcept {
  Ring* ring = ring_of_this_thread();
  if (ring == nullptr) return;
  Event event = event_in;
  const std::uint32_t tls_depth = tls_ring.depth;
  const std::uint32_t depth = scoped && tls_depth > 0 ? tls_depth - 1 : tls_depth;
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
