// The flight recorder: a cheap sketch of a real run, for crash reports
// (DESIGN.md, "Crash reports"; docs/flight-recorder.md has the file format).
//
// Opt-in — flight_recorder::enable(config), or SEGSIM_FLIGHT_RECORDER=DIR in
// the environment when the process starts. While on, every public operation
// of the SegmentAllocator (allocate, release, reset) appends one event to its
// thread's ring: the operation, the stable ids of the slice (region, slice,
// generation), its size class, the result. Each event carries a sequence
// number from the seam's logical clock (platform/sync_clock.h: a Lamport
// clock stepped at every mutex acquire and release): operations ordered by a
// mutex — every hand-out and release of one slice is, by its class lock —
// get increasing numbers; concurrent ones may tie. That order is the sketch
// `segsim reproduce` follows first. A ring is bounded (the last N events of
// its thread) and lock-free: its thread is the only writer; a reader (the
// report writer) copies it as it stands.
//
// On a failure it writes DIR/segsim-crash-<pid>-<n>.json: on a fatal signal
// (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT — an assertion ends in SIGABRT
// and its text is included) from the signal handler, which does only
// async-signal-safe work (no allocation, no locks, no stdio: open, write,
// rename), and on a release or reset the allocator refuses (the Errc), from
// the refusing thread. Each report, of either kind, is announced in one line
// on stderr, "segsim: flight recorder: crash report PATH" (none past the
// per-process cap, kMaxReportsPerProcess). One fatal report per process: a
// fatal signal while another thread writes it waits for it — pauses of 1 ms,
// at most kMaxFatalReportWaitPauses — and returns unreported (so a second
// thread's death does not end the process before the report is whole); once
// the report is whole it returns without a pause. Off, a recorded operation
// costs one relaxed load and a predictable branch.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "core/platform/sync_clock.h"
#include "core/sanitizers.h"
#include "core/segment.h"

