// What a crash or a broken disk makes the flight recorder do, checked by the
// "flight-recorder" oracle inside a sweep (alloc-api, on a drawn share of the
// recorder's seeds): recorder_ops.h's recording, driven down its error paths.
#pragma once

#include "scenarios/stack.h"
#include "scenarios/workloads/recorder_ops.h"
#include "sim/random.h"

namespace segsim::scenarios {

// At quiescence, before the other recorder calls: the fatal-signal handler (a
// raised signal: one report naming it, none for a second one, the previous
// handlers back), a report into a directory removed since enable() (none
// written), a report's writes interrupted (EINTR: asked again up to
// kMaxWriteInterruptions in a row, the report whole; one more: none, no file
// left), reports up to the per-process cap and past it (a refusal's
// report announced in one stderr line naming it until the cap, nothing
// past it; write_report() an empty path past it), then the thread drills (a refusal on a thread without a ring:
// recorder_fresh_thread_refusals.h; a thread held inside its ring's wrap, more threads
// than rings, exited threads' rings taken over: recorder_ring_drills.h). Only on seeds whose refusals
// write no reports (the per-process report cap is then the drills' alone).
// Without `all_paths`, only the handlers' swap and the fatal signal: the
// cheap paths, run on every such seed. The recorder is on again afterwards.
void recorder_crash_paths(Stack& stack, RecorderCheck& check, sim::Rng& rng, bool all_paths);

}  // namespace segsim::scenarios
