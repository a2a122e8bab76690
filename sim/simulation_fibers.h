// Internal to the Simulation (simulation.cpp, simulation_runtime.cpp): what
// the scheduler keeps about each fiber.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "sim/fiber.h"
#include "sim/simulation.h"
#include "sim/trace.h"

namespace segsim::sim {

enum class FiberState : std::uint8_t { Runnable, Blocked, Finished };

struct Simulation::FiberRecord {
  std::uint32_t id = 0;
  std::string name;
  std::unique_ptr<Fiber> fiber;
  FiberState state = FiberState::Runnable;
  TraceOp wait_reason = TraceOp::Block;  // what it blocks in (mutex.lock, condvar.wait, sleep)
  std::uint32_t wait_object = 0;
  std::int64_t wake_at_ns = -1;          // timed wait / sleep deadline, -1 if none
  bool notified = false;                 // woken by a notify (not by time)
};

}  // namespace segsim::sim
