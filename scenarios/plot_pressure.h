// The pressure loop's part of the --plot SVG (issue 15): used bytes, the
// +60 s forecast drawn at the time it was for, the limit, and the actions
// taken as coloured marks along the time axis. Internal to plot_svg.cpp.
#pragma once

#include <cstdint>
#include <string>

#include "core/units.h"
#include "scenarios/run.h"

namespace segsim::scenarios {

// The plot's memory axis: bytes as (fractional) MiB.
constexpr double to_mib(std::uint64_t bytes) { return static_cast<double>(bytes) / static_cast<double>(MiB); }

struct PlotAxes {
  double left, top, width, height;  // the plot area, pixels
  double x_max_ms, y_max_mib;
};

// Widens the extent (ms, MiB) to hold the pressure series.
void pressure_extent(const RunReport& report, double& max_ms, double& max_mib);
// Polylines, marks and a legend line; empty without pressure ticks.
std::string pressure_overlay_svg(const RunReport& report, const PlotAxes& axes);

}  // namespace segsim::scenarios
