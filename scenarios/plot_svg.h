// An SVG plot of the run's virtual and resident bytes over simulated time.
#pragma once

#include <string>

#include "scenarios/run.h"

namespace segsim::scenarios {

std::string memory_plot_svg(const RunReport& report);  // needs sample_memory

}  // namespace segsim::scenarios
