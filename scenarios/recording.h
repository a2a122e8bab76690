// What the "recorded" scenario runs (scenarios/workloads/recorded.cpp): a
// flight-recorder crash report's operations, rebuilt as one client fiber per
// recorded thread, and how to schedule them. A RunSpec carries it (shared:
// candidates of a shrink all point at the same one); a repro file embeds it
// (scenarios/repro.h), so a reproduced crash report replays from its repro
// alone, in any process.
#pragma once

#include "scenarios/crash_report.h"
#include "scenarios/run.h"

namespace segsim::scenarios {

struct Recording {
  CrashReport report;
  // Each operation waits until its recorded sequence number is the next one
  // (equal numbers were concurrent: either order) — the sketch's order. Off:
  // the strategy alone orders the fibers.
  bool follow_recorded_order = false;
};

// Whether `failure` (of a "recorded" run) is the report's failure recurring:
// the same kind, operation and stable ids — a refusal of the same recorded
// call with the same Errc; a fault slice found released or unmapped; the same
// assertion (condition and message; no address is compared).
bool recurs_in(const CrashReport& report, const Failure& failure);

// Whether the rebuilt run works at the program's level (the depth-0 events:
// page layer and allocator, the rebuilt stack making the nested calls) rather
// than the allocator's (every allocator event): a report with page-layer
// events, unless it is a refused release (matched by the allocator call).
bool replays_page_layer(const CrashReport& report);

// Whether the recorded scenario can tell when the report's failure recurs
// (a refusal, an assertion, a signal inside a recorded slice); "" when it
// can, else why not (one line).
std::string unmatchable_because(const CrashReport& report);

}  // namespace segsim::scenarios
