#include "scenarios/report_events.h"

#include <algorithm>

namespace segsim::scenarios {

namespace {

bool is_mutex_noise(const sim::TraceEvent& event, std::uint32_t failing_fiber) {
  const bool mutex = event.op == sim::TraceOp::MutexLock || event.op == sim::TraceOp::MutexTryLock ||
                     event.op == sim::TraceOp::MutexUnlock;
  return mutex && (failing_fiber == sim::kNoFiber || event.fiber != failing_fiber);
}

}  // namespace

std::vector<sim::TraceEvent> events_around(const std::vector<sim::TraceEvent>& window, std::uint32_t fiber,
                                           std::uint64_t step, std::size_t before, std::size_t after) {
  std::vector<sim::TraceEvent> earlier;
  std::vector<sim::TraceEvent> later;
  for (const sim::TraceEvent& event : window) {
    if (is_mutex_noise(event, fiber)) continue;
    if (event.step <= step) {
      earlier.push_back(event);
    } else if (later.size() < after) {
      later.push_back(event);
    }
  }
  if (earlier.size() > before) earlier.erase(earlier.begin(), earlier.end() - static_cast<std::ptrdiff_t>(before));
  earlier.insert(earlier.end(), later.begin(), later.end());
  return earlier;
}

}  // namespace segsim::scenarios
