// pressure, refusal: no over-budget refusal while the forecaster had
// predicted it with lead time and the loop had an action left.
#include <fmt/format.h>

#include "scenarios/oracles/pressure.h"

namespace segsim::scenarios {

namespace {
constexpr std::size_t kTicksKept = 256;
}

void PressureChecks::record_tick(const PressureTick& tick) {
  ticks_.push_back(TickRecord{tick.forecast.time_ns, std::max(tick.forecast.level, tick.forecast.predicted_level),
                              tick.action, tick.skipped});
  if (ticks_.size() > kTicksKept) ticks_.pop_front();
  ++ticks_seen_;
  if (tick.skipped) return;
  monitors_ += tick.action == PressureAction::Monitor ? 1 : 0;
  gentle_ += tick.action == PressureAction::GentleEviction ? 1 : 0;
  aggressive_ += tick.action == PressureAction::AggressiveEviction ? 1 : 0;
  emergency_ += tick.action == PressureAction::EmergencyCleanup ? 1 : 0;
}

void PressureChecks::check_refusal(std::int64_t now_ns, std::uint64_t reclaims_before, std::uint64_t reclaims_after,
                                   std::size_t requested_bytes) {
  ++refusals_;
  if (reclaims_after <= reclaims_before) {
    oracles_.fail("pressure-refusal",
                  fmt::format("allocate({}) was refused over budget without asking the loop to reclaim", requested_bytes));
  }
  // The first prediction of critical pressure made at least lead_ns_ ago...
  auto predicted = ticks_.end();
  for (auto it = ticks_.begin(); it != ticks_.end() && it->time_ns <= now_ns - lead_ns_; ++it) {
    if (it->worst_level >= PressureLevel::Critical) {
      predicted = it;
      break;
    }
  }
  if (predicted == ticks_.end()) return;  // not predicted with lead time: a surprise spike
  // ...must have been followed by an eviction action at some tick that ran.
  for (auto it = predicted; it != ticks_.end(); ++it) {
    if (!it->skipped && it->action >= PressureAction::GentleEviction) return;
    if (it->skipped) return;  // the loop was held back (fault point): no verdict
  }
  oracles_.fail("pressure-refusal",
                fmt::format("allocate({}) was refused over budget; critical pressure was predicted {} ms before and "
                            "the loop took no eviction action since",
                            requested_bytes, (now_ns - predicted->time_ns) / 1'000'000));
}

}  // namespace segsim::scenarios