namespace segsim::flight_recorder {

// Version 2 added the page layer's operations, an event's nesting depth, the
// page cache's bounds and a failure's message; version 3 the slab, arena and
// large-object layers' operations and the slab / large allocators' configs;
// version 4 lets a thread's events tie on their sequence number (a compact
// event does not step the clock; their order is the ring's). Readers still
// take versions 1 to 3.
inline constexpr int kFormatVersion = 4;
inline constexpr std::size_t kMaxThreads = 256;         // rings beyond are not recorded (counted)
inline constexpr std::size_t kMaxReportsPerProcess = 8;  // a storm of refusals writes the first few
inline constexpr std::uint32_t kMaxFatalReportWaitPauses = 10000;  // 1 ms each: 10 s for another thread's report
// A report's bytes go out through a buffer this large: one write() per full
// buffer and one for the rest — more only when a write is short.
inline constexpr std::size_t kReportBufferBytes = 2048;

// The SegmentAllocator's operations, then the page layer's (LeafPagePool,
// LeafPage, PageCache — docs/flight-recorder.md says which fields each uses).
enum class Op : std::uint8_t {
  Allocate,
  AllocateUninitialized,
  Release,
  Reset,
  PoolBorrow,      // page: the id borrowed for
  PoolGiveBack,    // page: the page's id
  PageSetSlot,     // page, slot, bytes: the value's length
  PageSetDeweyId,  // page, slot, bytes
  PageReturn,      // page: return_segments()
  PageClear,       // page
  PageReset,       // page: the id before; bytes: the new id (reset_for_reuse)
  CachePut,        // page: the key; bytes: the cached page's id
  CacheGet,        // page: the key; slot: 1 on a hit (a pin), 0 on a miss
  CacheUnpin,      // page: the key (a handle dropped)
  CacheErase,      // page: the key
  CacheClear,
  CacheShrink,     // bytes: max_pages
  // Version 3: the object layers (docs/flight-recorder.md: "ids" per op).
  // `page` holds the layer object's instance id, region / slice /
  // generation / address its ids (record_object_operation).
  SlabAllocate,    // ids: slab, index, generation, epoch; bytes: the request; class: the slab class
  SlabFree,        // ids: as the allocate's
  SlabFlush,       // flush_thread_cache() or a thread's exit
  ArenaBegin,      // ids: arena id (0: refused), txn, profile
  ArenaBeginChild, // ids: child id (0: refused), parent id
  ArenaAllocate,   // ids: arena id, alignment; bytes: the request
  ArenaCommit,     // ids: arena id
  ArenaRollback,   // ids: arena id
  LargeAllocate,   // ids: span, generation, 0, offset; bytes: the request
  LargeAllocateUninitialized,
  LargeRelease,    // ids: as the allocate's
  LargeDecommitIdle,    // bytes: min_idle_ns
  LargeUnmapFreeSpans,  // bytes: target_mapped_bytes
};
inline constexpr Op kLastOp = Op::LargeUnmapFreeSpans;
const char* op_name(Op op) noexcept;
// Whether `op` is the page layer's (page / slot fields) rather than the allocator's.
inline constexpr bool is_page_op(Op op) noexcept { return op >= Op::PoolBorrow && op <= Op::CacheShrink; }
// The SegmentAllocator's own operations (a slice's ids).
inline constexpr bool is_allocator_op(Op op) noexcept { return op <= Op::Reset; }
// The slab, arena and large-object layers' (an instance and object ids; version 3).
inline constexpr bool is_object_op(Op op) noexcept { return op >= Op::SlabAllocate; }
inline constexpr bool is_slab_op(Op op) noexcept { return op >= Op::SlabAllocate && op <= Op::SlabFlush; }
// The slab operations of one object, whose event carries its slab class.
inline constexpr bool has_slab_class(Op op) noexcept { return op == Op::SlabAllocate || op == Op::SlabFree; }
inline constexpr bool is_arena_op(Op op) noexcept { return op >= Op::ArenaBegin && op <= Op::ArenaRollback; }
inline constexpr bool is_large_op(Op op) noexcept { return op >= Op::LargeAllocate; }

struct Config {
  std::string dir;                   // where crash reports go; must exist
  std::size_t ring_events = 512;     // per thread, rounded up to a power of two (16..65536)
  std::string build_id = "unknown";  // written into reports; reproduce compares it
  bool catch_signals = true;         // install the fatal-signal handlers
  bool report_refusals = true;       // a refused release / reset writes a report
};

// One recorded operation, unpacked: what a report writes and what the
// out-of-line paths build (a ring holds detail::Slot, 32 bytes).
struct Event {
  std::uint64_t sequence = 0;  // the logical clock's stamp (order across threads); 0 = an empty slot
  std::uintptr_t address = 0;  // the slice's address (maps a fault address to the slice)
  std::uint64_t bytes = 0;     // requested bytes (allocate); see Op for the page layer
  std::uint64_t page = 0;      // page layer: the page id or cache key; the allocator's: its id (a
                               // process may hold several, whose region ids overlap)
  std::uint32_t region = 0;
  std::uint32_t slice = 0;     // page layer: the slot
  std::uint32_t generation = 0;
  Op op = Op::Allocate;
  std::int8_t size_class = -1;
  std::uint8_t result = 0;     // 0 = ok, else 1 + the Errc
  std::uint8_t depth = 0;      // recorded operations of this thread it ran inside (0: called by the program)
};

namespace detail {
// The current enable()'s epoch while on, 0 while off: read on every recorded
// operation. One word is both the switch and the epoch a thread's ring must
// be of, so the hot path's "on?" and "is my ring current?" are one load.
extern std::atomic<std::uint32_t> g_live;

// An event as it sits in a ring: 32 bytes. A successful allocator operation
// called by the program (every hit, and the full path's successes, at depth
// 0) is packed into the slot itself ("compact"): the thread's clock as it
// stands, one word of constant and request, and the handle's two id words
// (owner_word / place_word, put together from its fields) — no
// address (the report rebuilds it from the region's base,
// flight_recorder_regions.h).
// Anything else — a page or object-layer operation, a refused or failed
// allocator call, a call nested in a layer's Scope — is "wide": the whole
// Event sits in the ring's side array at the same index, and the slot holds
// its sequence and kWideTag. The report writer unpacks both (unpack_slot).
//
//   sequence  the logical clock's value, not stepped (version 4): events of
//             one thread between two of its synchronisations tie, and keep
//             their order in the ring
//   where     code << 19 | bytes (bytes < 2^19: a hit's request is at most
//             256 KiB; a larger one is wide), code = op ^ 1 (op is an
//             allocator op, < 4): the cheapest call, allocate_uninitialized
//             (no zeroing), has code 0, so its word is the request itself; a
//             release's is a constant
//   owner     the handle's owner word: allocator id | generation << 32
//   place     its place word: region | slice << 32 | size class << 48;
//             its top byte always 0 (kWideTag: wide)
// Aligned to its size, so a slot never straddles two cache lines.
struct alignas(32) Slot {
  std::uint64_t sequence = 0;
  std::uint64_t where = 0;
  std::uint64_t owner = 0;
  std::uint64_t place = 0;
};
static_assert(sizeof(Slot) == 32);
inline constexpr std::uint64_t kWideTag = 0xff;
inline constexpr std::uint64_t kCompactBytesLimit = std::uint64_t{1} << 19;
inline constexpr unsigned kOpShift = 19;

// The op's code in a compact slot's `where` (Slot); its own inverse.
inline constexpr std::uint64_t compact_code(Op op) noexcept { return static_cast<std::uint64_t>(op) ^ 1; }

// A compact slot's id words, put together from the handle's fields rather
// than loaded as the 16 bytes they are in memory: the handle an allocation
// returns was just written field by field (4-, 2- and 1-byte stores), and a
// load spanning several pending stores cannot be forwarded from them — it
// waits until they reach the cache. Measured (docs/benchmarks.md, "Flight
// recorder cost"), that wait cost more time than the few shifts here. Inlined
// into the hit path, the fields are mostly in registers already.
inline std::uint64_t owner_word(const Segment& segment) noexcept {
  return segment.allocator_id() | std::uint64_t{segment.generation()} << 32;
}
inline std::uint64_t place_word(const Segment& segment) noexcept {
  return segment.region_id() | std::uint64_t{segment.slice_index()} << 32 |
         std::uint64_t{static_cast<std::uint8_t>(segment.size_class())} << 48;
}

// A thread's ring (flight_recorder.cpp): its thread is the only writer. The
// slots sit right before this header, in one block, so the writer finds the
// next slot as the header's address plus `cursor` (a negative byte offset)
// and moves it on with one add, which reaches 0 exactly at the end; there it
// wraps (out of line), and `laps` counts the wraps as a seqlock (odd while
// one is under way), so a reader rebuilds the events ever written
// (ring_head) without the writer keeping a count on every event.
struct alignas(sizeof(Slot)) Ring {
  // The next slot to write: its byte offset from this header, -(mask + 1) x
  // sizeof(Slot) at a lap's start, up to -sizeof(Slot) (0 for a moment at
  // the lap's end: index_of).
  std::atomic<std::int64_t> cursor{0};
  std::atomic<std::uint64_t> laps{0};  // 2 x the wraps, +1 while one is under way
  std::uint64_t mask = 0;
  Slot* slots = nullptr;               // the first slot: this header's address - (mask + 1) slots
  Event* wide = nullptr;               // a wide event's fields, at its slot's index
  std::uint32_t thread = 0;            // the thread's number (grows: an exited thread's ring is reused)
  Ring* retired_next = nullptr;  // the retired list (flight_recorder.cpp: enable)
  // Its thread has exited: a new thread may take the ring over once all
  // kMaxThreads slots are taken (the oldest exited thread's first).
  std::atomic<bool> exited{false};

