// The flight recorder's thread drills (recorder_ops.h, recorder_crash_paths):
// what the recorder does when threads come to its rings in numbers and at the
// wrong moments — a ring allocation that fails, a thread held inside its
// ring's wrap while reports are written, more live threads than rings (in
// turn, racing, and one held at its claim until it loses the race), exited
// threads' rings taken over. (A refusal on a thread that has no ring:
// recorder_fresh_thread_refusals.h.) Each run by real threads while the
// calling fiber waits for them, so the seed's schedule and outcome stay
// deterministic; checked by the "flight-recorder" oracle.
#pragma once

#include "scenarios/crash_report.h"
#include "scenarios/stack.h"
#include "scenarios/workloads/recorder_ops.h"
#include "sim/random.h"

namespace segsim::scenarios {

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
