// pressure, forecast-model: each forecast the harness asks for is the one
// the reference (forecast_model.h) computes from the same samples — the
// regression, confidence, predictions, trend, rates, time to critical,
// levels and action — within a stated tolerance. pressure_forecast.cpp only
// checks that a forecast is sane; this checks that it is right.
#include <cmath>
#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "scenarios/oracles/forecast_model.h"
#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

namespace {

constexpr double kRelativeTolerance = 1e-9;   // the same sums in another order of rounding
constexpr double kTimeTolerance = 1e-6;       // ns: a quotient scaled by 1e9 before truncation
// Whole ns, truncated: two sound computations of the same time may land on
// either side of a whole ns (1799.9999… and 1800.0000…), a short time too.
constexpr std::int64_t kTruncationNs = 1;

bool within(double got, double want, double tolerance) {
  return std::abs(got - want) <= tolerance * std::max(1.0, std::abs(want));
}

// Whether a decision taken on `value` against `thresholds` is certain: no
// threshold lies within the tolerance of it.
bool clear_of(double value, std::initializer_list<double> thresholds) {
  for (double t : thresholds) {
    if (within(value, t, kRelativeTolerance)) return false;
  }
  return true;
}

}  // namespace

void check_forecast_against_model(Oracles& oracles, const PressureForecasterConfig& config,
                                  const PressureForecast& got, const PressureForecast& want, const char* when) {
  std::string wrong;
  auto value = [&](const char* name, double g, double w, double tolerance = kRelativeTolerance) {
    if (!within(g, w, tolerance)) wrong += fmt::format(" {} {} (model {});", name, g, w);
  };
  if (got.samples != want.samples || got.time_ns != want.time_ns) {
    wrong += fmt::format(" {} samples, newest at {} ns (model {}, {} ns);", got.samples, got.time_ns, want.samples,
                         want.time_ns);
  }
  value("current ratio", got.current_ratio, want.current_ratio);
  value("slope/s", got.slope_per_s, want.slope_per_s);
  value("slope/sample", got.slope_per_sample, want.slope_per_sample);
  value("confidence", got.confidence, want.confidence);
  value("+30 s", got.predicted_30s, want.predicted_30s);
  value("+60 s", got.predicted_60s, want.predicted_60s);
  value("+120 s", got.predicted_120s, want.predicted_120s);
  value("+horizon", got.predicted_horizon, want.predicted_horizon);
  value("allocation B/s", got.allocation_rate_bytes_per_s, want.allocation_rate_bytes_per_s);
  value("release B/s", got.release_rate_bytes_per_s, want.release_rate_bytes_per_s);
  const PressureThresholds& t = config.thresholds;
  // Decisions on the current ratio are certain when it is clear of their
  // thresholds, or when both hold the very same ratio (one division of the
  // same sample): then a ratio exactly on a threshold is at it for both.
  const bool same_ratio = got.current_ratio == want.current_ratio;
  // Whether it is already critical, or else rising at all, must be certain
  // first: rising is certain when the slope is clear of 0, or when both
  // computed the very same slope (a flat window's 0 is not rising for both).
  const bool at_critical_certain = same_ratio || clear_of(want.current_ratio, {t.critical});
  const bool rising_certain = got.slope_per_s == want.slope_per_s || clear_of(want.slope_per_s, {0.0});
  const bool critical_certain = at_critical_certain && (want.current_ratio >= t.critical || rising_certain);
  if (critical_certain && (want.time_to_critical_ns <= 0
                               ? got.time_to_critical_ns != want.time_to_critical_ns
                               : !within(static_cast<double>(got.time_to_critical_ns),
                                        static_cast<double>(want.time_to_critical_ns), kTimeTolerance) &&
                                     std::abs(got.time_to_critical_ns - want.time_to_critical_ns) > kTruncationNs)) {
    wrong += fmt::format(" time to critical {} ns (model {});", got.time_to_critical_ns, want.time_to_critical_ns);
  }
  // The trend, likewise: certain when the slope is clear of the bands, or when
  // both computed the very same slope (a flat window's 0 on a band of 0).
  const bool trend_certain = got.slope_per_sample == want.slope_per_sample ||
                             clear_of(want.slope_per_sample, {-config.stable_band, config.stable_band, config.increasing_max});
  if (trend_certain && got.trend != want.trend) {
    wrong += fmt::format(" trend {} (model {});", pressure_trend_name(got.trend), pressure_trend_name(want.trend));
  }
  const bool level_certain = same_ratio || clear_of(want.current_ratio, {t.warning, t.high, t.critical, t.emergency});
  const bool predicted_certain = level_certain && clear_of(want.confidence, {config.min_confidence}) &&
                                 clear_of(want.predicted_horizon, {t.warning, t.high, t.critical, t.emergency});
  if (level_certain && got.level != want.level) {
    wrong += fmt::format(" level {} (model {});", pressure_level_name(got.level), pressure_level_name(want.level));
  }
  if (predicted_certain && (got.predicted_level != want.predicted_level || got.action != want.action)) {
    wrong += fmt::format(" horizon level {}, action {} (model {}, {});", pressure_level_name(got.predicted_level),
                         pressure_action_name(got.action), pressure_level_name(want.predicted_level),
                         pressure_action_name(want.action));
  }
  if (!wrong.empty()) {
    oracles.fail("forecast-model", fmt::format("{}: a forecast of {} samples differs from the model:{}", when,
                                               want.samples, wrong));
  }
}

}  // namespace segsim::scenarios
