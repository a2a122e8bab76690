// Where the simulation is now, for oracles that stamp what they record:
// the running fiber and step (kNoFiber and 0 outside a simulation, e.g. at
// quiescence).
#pragma once

#include <cstdint>

#include "sim/simulation.h"

namespace segsim::scenarios {

inline std::uint32_t fiber_now() {
  sim::Simulation* simulation = sim::Simulation::current();
  return simulation == nullptr ? sim::kNoFiber : simulation->current_fiber();
}

inline std::uint64_t step_now() {
  sim::Simulation* simulation = sim::Simulation::current();
  return simulation == nullptr ? 0 : simulation->step();
}

}  // namespace segsim::scenarios
