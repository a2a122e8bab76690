// The harness's own forecaster: what PressureForecaster (core/pressure_forecaster.h,
// seed 004 M002) must answer for the samples it was given, computed from the
// documentation — a least-squares line through the window's usage ratios over
// time (seconds since the window's first sample), R² as confidence scaled by
// min(1, n / full_confidence_samples), the trend from the slope per mean
// sample interval, rates from the sample-to-sample deltas of used bytes over
// the window's span, levels from the thresholds and the action from the worse
// of the current and (when confident) the horizon level. Two conventions the
// documentation leaves to the implementation and the model states: usage that
// does not vary is perfectly predicted (R² = 1), and with no time span there
// is no slope and no confidence; a sample with a zero limit has ratio 0. Pure: no lock, no scheduling point.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>

#include "core/pressure_forecaster.h"

namespace segsim::scenarios {

class ForecastModel {
 public:
  explicit ForecastModel(const PressureForecasterConfig& config) : config_(config) {}

  // False (nothing kept) for a sample older than the newest one.
  bool record_at(std::int64_t time_ns, std::size_t used_bytes, std::size_t limit_bytes);
  void reset() { window_.clear(); }
  std::size_t sample_count() const noexcept { return window_.size(); }
  PressureForecast forecast() const;
  PressureLevel level_of(double ratio) const noexcept;

 private:
  PressureTrend trend_of(double slope_per_sample) const noexcept;
  // Needs f's current ratio and slope per second.
  std::int64_t time_to_critical_ns(const PressureForecast& f) const noexcept;

  PressureForecasterConfig config_;
  std::deque<PressureSample> window_;
};

// The documented action of a level (the worse of now and the horizon).
PressureAction action_for_level(PressureLevel level) noexcept;

// forecast-model (pressure_forecast_model.cpp): `got` is `want` within a
// relative tolerance of 1e-9 (1e-6 for the time to critical, in ns); a
// discrete field (trend, levels, action) is compared only where the model's
// value that decides it is not within that tolerance of a threshold.
class Oracles;
void check_forecast_against_model(Oracles& oracles, const PressureForecasterConfig& config,
                                  const PressureForecast& got, const PressureForecast& want, const char* when);

}  // namespace segsim::scenarios
