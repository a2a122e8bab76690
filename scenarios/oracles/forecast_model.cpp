// forecast_model.h: the reference forecast, from the documented definitions.
#include "scenarios/oracles/forecast_model.h"

#include <algorithm>

namespace segsim::scenarios {

namespace {

constexpr double kNsPerSecond = 1e9;

double sample_ratio(const PressureSample& s) {
  return s.limit_bytes == 0 ? 0.0 : static_cast<double>(s.used_bytes) / static_cast<double>(s.limit_bytes);
}

}  // namespace

bool ForecastModel::record_at(std::int64_t time_ns, std::size_t used_bytes, std::size_t limit_bytes) {
  if (!window_.empty() && time_ns < window_.back().time_ns) return false;
  window_.push_back(PressureSample{time_ns, used_bytes, limit_bytes});
  if (window_.size() > config_.window_samples) window_.pop_front();
  return true;
}

PressureLevel ForecastModel::level_of(double r) const noexcept {
  const PressureThresholds& t = config_.thresholds;
  if (r >= t.emergency) return PressureLevel::Emergency;
  if (r >= t.critical) return PressureLevel::Critical;
  if (r >= t.high) return PressureLevel::High;
  if (r >= t.warning) return PressureLevel::Warning;
  return PressureLevel::Normal;
}

PressureAction action_for_level(PressureLevel level) noexcept {
  // Graduated: none (normal), monitor (warning), gentle (high), aggressive (critical), emergency cleanup.
  constexpr PressureAction kActionOf[] = {PressureAction::None, PressureAction::Monitor, PressureAction::GentleEviction,
                                          PressureAction::AggressiveEviction, PressureAction::EmergencyCleanup};
  return kActionOf[static_cast<std::size_t>(level)];
}

PressureTrend ForecastModel::trend_of(double slope_per_sample) const noexcept {
  // The header's bands as a table, read from the top: above increasing_max a
  // critical rise, above stable_band a rise, at least -stable_band stable
  // (the band is closed), below it a fall.
  struct Band {
    double floor;
    bool floor_included;
    PressureTrend trend;
  };
  const Band bands[] = {{config_.increasing_max, false, PressureTrend::Critical},
                        {config_.stable_band, false, PressureTrend::Increasing},
                        {-config_.stable_band, true, PressureTrend::Stable}};
  for (const Band& band : bands) {
    if (slope_per_sample > band.floor || (band.floor_included && slope_per_sample == band.floor)) return band.trend;
  }
  return PressureTrend::Decreasing;
}

std::int64_t ForecastModel::time_to_critical_ns(const PressureForecast& f) const noexcept {
  // "0: at or above critical now; -1: not rising"; otherwise when the fitted
  // line reaches the critical threshold, at most 10^9 s. Stated through the
  // line itself: where it stands at that cap decides whether it gets there,
  // and a straight line covers the headroom in proportion to the cap.
  const double critical = config_.thresholds.critical;
  if (f.current_ratio >= critical) return 0;
  if (!(f.slope_per_s > 0)) return -1;
  constexpr double kCapNs = 1e18;
  const double rise_at_cap = f.slope_per_s * (kCapNs / kNsPerSecond);
  const double headroom = critical - f.current_ratio;
  if (rise_at_cap <= headroom) return static_cast<std::int64_t>(kCapNs);
  return static_cast<std::int64_t>(kCapNs * (headroom / rise_at_cap));
}

PressureForecast ForecastModel::forecast() const {
  PressureForecast f;
  f.samples = window_.size();
  if (window_.empty()) return f;
  f.time_ns = window_.back().time_ns;
  f.current_ratio = sample_ratio(window_.back());
  const std::size_t n = window_.size();
  if (n >= 2) {
    // Two passes (means, then centred sums): the textbook least squares.
    const std::int64_t first_ns = window_.front().time_ns;
    double sum_x = 0, sum_y = 0;
    for (const PressureSample& s : window_) {
      sum_x += static_cast<double>(s.time_ns - first_ns) / kNsPerSecond;
      sum_y += sample_ratio(s);
    }
    const double mean_x = sum_x / static_cast<double>(n), mean_y = sum_y / static_cast<double>(n);
    double sxx = 0, sxy = 0, syy = 0;
    for (const PressureSample& s : window_) {
      const double dx = static_cast<double>(s.time_ns - first_ns) / kNsPerSecond - mean_x;
      const double dy = sample_ratio(s) - mean_y;
      sxx += dx * dx;
      sxy += dx * dy;
      syy += dy * dy;
    }
    const double span_s = static_cast<double>(window_.back().time_ns - first_ns) / kNsPerSecond;
    if (sxx > 0) {
      f.slope_per_s = sxy / sxx;
      const double r2 = syy > 0 ? std::clamp(sxy * sxy / (sxx * syy), 0.0, 1.0) : 1.0;
      f.confidence = r2 * std::min(1.0, static_cast<double>(n) / static_cast<double>(config_.full_confidence_samples));
    }
    f.slope_per_sample = f.slope_per_s * span_s / static_cast<double>(n - 1);
    double grown_bytes = 0, shrunk_bytes = 0;
    for (std::size_t i = 1; i < n; ++i) {
      const std::size_t before = window_[i - 1].used_bytes, after = window_[i].used_bytes;
      if (after > before) grown_bytes += static_cast<double>(after - before);
      if (after < before) shrunk_bytes += static_cast<double>(before - after);
    }
    if (span_s > 0) {
      f.allocation_rate_bytes_per_s = grown_bytes / span_s;
      f.release_rate_bytes_per_s = shrunk_bytes / span_s;
    }
  }
  f.predicted_30s = f.predict(30 * 1'000'000'000LL);
  f.predicted_60s = f.predict(60 * 1'000'000'000LL);
  f.predicted_120s = f.predict(120 * 1'000'000'000LL);
  f.predicted_horizon = f.predict(config_.action_horizon_ns);
  f.trend = trend_of(f.slope_per_sample);
  f.time_to_critical_ns = time_to_critical_ns(f);
  f.level = level_of(f.current_ratio);
  f.predicted_level = f.confidence >= config_.min_confidence ? level_of(f.predicted_horizon) : f.level;
  f.action = action_for_level(std::max(f.level, f.predicted_level));
  return f;
}

}  // namespace segsim::scenarios
