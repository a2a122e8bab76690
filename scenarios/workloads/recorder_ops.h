// The flight recorder (core/flight_recorder.h) switched on inside a sweep, so
// the sweeps reach its public operations and its report writer, each promise
// checked by the "flight-recorder" oracle:
//   * enable() refuses an invalid config (empty or missing directory, ring
//     size out of 16..65536) with one line, and the recorder stays off;
//   * a release or reset the allocator refuses writes one report (until the
//     per-process cap) whose "refused" names the call, the handle and the Errc,
//     and whose refusing thread's events hold that call with the same ids;
//   * write_report() at the end writes a report that parses, names the
//     region and budget bytes of one of the run's allocators (the recorder is
//     process-wide: it keeps the first allocator's), and keeps each thread's last events in
//     sequence order, no more than the ring holds.
// The recorder does no scheduling (no platform call): on or off, a seed's
// schedule is the same. Reports go to a private temporary directory, removed
// with the state; the signal handlers stay off (the sweep has its own).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/flight_recorder.h"
#include "core/segment.h"
#include "scenarios/crash_report.h"
#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

// What a recorder seed enabled and expects (start_recorder).
struct RecorderCheck {
  std::string dir;
  std::size_t ring_events = 0;  // as enabled, rounded up to a power of two
  bool report_refusals = false;
  std::size_t reports_before = 0;  // reports_written() before the refused call
  // The final report by write_final_report(kEndReason, final_message)
  // instead of write_report(kEndReason).
  bool final_form = false;
  std::string final_message;
  std::uint64_t page_id = 0;  // recorder_page_ops' page; 0: none
  flight_recorder::Config config;  // as enabled
  std::uint64_t reuse_page = 0;    // recorder_crash_paths: the page of the thread that took over a ring; 0: none
  std::uint64_t rings_refused = 0;  // recorder_crash_paths: threads refused a ring since the last enable()
  // recorder_crash_paths: the first of two pages a thread whose ring
  // allocation failed cleared (neither may be in a report); 0: none.
  std::uint64_t ring_alloc_failed_page = 0;
  // recorder_crash_paths: the page a thread cleared after its exit marked its
  // ring (no report may hold it); 0: none.
  std::uint64_t after_exit_page = 0;
  // finish_recorder: calls of a second thread, at its ring's edges or past (wrapped).
  std::size_t second_thread_calls = 1;

  RecorderCheck() = default;
  RecorderCheck(const RecorderCheck&) = delete;
  RecorderCheck& operator=(const RecorderCheck&) = delete;
  ~RecorderCheck();  // also on a failed seed: the recorder off, the directory gone
};

// The "flight-recorder" oracle's failure; report paths in `message` are
// written with RECORDER_DIR and PID (the same in every replaying process).
[[noreturn]] void recorder_fail(Stack& stack, const std::string& message);
// A fresh private directory for reports, under the temporary directory.
std::string make_recorder_dir(Stack& stack);
// The report at `path`, read back (a report that does not: "flight-recorder").
CrashReport read_recorder_report(Stack& stack, const std::string& path);
// A slice of `bytes` of the run's allocator allocated and released (recorded
// twice): its handle, now stale, or a null one when a fault plan refuses the
// allocation ("flight-recorder" if the release is refused).
Segment allocate_and_release(Stack& stack, std::size_t bytes);
// Where the recorder writes this process's report number `n` in check.dir.
std::string recorder_report_path(const RecorderCheck& check, std::size_t n);
// enable(config), which must accept it ("flight-recorder").
void enable_recorder_or_fail(Stack& stack, const flight_recorder::Config& config);
// Whether `report` names the refused `op` of `handle` with `code`, its
// allocator and its address (names_refused_call), and also holds the call among its refusing thread's
// recorded events, the same in every field (names_refusal: the ring is what
// a reader follows back from the refusal).
bool names_refused_call(const CrashReport& report, const Segment& handle, flight_recorder::Op op, Errc code);
bool names_refusal(const CrashReport& report, const Segment& handle, flight_recorder::Op op, Errc code);
// enable() numbers rings afresh, in the order they are made: with no ring
// taken over since, `report`'s threads must be numbered 0..n-1, each once
// ("flight-recorder"; `which` names the report in the message).
void check_thread_numbers(Stack& stack, const CrashReport& report, std::string_view which);
// The refused call `report` names, for a failure message (its address only
// as `handle`'s or another).
std::string describe_refusal(const CrashReport& report, const Segment& handle);
// An episode's own recording: from a fresh report count, the seed's config
// with a ring of `ring_events` (one that keeps the episode's every call), no
// reports of refusals (the episode refuses on purpose), and the signal
// handlers only if `catch_signals` (the episode raises one).
void enable_episode_recorder(Stack& stack, const RecorderCheck& check, std::size_t ring_events,
                             bool catch_signals = false);
// `signal` sent to this thread as the kernel sends a fault, with `address`
// as the fault's (si_addr): what the recorder's handler reads. A signal with
// no handler on it (the default, or ignored) fails the run instead.
void send_fault_signal(Stack& stack, int signal, const void* address);
// After the episode: the seed's own recording goes on as enabled.
void restore_seed_recorder(Stack& stack, const RecorderCheck& check);

// Draws from `rng` whether this seed records; null when it does not.
std::shared_ptr<RecorderCheck> start_recorder(Stack& stack, sim::Rng& rng);
// Before a call the allocator must refuse.
void recorder_before_refusal(RecorderCheck& check);
// After it: `release` false for a reset; `code` the refusal due.
void recorder_after_refusal(Stack& stack, RecorderCheck& check, const Segment& handle, bool release, Errc code);
// At quiescence, before finish_recorder: one page borrowed from the stack's
// pool, a slot written and read back, the page given back — the page layer's
// recorded operations, which the final report must keep.
void recorder_page_ops(Stack& stack, RecorderCheck& check);
// At quiescence: the final report, checked; the recorder off. `allocators`:
// the (region_bytes, budget_bytes) of every SegmentAllocator the run used.
void finish_recorder(Stack& stack, RecorderCheck& check,
                     const std::vector<std::pair<std::size_t, std::size_t>>& allocators);

}  // namespace segsim::scenarios
