// Runs a test body as the one fiber of a simulation, as the sweeps run the
// oracles' models (platform calls go to the simulated runtime).
#pragma once

#include <functional>

#include <gtest/gtest.h>

#include "sim/simulation.h"

namespace segsim::scenarios {

// Runs `body` as the one fiber of a fresh simulation; it must end without a failure.
inline void on_a_fiber(const std::function<void()>& body) {
  sim::Simulation simulation(sim::SimulationConfig{});
  simulation.spawn("calls", body);
  const sim::RunResult result = simulation.run();
  EXPECT_TRUE(result.passed()) << result.message;
}

}  // namespace segsim::scenarios
