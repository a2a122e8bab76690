#include "core/pressure_forecaster.h"

#include <algorithm>
#include <cmath>

#include "core/assert.h"
#include "core/mutants.h"
#include "core/platform/clock.h"
#include "core/probe.h"

namespace segsim {

std::string_view pressure_trend_name(PressureTrend trend) noexcept {
  switch (trend) {
    case PressureTrend::Decreasing: return "decreasing";
    case PressureTrend::Stable: return "stable";
    case PressureTrend::Increasing: return "increasing";
    case PressureTrend::Critical: return "critical";
  }
  return "unknown";
}

std::string_view pressure_level_name(PressureLevel level) noexcept {
  switch (level) {
    case PressureLevel::Normal: return "normal";
    case PressureLevel::Warning: return "warning";
    case PressureLevel::High: return "high";
    case PressureLevel::Critical: return "critical";
    case PressureLevel::Emergency: return "emergency";
  }
  return "unknown";
}

std::string_view pressure_action_name(PressureAction action) noexcept {
  switch (action) {
    case PressureAction::None: return "none";
    case PressureAction::Monitor: return "monitor";
    case PressureAction::GentleEviction: return "gentle-eviction";
    case PressureAction::AggressiveEviction: return "aggressive-eviction";
    case PressureAction::EmergencyCleanup: return "emergency-cleanup";
  }
  return "unknown";
}

Result<std::unique_ptr<PressureForecaster>> PressureForecaster::create(PressureForecasterConfig config) {
  auto invalid = [](const char* field) { return make_error(Errc::InvalidConfig, field); };
  const PressureThresholds& t = config.thresholds;
  if (!(0 < t.warning && t.warning < t.high && t.high < t.critical && t.critical < t.emergency && t.emergency <= 1)) {
    return invalid("thresholds must rise strictly: 0 < warning < high < critical < emergency <= 1");
  }
  if (config.window_samples < 2) return invalid("window_samples must be >= 2");
  if (config.full_confidence_samples == 0) return invalid("full_confidence_samples must be > 0");
  if (!(config.stable_band >= 0 && config.stable_band < config.increasing_max)) {
    return invalid("trend bands: 0 <= stable_band < increasing_max");
  }
  if (!(config.min_confidence >= 0 && config.min_confidence <= 1)) return invalid("min_confidence must be in [0, 1]");
  if (config.action_horizon_ns <= 0) return invalid("action_horizon_ns must be > 0");
  return std::unique_ptr<PressureForecaster>(new PressureForecaster(config));
}

Status PressureForecaster::record(std::size_t used_bytes, std::size_t limit_bytes) {
  return record_at(platform::now_ns(), used_bytes, limit_bytes);
}

Status PressureForecaster::record_at(std::int64_t time_ns, std::size_t used_bytes, std::size_t limit_bytes) {
  platform::LockGuard guard(mu_);
  if (!window_.empty() && time_ns < window_.back().time_ns) {
    SEGSIM_PROBE("pressure.sample.time_backwards");
    return make_error(Errc::InvalidConfig, "sample time is before the last sample's");
  }
  window_.push_back(PressureSample{time_ns, used_bytes, limit_bytes});
  while (window_.size() > config_.window_samples) window_.pop_front();
  SEGSIM_ASSERT(!window_.empty() && window_.size() <= config_.window_samples, "the sample window past its bound");
  return {};
}

void PressureForecaster::reset() {
  platform::LockGuard guard(mu_);
  window_.clear();
}

std::size_t PressureForecaster::sample_count() const {
  platform::LockGuard guard(mu_);
  return window_.size();
}

PressureLevel PressureForecaster::level_of(double ratio) const noexcept {
  const PressureThresholds& t = config_.thresholds;
  if (ratio >= t.emergency) return PressureLevel::Emergency;
  if (ratio >= t.critical) return PressureLevel::Critical;
  if (ratio >= t.high) return PressureLevel::High;
  if (ratio >= t.warning) return PressureLevel::Warning;
  return PressureLevel::Normal;
}

PressureAction PressureForecaster::action_for(PressureLevel level) const noexcept {
  switch (level) {
    case PressureLevel::Normal: return PressureAction::None;
    case PressureLevel::Warning: return PressureAction::Monitor;
    case PressureLevel::High: return PressureAction::GentleEviction;
    case PressureLevel::Critical: return PressureAction::AggressiveEviction;
    case PressureLevel::Emergency: return PressureAction::EmergencyCleanup;
  }
  return PressureAction::None;
}

namespace {

double ratio_of(const PressureSample& s) {
  if (s.limit_bytes == 0) {
    SEGSIM_PROBE("pressure.forecast.zero_limit");
    return 0;
  }
  return static_cast<double>(s.used_bytes) / static_cast<double>(s.limit_bytes);
}

struct Fit {
  double slope_per_s = 0;
  double r2 = 0;
  double span_s = 0;
};

// Least squares of ratio over time (seconds since the window's first sample).
Fit fit_line(const std::deque<PressureSample>& window) {
  SEGSIM_ASSERT(window.size() >= 2, "a line fitted to fewer than two samples");
  const double n = static_cast<double>(window.size());
  const std::int64_t t0 = window.front().time_ns;
  double mean_x = 0, mean_y = 0;
  for (const PressureSample& s : window) {
    mean_x += static_cast<double>(s.time_ns - t0) / 1e9;
    mean_y += ratio_of(s);
  }
  mean_x /= n;
  mean_y /= n;
  double sxx = 0, sxy = 0, syy = 0;
  for (const PressureSample& s : window) {
    const double dx = static_cast<double>(s.time_ns - t0) / 1e9 - mean_x;
    const double dy = ratio_of(s) - mean_y;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  Fit fit;
  fit.span_s = static_cast<double>(window.back().time_ns - t0) / 1e9;
  SEGSIM_ASSERT(fit.span_s >= 0 && sxx >= 0 && syy >= 0, "samples out of time order or a negative sum of squares");
  if (!(sxx > 0) && !SEGSIM_MUTANT(ForecastZeroSpan)) {
    SEGSIM_PROBE("pressure.forecast.zero_time_span");
    return fit;  // no time span: no slope, no confidence
  }
  fit.slope_per_s = sxy / sxx;
  fit.r2 = syy > 0 ? std::clamp(sxy * sxy / (sxx * syy), 0.0, 1.0) : 1.0;  // flat usage is perfectly predicted
  return fit;
}

}  // namespace

PressureForecast PressureForecaster::forecast() const {
  platform::LockGuard guard(mu_);
  PressureForecast f;
  f.samples = window_.size();
  if (window_.empty()) return f;
  const PressureSample& last = window_.back();
  f.time_ns = last.time_ns;
  f.current_ratio = ratio_of(last);
  Fit fit;
  if (window_.size() < 2) {
    SEGSIM_PROBE("pressure.forecast.too_few_samples");
  } else {
    fit = fit_line(window_);
    const double n = static_cast<double>(window_.size());
    f.confidence = fit.r2 * std::min(1.0, n / static_cast<double>(config_.full_confidence_samples));
    f.slope_per_s = fit.slope_per_s;
    f.slope_per_sample = fit.slope_per_s * fit.span_s / (n - 1);
    double grown = 0, shrunk = 0;
    for (std::size_t i = 1; i < window_.size(); ++i) {
      const double delta = static_cast<double>(window_[i].used_bytes) - static_cast<double>(window_[i - 1].used_bytes);
      (delta > 0 ? grown : shrunk) += std::abs(delta);
    }
    if (fit.span_s > 0) {
      f.allocation_rate_bytes_per_s = grown / fit.span_s;
      f.release_rate_bytes_per_s = shrunk / fit.span_s;
    }
  }
  f.predicted_30s = f.predict(30'000'000'000);
  f.predicted_60s = f.predict(60'000'000'000);
  f.predicted_120s = f.predict(120'000'000'000);
  f.predicted_horizon = f.predict(config_.action_horizon_ns);
  if (f.slope_per_sample < -config_.stable_band) {
    f.trend = PressureTrend::Decreasing;
  } else if (f.slope_per_sample <= config_.stable_band) {
    f.trend = PressureTrend::Stable;
  } else if (f.slope_per_sample <= config_.increasing_max) {
    f.trend = PressureTrend::Increasing;
  } else {
    f.trend = PressureTrend::Critical;
  }
  const double critical = config_.thresholds.critical;
  if (f.current_ratio >= critical) {
    f.time_to_critical_ns = 0;
  } else if (f.slope_per_s > 0) {
    f.time_to_critical_ns = static_cast<std::int64_t>(std::min((critical - f.current_ratio) / f.slope_per_s, 1e9) * 1e9);
  }
  SEGSIM_ASSERT(f.time_to_critical_ns >= -1, "a time to critical below -1 (not rising)");
  f.level = level_of(f.current_ratio);
  f.predicted_level = f.confidence >= config_.min_confidence ? level_of(f.predicted_horizon) : f.level;
  f.action = action_for(std::max(f.level, f.predicted_level));
  return f;
}

}  // namespace segsim
