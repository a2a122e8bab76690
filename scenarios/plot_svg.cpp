#include "scenarios/plot_svg.h"
#include "scenarios/plot_pressure.h"
#include "scenarios/xml.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/units.h"

namespace segsim::scenarios {

namespace {

constexpr double kWidth = 900;
constexpr double kHeight = 480;
constexpr double kLeft = 80;    // room for the MiB labels
constexpr double kRight = 24;
constexpr double kTop = 48;     // title
constexpr double kBottom = 64;  // ms labels and the legend
constexpr double kPlotWidth = kWidth - kLeft - kRight;
constexpr double kPlotHeight = kHeight - kTop - kBottom;
constexpr int kTargetTicks = 6;
// More points than pixel columns only bloats the file: past this, each
// column keeps its min and max so spikes survive the thinning.
constexpr std::size_t kColumns = static_cast<std::size_t>(kPlotWidth);
constexpr const char* kVirtualColour = "#1f77b4";
constexpr const char* kResidentColour = "#d62728";


// A 1-2-5 step giving about kTargetTicks ticks over [0, max].
double nice_step(double max) {
  if (!(max > 0)) return 1;
  const double raw = max / kTargetTicks;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (raw <= m * magnitude) return m * magnitude;
  }
  return 10 * magnitude;
}

std::string number(double value) {
  if (value == std::floor(value) && std::abs(value) < 1e15) return fmt::format("{:.0f}", value);
  return fmt::format("{:.3g}", value);
}

struct Point {
  double time_ms;
  double mib;
};

// Thins `points` to at most two per pixel column (the column's min and max,
// in time order).
std::vector<Point> thin(const std::vector<Point>& points, double max_ms) {
  if (points.size() <= 2 * kColumns) return points;
  std::vector<Point> out;
  out.reserve(2 * kColumns);
  std::size_t i = 0;
  while (i < points.size()) {
    const auto column = [&](const Point& p) {
      return std::min(kColumns - 1, static_cast<std::size_t>(p.time_ms / max_ms * static_cast<double>(kColumns)));
    };
    const std::size_t c = column(points[i]);
    std::size_t lo = i, hi = i, j = i;
    for (; j < points.size() && column(points[j]) == c; ++j) {
      if (points[j].mib < points[lo].mib) lo = j;
      if (points[j].mib > points[hi].mib) hi = j;
    }
    out.push_back(points[std::min(lo, hi)]);
    if (lo != hi) out.push_back(points[std::max(lo, hi)]);
    i = j;
  }
  return out;
}

// The axes' ranges: from zero, ending on a tick; an empty or single-instant
// run still gets a drawable (non-zero) range.
struct Scale {
  double x_step = 1, y_step = 1;
  double x_max = 1, y_max = 1;  // ms, MiB
  double x_of(double ms) const { return kLeft + ms / x_max * kPlotWidth; }
  double y_of(double mib) const { return kTop + kPlotHeight - mib / y_max * kPlotHeight; }
};

Scale scale_for(const RunReport& report) {
  double max_ms = 0;
  double max_mib = 0;
  for (const MemorySample& s : report.memory) {
    max_ms = std::max(max_ms, static_cast<double>(s.time_ns) / 1e6);
    max_mib = std::max({max_mib, to_mib(s.virtual_bytes),
                        to_mib(s.resident_bytes)});
  }
  pressure_extent(report, max_ms, max_mib);  // issue 15: the pressure loop's series
  Scale scale;
  scale.x_step = nice_step(max_ms > 0 ? max_ms : 1);
  scale.y_step = nice_step(max_mib > 0 ? max_mib : 1);
  scale.x_max = std::max(1.0, std::ceil((max_ms > 0 ? max_ms : 1) / scale.x_step)) * scale.x_step;
  scale.y_max = std::max(1.0, std::ceil((max_mib > 0 ? max_mib : 1) / scale.y_step)) * scale.y_step;
  return scale;
}

// The canvas, the title, the grid with its ticks and labels, the axes.
std::string frame_svg(const RunReport& report, const Scale& scale) {
  const double x_max = scale.x_max, y_max = scale.y_max, x_step = scale.x_step, y_step = scale.y_step;
  const auto x_of = [&](double ms) { return scale.x_of(ms); };
  const auto y_of = [&](double mib) { return scale.y_of(mib); };
  std::string out;
  out += fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n",
      kWidth, kHeight);
  out += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"white\"/>\n", kWidth, kHeight);
  std::string title = fmt::format("{} seed {}: virtual and resident memory", report.spec.scenario,
                                  report.spec.seed);
  if (!report.passed && report.failure) title += fmt::format(" (failed: {})", report.failure->oracle);
  out += fmt::format("<text x=\"{}\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">{}</text>\n",
                     kWidth / 2, xml_escape(title, /*attribute=*/false));

  // Grid, ticks and labels.
  for (double v = 0; v <= y_max + y_step / 2; v += y_step) {
    const double y = y_of(v);
    out += fmt::format("<line x1=\"{}\" y1=\"{:.2f}\" x2=\"{}\" y2=\"{:.2f}\" stroke=\"#e0e0e0\"/>\n", kLeft, y,
                       kLeft + kPlotWidth, y);
    out += fmt::format("<text x=\"{}\" y=\"{:.2f}\" text-anchor=\"end\">{}</text>\n", kLeft - 6, y + 4,
                       number(v));
  }
  for (double t = 0; t <= x_max + x_step / 2; t += x_step) {
    const double x = x_of(t);
    out += fmt::format("<line x1=\"{:.2f}\" y1=\"{}\" x2=\"{:.2f}\" y2=\"{}\" stroke=\"#e0e0e0\"/>\n", x, kTop,
                       x, kTop + kPlotHeight);
    out += fmt::format("<text x=\"{:.2f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", x,
                       kTop + kPlotHeight + 16, number(t));
  }
  out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"black\"/>\n", kLeft, kTop,
                     kTop + kPlotHeight);
  out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"black\"/>\n", kLeft,
                     kTop + kPlotHeight, kLeft + kPlotWidth);
  out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">simulated time (ms)</text>\n",
                     kLeft + kPlotWidth / 2, kTop + kPlotHeight + 34);
  out += fmt::format("<text x=\"18\" y=\"{0}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {0})\">"
                     "memory (MiB)</text>\n",
                     kTop + kPlotHeight / 2);

  return out;
}

