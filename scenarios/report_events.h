// The trace events a failure report shows: those around the failing step,
// not the run's last ones, with the mutex traffic of other fibers left out
// (a lock/unlock pair per operation would crowd out everything else).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/trace.h"

namespace segsim::scenarios {

inline constexpr std::size_t kReportEventsBefore = 10;
inline constexpr std::size_t kReportEventsAfter = 6;

// From `window` (oldest first): up to `before` events at or before `step` and
// `after` events past it, skipping mutex lock / try_lock / unlock events of
// fibers other than `fiber`. With no failing fiber (at quiescence) every
// fiber's mutex events are skipped.
std::vector<sim::TraceEvent> events_around(const std::vector<sim::TraceEvent>& window, std::uint32_t fiber,
                                           std::uint64_t step, std::size_t before = kReportEventsBefore,
                                           std::size_t after = kReportEventsAfter);

}  // namespace segsim::scenarios
