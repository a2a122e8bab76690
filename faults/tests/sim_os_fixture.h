// A SimOs for tests: created over a reservation of the given size, or the test fails.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

#include "core/assert.h"
#include "faults/sim_os.h"

namespace segsim::faults::testing {

inline std::unique_ptr<SimOs> make_test_sim_os(std::size_t reservation_bytes, SimOsConfig config = {}) {
  config.reservation_bytes = reservation_bytes;
  auto created = SimOs::create(config);
  SEGSIM_ASSERT(created.ok(), "SimOs reservation");
  return std::move(created.value());
}

}  // namespace segsim::faults::testing
