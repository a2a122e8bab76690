// The flight recorder's thread drills (recorder_ops.h, recorder_crash_paths):
// what the recorder does when threads come to its rings in numbers and at the
// wrong moments — a ring allocation that fails, a thread held inside its
// ring's wrap while reports are written, more live threads than rings (in
// turn, racing, and one held at its claim until it loses the race), exited
// threads' rings taken over, and a refused release by a thread that has no
// ring. Each run by real threads while the calling fiber waits for them, so
// the seed's schedule and outcome stay deterministic; checked by the
// "flight-recorder" oracle.
#pragma once

#include "scenarios/crash_report.h"
#include "scenarios/stack.h"
#include "scenarios/workloads/recorder_ops.h"
#include "sim/random.h"

namespace segsim::scenarios {

// A release or reset refused on a fresh thread, twice. On a thread whose ring
// could not be allocated, its report names the call (op, the handle's ids,
// DoubleFree) with no thread (UINT32_MAX), though no recorded event holds it.
// On a thread whose first recorded call the refusal is (another thread made
// and released the handle), the report names it by that thread, as the one
// event its ring holds. Each with its own enable(), refusal reports on; the
// recorder is off afterwards.
void refused_on_fresh_threads(Stack& stack, const RecorderCheck& check, sim::Rng& rng);

// From the seed's own enable(): a thread whose ring allocation fails (every
// seed), and with rings of at most 128 events a thread held inside its
// wrap, then (drawn) more threads than rings and the takeover of exited
// threads' rings. The recorder is on afterwards; `check` says what the final
// report must show (check_ring_taken_over).
void recorder_ring_drills(Stack& stack, RecorderCheck& check, sim::Rng& rng);

// The final report keeps at most kMaxThreads rings, one of them the last
// thread's of recorder_ring_drills' takeover (check.reuse_page).
void check_ring_taken_over(Stack& stack, const RecorderCheck& check, const CrashReport& report);

}  // namespace segsim::scenarios
