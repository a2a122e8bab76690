// pressure, forecast: every forecast the loop acts on is sane — finite
// predictions and rates, confidence in [0, 1], a trend matching the slope —
// also for samples taken at one instant (a zero time span).
#include <cmath>

#include <fmt/format.h>

#include "scenarios/oracles/pressure.h"

namespace segsim::scenarios {

void PressureChecks::check_forecast(const PressureForecast& f, const char* when) {
  const double values[] = {f.current_ratio, f.predicted_30s, f.predicted_60s, f.predicted_120s, f.predicted_horizon,
                           f.slope_per_s, f.slope_per_sample, f.allocation_rate_bytes_per_s, f.release_rate_bytes_per_s};
  for (double v : values) {
    if (!std::isfinite(v)) {
      oracles_.fail("forecast", fmt::format("{}: a forecast of {} samples has a non-finite value (slope {}, +60 s {})",
                                            when, f.samples, f.slope_per_s, f.predicted_60s));
    }
  }
  if (!(f.confidence >= 0 && f.confidence <= 1)) {
    oracles_.fail("forecast", fmt::format("{}: confidence {} is outside [0, 1]", when, f.confidence));
  }
  if (f.allocation_rate_bytes_per_s < 0 || f.release_rate_bytes_per_s < 0 || f.time_to_critical_ns < -1) {
    oracles_.fail("forecast", fmt::format("{}: negative rate or time to critical", when));
  }
  const bool rising = f.slope_per_sample > config_.stable_band;
  const bool falling = f.slope_per_sample < -config_.stable_band;
  const bool trend_rising = f.trend == PressureTrend::Increasing || f.trend == PressureTrend::Critical;
  if (rising != trend_rising || falling != (f.trend == PressureTrend::Decreasing)) {
    oracles_.fail("forecast", fmt::format("{}: trend {} does not match {} points per sample", when,
                                          pressure_trend_name(f.trend), 100 * f.slope_per_sample));
  }
}

}  // namespace segsim::scenarios
