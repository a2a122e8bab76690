// PressureForecaster: memory-pressure early warning (seed 004 M002).
//
// What it promises:
//  * record() takes a sample of (used bytes, limit bytes) at the platform
//    clock's time (virtual under the simulator); record_at() at a given time.
//    A sample older than the last one is refused (InvalidConfig), nothing kept.
//  * forecast() fits a least-squares line to the usage ratio of the last
//    window_samples samples and predicts the ratio at +30 / +60 / +120 s with a
//    confidence in [0, 1] (the fit's R², scaled down while samples are few).
//    Fewer than two samples, or samples all at one instant (a zero time span),
//    give slope 0 and confidence 0 — never a division by zero, never NaN.
//  * Trend per sample: decreasing, stable (within ±0.5 points), increasing
//    (0.5–2 points), critical (> 2 points); thresholds 70/80/90/95 %
//    (configurable) give the level; time to critical; allocation and release
//    rates (bytes/s) from the window's sample-to-sample deltas.
//  * The recommended action is graduated by the worse of the current level
//    and, when confidence is at least min_confidence, the level forecast at
//    +action_horizon_ns: monitor (warning), gentle eviction (high), aggressive
//    eviction (critical), emergency cleanup (emergency).
//
// Thread-safe (one platform::Mutex). Costs O(window) per forecast.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string_view>

#include "core/platform/mutex.h"
#include "core/result.h"

namespace segsim {

enum class PressureTrend : std::uint8_t { Decreasing, Stable, Increasing, Critical };
enum class PressureLevel : std::uint8_t { Normal, Warning, High, Critical, Emergency };
enum class PressureAction : std::uint8_t { None, Monitor, GentleEviction, AggressiveEviction, EmergencyCleanup };
std::string_view pressure_trend_name(PressureTrend trend) noexcept;
std::string_view pressure_level_name(PressureLevel level) noexcept;
std::string_view pressure_action_name(PressureAction action) noexcept;

struct PressureThresholds {
  double warning = 0.70;
  double high = 0.80;
  double critical = 0.90;
  double emergency = 0.95;
};

struct PressureForecasterConfig {
  PressureThresholds thresholds;
  std::size_t window_samples = 30;          // the regression window, >= 2
  std::size_t full_confidence_samples = 10; // confidence is scaled by min(1, n / this)
  double stable_band = 0.005;               // per sample, as a ratio of the limit
  double increasing_max = 0.02;             // per sample; above: critical trend
  double min_confidence = 0.5;              // a forecast below this does not raise the action
  std::int64_t action_horizon_ns = 60'000'000'000;
};

struct PressureSample {
  std::int64_t time_ns = 0;
  std::size_t used_bytes = 0;
  std::size_t limit_bytes = 0;
};

struct PressureForecast {
  std::size_t samples = 0;           // in the window
  std::int64_t time_ns = 0;          // of the newest sample
  double current_ratio = 0;          // used / limit of the newest sample
  double predicted_30s = 0;
  double predicted_60s = 0;
  double predicted_120s = 0;
  double predicted_horizon = 0;      // at +action_horizon_ns
  double confidence = 0;             // in [0, 1]
  double slope_per_s = 0;            // ratio per second
  double slope_per_sample = 0;       // ratio per mean sample interval
  PressureTrend trend = PressureTrend::Stable;
  std::int64_t time_to_critical_ns = -1;  // 0: at or above critical now; -1: not rising
  double allocation_rate_bytes_per_s = 0;
  double release_rate_bytes_per_s = 0;
  PressureLevel level = PressureLevel::Normal;            // now
  PressureLevel predicted_level = PressureLevel::Normal;  // at the horizon (confident forecasts only)
  PressureAction action = PressureAction::None;

  // The ratio the fitted slope gives `horizon_ns` after the newest sample.
  double predict(std::int64_t horizon_ns) const noexcept {
    return current_ratio + slope_per_s * static_cast<double>(horizon_ns) / 1e9;
  }
};

class PressureForecaster {
 public:
  // Validates `config` (InvalidConfig naming the field).
  static Result<std::unique_ptr<PressureForecaster>> create(PressureForecasterConfig config = {});

  Status record(std::size_t used_bytes, std::size_t limit_bytes);  // at platform::now_ns()
  Status record_at(std::int64_t time_ns, std::size_t used_bytes, std::size_t limit_bytes);
  PressureForecast forecast() const;
  void reset();  // forgets every sample

  PressureLevel level_of(double ratio) const noexcept;
  std::size_t sample_count() const;
  const PressureForecasterConfig& config() const noexcept { return config_; }

 private:
  explicit PressureForecaster(PressureForecasterConfig config) : config_(config) {}
  PressureAction action_for(PressureLevel level) const noexcept;

  const PressureForecasterConfig config_;
  mutable platform::Mutex mu_;
  std::deque<PressureSample> window_;
};

}  // namespace segsim
