// Chrome trace-event JSON of a run (opens in Perfetto / chrome://tracing):
// one track (tid) per fiber with its scheduling events, injected faults as
// instant events, and the stack's virtual / resident bytes as counter tracks.
// Timestamps are the run's virtual time.
#pragma once

#include <string>

#include "core/result.h"
#include "scenarios/run.h"

namespace segsim::scenarios {

std::string chrome_trace_json(const RunReport& report);  // needs keep_full_trace

}  // namespace segsim::scenarios
