// pressure, pressure-model: a forecast is a least-squares line through the
// forecaster's window — the newest window_samples samples recorded since the
// last reset, ratio (used / limit) over seconds since the window's first
// sample. The harness keeps that window from the samples it saw the loop
// record and recomputes what the forecast reports from it: how many samples,
// the newest ratio, the slope, the confidence (r² scaled by
// min(1, n / full_confidence_samples); a window without a time span has
// neither), and the allocation and release rates (the sum of the rises and of
// the falls between neighbouring samples, per second of the span). Floating
// point is compared within a relative 1e-9: the sums may be formed in
// another order.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "scenarios/oracles/pressure.h"

namespace segsim::scenarios {

namespace {

struct ExpectedForecast {
  double ratio = 0, slope_per_s = 0, confidence = 0, allocation_rate = 0, release_rate = 0;
};

double sample_ratio(const PressureSample& s) {
  return s.limit_bytes == 0 ? 0 : static_cast<double>(s.used_bytes) / static_cast<double>(s.limit_bytes);
}

ExpectedForecast expected_forecast(const std::deque<PressureSample>& window, const PressureForecasterConfig& config) {
  ExpectedForecast e;
  e.ratio = sample_ratio(window.back());
  if (window.size() < 2) return e;
  const double n = static_cast<double>(window.size());
  const auto seconds = [&](const PressureSample& s) { return static_cast<double>(s.time_ns - window.front().time_ns) / 1e9; };
  double sum_x = 0, sum_y = 0;
  for (const PressureSample& s : window) {
    sum_x += seconds(s);
    sum_y += sample_ratio(s);
  }
  const double mean_x = sum_x / n, mean_y = sum_y / n;
  double sxx = 0, sxy = 0, syy = 0;
  for (const PressureSample& s : window) {
    sxx += (seconds(s) - mean_x) * (seconds(s) - mean_x);
    sxy += (seconds(s) - mean_x) * (sample_ratio(s) - mean_y);
    syy += (sample_ratio(s) - mean_y) * (sample_ratio(s) - mean_y);
  }
  if (sxx > 0) {
    e.slope_per_s = sxy / sxx;
    const double r2 = syy > 0 ? std::clamp(sxy * sxy / (sxx * syy), 0.0, 1.0) : 1.0;
    e.confidence = r2 * std::min(1.0, n / static_cast<double>(config.full_confidence_samples));
  }
  double grown = 0, shrunk = 0;
  for (std::size_t i = 1; i < window.size(); ++i) {
    const double now = static_cast<double>(window[i].used_bytes), before = static_cast<double>(window[i - 1].used_bytes);
    (now > before ? grown : shrunk) += std::abs(now - before);
  }
  const double span_s = seconds(window.back());
  if (span_s > 0) {
    e.allocation_rate = grown / span_s;
    e.release_rate = shrunk / span_s;
  }
  return e;
}

bool near_equal(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max({1.0, std::abs(a), std::abs(b)}); }

}  // namespace

void ForecastModel::recorded(std::int64_t time_ns, std::size_t used_bytes, std::size_t limit_bytes) {
  window_.push_back(PressureSample{time_ns, used_bytes, limit_bytes});
  while (window_.size() > config_.window_samples) window_.pop_front();
}

void ForecastModel::check(const PressureForecast& f, const char* when) const {
  if (window_.empty()) return;  // nothing recorded yet: the forecaster says so itself
  const ExpectedForecast e = expected_forecast(window_, config_);
  if (f.samples != window_.size() || f.time_ns != window_.back().time_ns || !near_equal(f.current_ratio, e.ratio) ||
      !near_equal(f.slope_per_s, e.slope_per_s) || !near_equal(f.confidence, e.confidence) ||
      !near_equal(f.allocation_rate_bytes_per_s, e.allocation_rate) || !near_equal(f.release_rate_bytes_per_s, e.release_rate)) {
    oracles_.fail("pressure-model",
                  fmt::format("forecast {}: {} samples up to t={} ns, ratio {}, slope {}/s, confidence {}, allocation "
                              "{} B/s, release {} B/s; the model's window of {} samples up to t={} ns says ratio {}, "
                              "slope {}/s, confidence {}, allocation {} B/s, release {} B/s",
                              when, f.samples, f.time_ns, f.current_ratio, f.slope_per_s, f.confidence,
                              f.allocation_rate_bytes_per_s, f.release_rate_bytes_per_s, window_.size(),
                              window_.back().time_ns, e.ratio, e.slope_per_s, e.confidence, e.allocation_rate,
                              e.release_rate));
  }
}

}  // namespace segsim::scenarios
