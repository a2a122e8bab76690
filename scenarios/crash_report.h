// Crash reports of the flight recorder (docs/flight-recorder.md), read back for
// `segsim reproduce`. Parsing is strict, like repro files: a foreign format,
// an unknown version, a missing or mistyped field, an unknown operation or
// error name, a truncated file — one line (the CLI exits 2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/flight_recorder.h"
#include "core/result.h"

namespace segsim::scenarios {

inline constexpr std::size_t kMaxCrashReportBytes = std::size_t{256} << 20;
inline constexpr std::size_t kMaxCrashEvents = std::size_t{1} << 22;  // 256 threads x 16384

// One recorded operation: the allocator's (size class, region, slice,
// generation) or the page layer's (page id or cache key, slot; what `bytes`
// means depends on the operation: flight_recorder::Op).
struct CrashEvent {
  std::uint64_t sequence = 0;
  flight_recorder::Op op = flight_recorder::Op::Allocate;
  std::uint64_t bytes = 0;
  int size_class = -1;
  std::uint32_t region = 0;
  std::uint32_t slice = 0;
  std::uint32_t generation = 0;
  std::uint64_t page = 0;      // page layer
  std::uint32_t slot = 0;      // page layer
  std::uint32_t depth = 0;     // recorded operations it ran inside (version 1: 0)
  std::uint32_t allocator = 0; // the allocator's operations: which allocator (version 1, a failed allocate: 0);
                               // the object layers' (version 3): which slab / arena manager / large allocator
  std::uint64_t object = 0;    // the object layers: the fourth id (region, slice, generation, object: flight_recorder::Op)
  std::optional<Errc> error;  // nullopt: the call succeeded
  // An allocator event's "address" as the report gave it: a raw address, so
  // never compared (DESIGN.md) nor written back (crash_report_to_json); read
  // for people and for the recorder-addresses oracle. Absent: 0.
  struct Address {
    std::uint64_t value = 0;
    friend bool operator==(const Address&, const Address&) { return true; }
  } address;
  friend bool operator==(const CrashEvent&, const CrashEvent&) = default;
};

// The error an event records for a call that answered `result` (a Status or
// a Result<T>): nullopt when it succeeded.
template <class R>
std::optional<Errc> recorded_error(const R& result) {
  return result.ok() ? std::nullopt : std::optional<Errc>(result.error().code);
}

struct CrashThread {
  std::uint32_t thread = 0;
  std::uint64_t recorded = 0;  // events ever recorded (the ring kept the last ones)
  std::vector<CrashEvent> events;
  friend bool operator==(const CrashThread&, const CrashThread&) = default;
};

// The recorded slice a fatal signal's address fell in (stable ids only).
struct CrashFaultSlice {
  std::uint32_t region = 0;
  std::uint32_t slice = 0;
  std::uint32_t generation = 0;
  std::uint64_t offset = 0;  // bytes into the slice
};

struct CrashAssertion {
  std::string condition;
  std::string message;
  std::string file;
  std::uint64_t line = 0;
};

// Version 3: the last slab / large-object allocator's config (what the
// rebuilt run makes its own with).
struct CrashSlabConfig {
  std::uint32_t allocator = 0;
  std::uint64_t slab_bytes = 0;
  std::vector<std::uint64_t> magazine_capacity;  // one per slab class
  bool adaptive_magazines = true;
  std::uint64_t depot_full_magazines_max = 0;
  std::uint64_t empty_slabs_kept = 0;
  std::uint64_t max_slabs = 0;
};
struct CrashLargeConfig {
  std::uint32_t allocator = 0;
  std::uint64_t max_object_bytes = 0;
  std::uint64_t granule_bytes = 0;
  std::uint64_t span_bytes = 0;
  std::uint64_t budget_bytes = 0;
  std::uint64_t fit = 0;
  std::int64_t decommit_after_ns = 0;
  std::int64_t decommit_check_interval_ns = 0;
};

struct CrashReport {
  // The format version it was written in: from version 4 a thread's events
  // may tie on their sequence number (compact events do not step the clock);
  // before, each thread's are strictly increasing.
  std::int64_t version = 0;
  std::string build_id;
  std::string bug;  // the catalogued bug that was on (mutants builds); "" none
  std::uint64_t region_bytes = 0;
  std::uint64_t budget_bytes = 0;
  // Threads that recorded while every ring was held by a live thread (their
  // calls are not in the report); absent: 0.
  std::uint64_t threads_not_recorded = 0;
  // The recorded PageCache's bounds (version 2; 0 when none was recorded).
  std::uint64_t cache_max_entries = 0;
  std::uint64_t cache_max_bytes = 0;
  std::optional<CrashSlabConfig> slab;    // version 3
  std::optional<CrashLargeConfig> large;  // version 3
  std::string kind;  // "refused" | "signal" | "assertion" | another reason
  // kind "refused": the refused call and its thread.
  std::optional<CrashEvent> refused;
  std::uint32_t refused_thread = 0;
  // kind "signal": which, the address it names (0: none, or absent; for
  // people and the harness's checks, never compared across runs), and the
  // recorded slice holding that address.
  int signal = 0;
  std::string signal_name;
  std::uint64_t fault_address = 0;
  std::optional<CrashFaultSlice> fault_slice;
  // kind "assertion", or a signal that followed a failed assertion.
  std::optional<CrashAssertion> assertion;
  std::string message;  // the writer's own line (a stress test's failed check; version 2), "" none
  std::string text;  // one line for people: what failed
  std::vector<CrashThread> threads;
};

Result<CrashReport> crash_report_from_json(const std::string& text, std::string* error_line);
Result<CrashReport> read_crash_report(const std::string& path, std::string* error_line);

// The first promise a parsed report breaks, described, or "" (crash_report_promises.cpp):
// each thread's events in increasing sequence order (strictly before version
// 4, ties allowed from it), each event's class one the recorder writes for
// its operation, depths within a byte, at most kMaxCrashEvents events, a
// "refused" failure with its refused call (an allocator call) and error, a
// recorded cache bound to at least one entry. The crash-report fuzz target
// checks it on every report crash_report_from_json accepts; the recorder's
// episodes on every report the recorder writes.
std::string crash_report_broken_promise(const CrashReport& report);

// The report as a current-version document that crash_report_from_json reads back
// to an equal report (addresses and pids, never compared, are left out):
// what a repro of the "recorded" scenario embeds.
std::string crash_report_to_json(const CrashReport& report);

// Whether `text` is (the start of) a crash report rather than a repro or a
// fuzzer artifact: its "format" field says so.
bool looks_like_crash_report(const std::string& text);

}  // namespace segsim::scenarios
