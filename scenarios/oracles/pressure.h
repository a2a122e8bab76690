// Oracles of the closed memory-pressure loop (issue 15). One file per promise:
//   pressure_forecast.cpp  every forecast is sane: finite predictions and
//                          rates, confidence in [0, 1], a trend that matches
//                          the slope, even for samples at one instant
//   pressure_refusal.cpp   no over-budget refusal while the forecaster had
//                          predicted it with lead time and the loop had an
//                          action left: every refusal asked the loop to
//                          reclaim, and a prediction made at least `lead`
//                          before was followed by an eviction action
// Pinned pages and live objects the loop's actions must never lose are
// checked by the content / use-after-release oracles (readers verify pages
// they pinned across ticks; large objects are verified before release).
#pragma once

#include <cstdint>
#include <deque>

#include "core/pressure_forecaster.h"
#include "core/pressure_loop.h"
#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

struct TickRecord {
  std::int64_t time_ns = 0;
  PressureLevel worst_level = PressureLevel::Normal;  // max(now, predicted)
  PressureAction action = PressureAction::None;       // taken
  bool skipped = false;
};

class PressureChecks {
 public:
  PressureChecks(Oracles& oracles, const PressureForecasterConfig& config, std::int64_t lead_ns)
      : oracles_(oracles), config_(config), lead_ns_(lead_ns) {}

  // pressure_forecast.cpp
  void check_forecast(const PressureForecast& forecast, const char* when);
  // pressure_refusal.cpp
  void record_tick(const PressureTick& tick);
  void check_refusal(std::int64_t now_ns, std::uint64_t reclaims_before, std::uint64_t reclaims_after,
                     std::size_t requested_bytes);

  std::uint64_t refusals() const noexcept { return refusals_; }

 private:
  Oracles& oracles_;
  const PressureForecasterConfig config_;
  const std::int64_t lead_ns_;
  std::deque<TickRecord> ticks_;  // the most recent ones
  std::uint64_t refusals_ = 0;
};

}  // namespace segsim::scenarios