  std::int64_t first_cursor() const noexcept { return -static_cast<std::int64_t>((mask + 1) * sizeof(Slot)); }
  Slot* slot_at(std::int64_t offset) noexcept {
    return reinterpret_cast<Slot*>(reinterpret_cast<unsigned char*>(this) + offset);
  }
  // A cursor's slot index, 0..mask; mask + 1 for 0, the lap's end (stored
  // only between the add that reaches it and wrap(): record_compact).
  std::uint64_t index_of(std::int64_t offset) const noexcept {
    return static_cast<std::uint64_t>(offset - first_cursor()) / sizeof(Slot);
  }
};
// The ring's writer at its end: back to the first slot, one more lap.
void wrap(Ring* ring) noexcept;
// After writing the slot at `cursor`: the next event goes to the slot after it.
inline void advance(Ring* ring, std::int64_t cursor) noexcept {
  cursor += static_cast<std::int64_t>(sizeof(Slot));
  if (cursor == 0) [[unlikely]] return wrap(ring);
  ring->cursor.store(cursor, std::memory_order_release);
}

// The calling thread's ring for the current enable() (epoch). `ring` is never
// null while `epoch` is the live one: a thread that could not get a ring
// (kMaxThreads reached, out of memory, exited) keeps `epoch` stale and notes
// the epoch it was refused in, so the hot path needs no null check.
// `compact_epoch` is what the hot path compares with the live epoch: `epoch`
// while the thread is inside no Scope, 0 inside one — a nested call's event
// carries its depth, which a compact slot has no room for, so it takes the
// out-of-line path and goes wide.
struct ThreadRing {
  std::uint32_t epoch = 0;
  std::uint32_t compact_epoch = 0;
  std::uint32_t refused_epoch = 0;
  Ring* ring = nullptr;
  std::uint32_t depth = 0;  // recorded operations this thread is inside (Scope): an event's depth
  std::uint8_t depth8 = 0;  // depth, at most 255 (what an event holds)
};
inline constinit thread_local ThreadRing tls_ring;
// The epoch of the last enable() (g_live is 0 while off).
inline constinit std::atomic<std::uint32_t> g_epoch{0};
// The calling thread's ring when tls_ring is not of the live epoch: made or
// taken over (out of line); null when the thread gets none.
Ring* ring_of_this_thread() noexcept;
// An event of a layer operation, recorded inside the Scope it opened: its
// own scope is not counted in its depth. Depth 0 when the recorder came on
// after the operation began (its Scope entered nothing).
void record(const Event& event) noexcept;
// A successful allocator operation at depth 0, packed into the ring's slot (see Slot).
inline void record_compact(Ring* ring, Op op, std::uint64_t bytes, const Segment& segment) noexcept;
// record_hit's way when the thread's compact_epoch is not the live one: no
// ring yet for this enable(), or inside a Scope (then wide, with its depth).
void record_hit_slow(Op op, std::uint64_t bytes, const Segment& segment) noexcept;
// Any other allocator operation (a refusal, a failed or oversized allocate): wide.
void record_slice_wide(Op op, std::uint64_t bytes, const Segment& segment, std::uint8_t result) noexcept;
// An event's nesting depth as it holds it: 255 stands for 255 or more.
inline std::uint8_t depth_byte(std::uint32_t depth) noexcept {
  return static_cast<std::uint8_t>(depth < 255 ? depth : 255);
}
// A Scope's entry and exit (inline: every page-layer operation pays two while on).
inline void set_depth(std::uint32_t depth) noexcept {
  tls_ring.depth = depth;
  tls_ring.depth8 = depth_byte(depth);
  // Nested calls go wide (ThreadRing); the ring of a stale epoch stays stale.
  tls_ring.compact_epoch = depth == 0 ? tls_ring.epoch : 0;
}
inline void enter() noexcept { set_depth(tls_ring.depth + 1); }
inline void leave() noexcept { set_depth(tls_ring.depth > 0 ? tls_ring.depth - 1 : 0); }
void note_stack(std::size_t region_bytes, std::size_t budget_bytes) noexcept;
void note_page_cache(std::size_t max_entries, std::size_t max_bytes) noexcept;
// The configs of the last SlabAllocator / LargeObjectAllocator made since the
// last enable() (what the rebuilt run makes its own with); enable() forgets
// an earlier one's.
struct SlabNote {
  std::uint32_t allocator = 0;
  std::uint64_t slab_bytes = 0;
  std::uint32_t magazine_capacity[9] = {};
  bool adaptive = true;
  std::uint64_t depot_full_magazines_max = 0;
  std::uint64_t empty_slabs_kept = 0;
  std::uint64_t max_slabs = 0;
};
struct LargeNote {
  std::uint32_t allocator = 0;
  std::uint64_t max_object_bytes = 0;
  std::uint64_t granule_bytes = 0;
  std::uint64_t span_bytes = 0;
  std::uint64_t budget_bytes = 0;
  std::uint64_t fit = 0;
  std::int64_t decommit_after_ns = 0;
  std::int64_t decommit_check_interval_ns = 0;
};
void note_slab(const SlabNote& note) noexcept;
void note_large(const LargeNote& note) noexcept;
void refused(Op op, const Segment& segment, const Error& error) noexcept;
}  // namespace detail

// Checks `config` (the directory must be writable: one line in `error_line`
// otherwise) and turns the recorder on. Rings of an earlier enable() are
// abandoned (not freed: a thread may still hold one).
bool enable(const Config& config, std::string* error_line = nullptr);
void disable();
// What the process does when it starts, with SEGSIM_FLIGHT_RECORDER=DIR and
// SEGSIM_BUILD_ID as it reads them (either may be null: unset) and its
// standard error as `line_fd`: off — false, nothing written — when DIR is
// unset or empty; otherwise enable() with that directory and build id, and
// when that refuses, false and one line "segsim: flight recorder off: <why>\n"
// written to `line_fd`.
bool enable_from_environment(const char* dir, const char* build_id, int line_fd);
inline bool on() noexcept { return detail::g_live.load(std::memory_order_relaxed) != 0; }
// The live epoch (0: off) — what the allocator's hit paths test and hand to record_hit.
inline std::uint32_t live() noexcept { return detail::g_live.load(std::memory_order_relaxed); }

namespace detail {
// On x86-64 (without a sanitizer) the slot's stores and the cursor's step are
// one asm block: gcc would form the slot's address with an `lea` and store
// through it (its x86 address costs make a base + index address dearer), and
// never turns an atomic's load, add and store into one `add` to memory. Here
// the stores address the slot as ring + cursor, and one `addq` to memory
// moves the cursor on and sets ZF at the lap's end (the cursor at offset 0
// of the ring) — two instructions fewer an event. The add's store is the
// cursor's publication: x86 keeps stores in order, so a reader that sees the
// new cursor (acquire) sees the slot; the add is not locked, but the thread
// is the only writer and an aligned 8-byte store is never torn. At the lap's
// end the cursor is 0 until wrap() runs (ring_head reads it as the lap's
// end: the same count). A sanitizer must see the stores, so its builds (and
// other targets) take the same steps in C++.
#if defined(__x86_64__) && !defined(SEGSIM_HAS_ASAN) && !defined(SEGSIM_HAS_TSAN)
#define SEGSIM_RECORDER_SLOT_ASM 1
#endif
inline void record_compact(Ring* ring, Op op, std::uint64_t bytes, const Segment& segment) noexcept {
  const std::int64_t cursor = ring->cursor.load(std::memory_order_relaxed);
  const std::uint64_t stamp = platform::sync_clock::now();  // not stepped: ties within a thread (Slot)
  const std::uint64_t where = (compact_code(op) << kOpShift) + bytes;
  const std::uint64_t owner = owner_word(segment);
  const std::uint64_t place = place_word(segment);
#if defined(SEGSIM_RECORDER_SLOT_ASM)
  static_assert(offsetof(Slot, sequence) == 0 && offsetof(Slot, where) == 8 && offsetof(Slot, owner) == 16,
                "the asm's displacements");
  static_assert(offsetof(Ring, cursor) == 0, "the asm adds to the ring's first word");
  asm goto(
      "movq %[stamp], (%[ring],%[cursor])\n\t"
      "movq %[where], 8(%[ring],%[cursor])\n\t"
      "movq %[owner], 16(%[ring],%[cursor])\n\t"
      "movq %[place], 24(%[ring],%[cursor])\n\t"
      "addq %[step], (%[ring])\n\t"
      "jne %l[recorded]"
      :
      : [ring] "r"(ring), [cursor] "r"(cursor), [stamp] "r"(stamp), [where] "re"(where), [owner] "r"(owner),
        [place] "r"(place), [step] "i"(sizeof(Slot))
      : "memory", "cc"
      : recorded);
  // The lap's end falls through to here; every other event jumps straight
  // on to the caller's next step (no jump back from an out-of-line block).
  [[unlikely]] wrap(ring);
recorded:
  return;
#else
  Slot* slot = ring->slot_at(cursor);
  slot->sequence = stamp;
  // Two plain 8-byte stores: gcc would otherwise pair the words in a vector
  // register first (three more instructions than it saves).
  asm("" ::: "memory");
  slot->where = where;
  slot->owner = owner;
  slot->place = place;
  advance(ring, cursor);
#endif
}
}  // namespace detail

// The allocator's hit paths (segment_allocator.cpp), given live() != 0: a
// successful call (never the null handle, a request of 1 byte to 256 KiB), no
// refusal to report, the stack already noted by an earlier full-path call.
inline void record_hit(std::uint32_t live, Op op, std::size_t bytes, const Segment& segment) noexcept {
  if (detail::tls_ring.compact_epoch != live) [[unlikely]] return detail::record_hit_slow(op, bytes, segment);
  detail::record_compact(detail::tls_ring.ring, op, bytes, segment);
}

// What the allocator's public operations call after the operation returned.
inline void record_operation(Op op, std::size_t bytes, const Segment& segment, const Error* error) noexcept {
  const std::uint32_t live = flight_recorder::live();
  if (live == 0) return;
  if (error == nullptr && !segment.is_null() && bytes < detail::kCompactBytesLimit) [[likely]] {
    static_assert(static_cast<unsigned>(Op::Reset) < 4, "a compact slot's op code (Slot::where)");
    return record_hit(live, op, bytes, segment);
  }
  const std::uint8_t result = error == nullptr ? 0 : static_cast<std::uint8_t>(1 + static_cast<unsigned>(error->code));
  detail::record_slice_wide(op, bytes, segment, result);
  if (error != nullptr && (op == Op::Release || op == Op::Reset)) detail::refused(op, segment, *error);
}

// What the slab, arena and large-object layers' public operations call
// before they return (inside their Scope): `instance` names the layer
// object (a process may hold several), id0..id3 the object (see Op).
inline void record_object_operation(Op op, std::uint32_t instance, std::uint64_t id0, std::uint64_t id1,
                                    std::uint64_t id2, std::uint64_t id3, std::uint64_t bytes, int size_class,
                                    const Error* error) noexcept {
  if (!on()) return;
  Event event;
  event.op = op;
  event.page = instance;
  event.region = static_cast<std::uint32_t>(id0);
  event.slice = static_cast<std::uint32_t>(id1);
  event.generation = static_cast<std::uint32_t>(id2);
  event.address = static_cast<std::uintptr_t>(id3);
  event.bytes = bytes;
  event.size_class = static_cast<std::int8_t>(size_class);
  event.result = error == nullptr ? 0 : static_cast<std::uint8_t>(1 + static_cast<unsigned>(error->code));
  detail::record(event);
}

// Opened by a page-layer operation while it runs, so that the operations it
// calls (a cache eviction's give-back, a page's releases) are recorded as
// nested in it: `segsim reproduce` replays what the program called (depth 0)
// and lets the rebuilt stack make the nested calls itself. Off: one relaxed
// load and a branch.
class Scope {
 public:
  Scope() noexcept : entered_(on()) {
    if (entered_) detail::enter();
  }
  ~Scope() {
    if (entered_) detail::leave();
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  bool entered_;
};

// What the page layer's public operations call before they return (inside
// their Scope). `error`: null when the call succeeded.
inline void record_page_operation(Op op, std::uint64_t page, std::uint32_t slot, std::uint64_t bytes,
                                  const Error* error) noexcept {
  if (!on()) return;
  Event event;
  event.op = op;
  event.page = page;
  event.slice = slot;
  event.bytes = bytes;
  event.result = error == nullptr ? 0 : static_cast<std::uint8_t>(1 + static_cast<unsigned>(error->code));
  detail::record(event);
}

// While one is alive (any thread), a refused release or reset writes no
// report: the program refuses handles on purpose (a test of the double-free
// path) and says so — the recorder cannot tell such a refusal from a bug.
class RefusalsExpected {
 public:
  RefusalsExpected() noexcept;
  ~RefusalsExpected();
  RefusalsExpected(const RefusalsExpected&) = delete;
  RefusalsExpected& operator=(const RefusalsExpected&) = delete;
};

// The reason real-thread stress tests give when one of their own checks
// fails (core/tests/failure_log.h): the report's failure "kind".
inline constexpr const char* kStressCheckReport = "stress-check";

// Writes a report now for `reason` (a static text); its path, or "" when off
// or the report could not be written. Async-signal-safe except for the
// returned string (the signal handler uses the internal form).
std::string write_report(const char* reason);
// A program's verdict that the run failed (a stress test's failed check),
// with its line for people (`message`, cut at kMaxMessageBytes): stops the
// recording first — every thread's next event is dropped, as after disable()
// — so the rings keep the window around the failure, not what the other
// threads did while the report was being written; then writes the report.
inline constexpr std::size_t kMaxMessageBytes = 1024;
std::string write_final_report(const char* reason, const std::string& message);
// The reports written so far by this process.
std::size_t reports_written() noexcept;
// For a process that starts over as if fresh (a sweep worker between seeds,
// scenarios/worker_life.h): the report count back to 0, so the next report
// is numbered 0 and kMaxReportsPerProcess counts from here, and a fatal signal
// is reported again (one report per process otherwise). Refused (false)
// while the recorder is on: its reports would reuse earlier files' names.
bool reset_report_count() noexcept;
// The next `count` ring allocations fail as if memory ran out (0: none
// does): a thread refused so records nothing until the next enable() and is
// counted in a report's threads_not_recorded. For the harness's drill of
// that path (workloads/recorder_ops.cpp), which nothing else reaches.
void fail_ring_allocations(std::uint32_t count) noexcept;
// The next `count` writes of a report's bytes (any thread's) fail with EINTR
// before writing anything, as a signal arriving mid-report would make them
// (0: none does). A report asks again after each, and gives up — no report,
// its temporary file removed — after kMaxWriteInterruptions (core/os.h) in
// a row. For the harness's drill of that path, which nothing else reaches.
void interrupt_report_writes(std::uint32_t count) noexcept;
// The calling thread's next ring claim — its ring allocated, a slot seen
// free, the slot not yet taken — first runs `hold(arg)`, once: a hold during
// which other threads take the last slots makes it lose the race, which is
// then refused and counted like a thread past kMaxThreads. For the harness's
// drill of that path (workloads/recorder_ops.cpp), which only a rare schedule
// reaches otherwise.
void hold_next_ring_claim(void (*hold)(void*), void* arg) noexcept;
// The calling thread's next wrap of its ring — the lap counted as under way,
// the cursor back at the first slot, the new lap not yet published — first
// runs `hold(arg)`, once: a report written meanwhile by another thread (or by
// `hold` itself, as a signal handler would) must still count every event the
// thread recorded. For the harness's drill of that window
// (workloads/recorder_ops.cpp), which no fiber schedule reaches: wrap() has
// no scheduling point. `hold` must not throw.
void hold_next_wrap(void (*hold)(void*), void* arg) noexcept;
// The write() calls that wrote a report's bytes (interrupted ones not
// counted), since the process started: a report of B bytes with no short
// write takes ceil(B / kReportBufferBytes).
std::uint64_t report_writes() noexcept;
// The 1 ms pauses fatal signals have waited for another thread's fatal
// report, since the process started.
std::uint32_t fatal_report_wait_pauses() noexcept;
// As if the process's fatal report were under way on another thread and
// never finished: each fatal signal from now waits `wait_pauses` pauses (at
// most kMaxFatalReportWaitPauses) for it, then returns unreported. 0 ends the
// hold: the report counts as whole (a signal returns at once, unreported);
// reset_report_count() ends it too. For the harness's drill of the wait's
// bound, which only a report writer that never finishes reaches.
void hold_fatal_report(std::uint32_t wait_pauses) noexcept;
// Ring blocks made since the last enable() and not freed: one a ring in the
// table, never more than kMaxThreads. A thread that made a ring and then
// found no slot for it (lost the race) frees its ring; an earlier enable()'s
// rings are abandoned, not counted here.
std::uint32_t rings_held() noexcept;
// Ring blocks of earlier enable()s: abandoned (a thread may still write to
// one) but kept reachable, so a leak checker does not report what is kept on
// purpose — every ring each enable() found in the table. Walks the list that
// enable() writes: call it where enable() may not run meanwhile.
std::size_t rings_retired() noexcept;

}  // namespace segsim::flight_recorder
