#include "scenarios/plot_pressure.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/units.h"

namespace segsim::scenarios {

namespace {

constexpr double kHorizonMs = 60'000;
constexpr double kForecastCapOfLimit = 1.5;  // forecasts far above the limit are drawn at 150 %
constexpr const char* kUsedColour = "#2ca02c";
constexpr const char* kForecastColour = "#ff7f0e";

const char* action_colour(const std::string& action) {
  if (action == "gentle-eviction") return "#f2c80f";
  if (action == "aggressive-eviction") return "#ff7f0e";
  if (action == "emergency-cleanup") return "#d62728";
  return nullptr;  // none / monitor: no mark
}

double forecast_mib(const PressurePoint& p) {
  const double ratio = std::clamp(p.forecast_60s_ratio, 0.0, kForecastCapOfLimit);
  return ratio * to_mib(p.limit_bytes);
}

}  // namespace

void pressure_extent(const RunReport& report, double& max_ms, double& max_mib) {
  for (const PressurePoint& p : report.pressure) {
    max_ms = std::max(max_ms, static_cast<double>(p.time_ns) / 1e6);
    max_mib = std::max({max_mib, to_mib(p.used_bytes), to_mib(p.limit_bytes),
                        forecast_mib(p)});
  }
}

std::string pressure_overlay_svg(const RunReport& report, const PlotAxes& a) {
  if (report.pressure.empty()) return {};
  const auto x_of = [&](double ms) { return a.left + ms / a.x_max_ms * a.width; };
  const auto y_of = [&](double mib) { return a.top + a.height - mib / a.y_max_mib * a.height; };
  std::string out;
  // The limit.
  const double limit_mib = to_mib(report.pressure.back().limit_bytes);
  out += fmt::format("<line class=\"limit\" x1=\"{}\" y1=\"{:.2f}\" x2=\"{}\" y2=\"{:.2f}\" stroke=\"black\" "
                     "stroke-dasharray=\"6 4\"/>\n",
                     a.left, y_of(limit_mib), a.left + a.width, y_of(limit_mib));
  // Used bytes at each tick, and the +60 s forecast drawn where it was aimed.
  std::string used = fmt::format("<polyline class=\"pressure-used\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" points=\"", kUsedColour);
  std::string forecast = fmt::format("<polyline class=\"forecast-60s\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.2\" "
                                     "stroke-dasharray=\"4 3\" points=\"", kForecastColour);
  bool first_forecast = true;
  for (std::size_t i = 0; i < report.pressure.size(); ++i) {
    const PressurePoint& p = report.pressure[i];
    const double ms = static_cast<double>(p.time_ns) / 1e6;
    used += fmt::format("{}{:.2f},{:.2f}", i == 0 ? "" : " ", x_of(ms), y_of(to_mib(p.used_bytes)));
    if (ms + kHorizonMs <= a.x_max_ms) {
      forecast += fmt::format("{}{:.2f},{:.2f}", first_forecast ? "" : " ", x_of(ms + kHorizonMs), y_of(forecast_mib(p)));
      first_forecast = false;
    }
  }
  out += used + "\"/>\n" + forecast + "\"/>\n";
  // Actions taken: a mark per tick along the bottom of the plot.
  for (const PressurePoint& p : report.pressure) {
    const char* colour = action_colour(p.action);
    if (colour == nullptr) continue;
    out += fmt::format("<rect class=\"action {}\" x=\"{:.2f}\" y=\"{:.2f}\" width=\"2\" height=\"10\" fill=\"{}\"/>\n",
                       p.action, x_of(static_cast<double>(p.time_ns) / 1e6) - 1, a.top + a.height - 10, colour);
  }
  // Legend line under the title.
  const double y = a.top - 8;
  double x = a.left;
  auto entry = [&](const char* colour, const char* dash, const std::string& text, double width) {
    out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"3\"{}/>\n", x, y - 4,
                       x + 18, y - 4, colour, dash);
    out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\">{}</text>\n", x + 22, y, text);
    x += width;
  };
  entry(kUsedColour, "", "used (segments + large objects)", 200);
  entry(kForecastColour, " stroke-dasharray=\"4 3\"", "forecast for +60 s", 130);
  entry("black", " stroke-dasharray=\"6 4\"", fmt::format("limit {:.0f} MiB", limit_mib), 110);
  entry("#f2c80f", "", "gentle", 70);
  entry("#ff7f0e", "", "aggressive", 90);
  entry("#d62728", "", "emergency", 90);
  return out;
}

}  // namespace segsim::scenarios
