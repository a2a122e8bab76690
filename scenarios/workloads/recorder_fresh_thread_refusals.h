// The flight recorder's refusal reports of calls on fresh real threads
// (recorder_crash_paths.h's thread drills): a thread whose ring could not be
// allocated, and one whose refused call is the first it records. Each run by
// real threads while the calling fiber waits for them, so the seed's schedule
// and outcome stay deterministic; checked by the "flight-recorder" oracle.
#pragma once

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

}  // namespace segsim::scenarios