// The virtual and resident series, or a note that there are no samples.
std::string series_svg(const std::vector<MemorySample>& samples, const Scale& scale) {
  if (samples.empty()) {
    return fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#808080\">no memory samples "
                       "(run with memory sampling on)</text>\n",
                       kLeft + kPlotWidth / 2, kTop + kPlotHeight / 2);
  }
  const double x_max = scale.x_max;
  const auto x_of = [&](double ms) { return scale.x_of(ms); };
  const auto y_of = [&](double mib) { return scale.y_of(mib); };
  const auto series = [&](bool resident, const char* colour, const char* name) {
    std::vector<Point> points;
    points.reserve(samples.size());
    for (const MemorySample& s : samples) {
      points.push_back(Point{static_cast<double>(s.time_ns) / 1e6,
                             to_mib(resident ? s.resident_bytes : s.virtual_bytes)});
    }
    points = thin(points, x_max);
    std::string polyline = fmt::format("<polyline class=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" points=\"",
                                       name, colour);
    for (std::size_t i = 0; i < points.size(); ++i) {
      polyline += fmt::format("{}{:.2f},{:.2f}", i == 0 ? "" : " ", x_of(points[i].time_ms), y_of(points[i].mib));
    }
    polyline += "\"/>\n";
    // A single sample is a zero-length line: mark it so it shows.
    if (points.size() == 1) {
      polyline += fmt::format("<circle cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"3\" fill=\"{}\"/>\n",
                              x_of(points[0].time_ms), y_of(points[0].mib), colour);
    }
    return polyline;
  };
  return series(false, kVirtualColour, "virtual") + series(true, kResidentColour, "resident");
}

std::string legend_svg(const RunReport& report) {
  std::string out;
  // Below the x-axis label.
  const double legend_y = kHeight - 12;
  const double legend_x = kLeft;
  out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"3\"/>\n", legend_x,
                     legend_y - 4, legend_x + 24, legend_y - 4, kVirtualColour);
  out += fmt::format("<text x=\"{}\" y=\"{}\">virtual bytes (peak {:.1f} MiB)</text>\n", legend_x + 30, legend_y,
                     to_mib(report.peak_virtual_bytes));
  out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"3\"/>\n",
                     legend_x + 300, legend_y - 4, legend_x + 324, legend_y - 4, kResidentColour);
  out += fmt::format("<text x=\"{}\" y=\"{}\">resident bytes (peak {:.1f} MiB)</text>\n", legend_x + 330,
                     legend_y, to_mib(report.peak_resident_bytes));
  return out;
}

}  // namespace

std::string memory_plot_svg(const RunReport& report) {
  const Scale scale = scale_for(report);
  std::string out = frame_svg(report, scale);
  out += series_svg(report.memory, scale);
  out += pressure_overlay_svg(report, PlotAxes{kLeft, kTop, kPlotWidth, kPlotHeight, scale.x_max, scale.y_max});
  out += legend_svg(report);
  out += "</svg>\n";
  return out;
}

}  // namespace segsim::scenarios
