// The platform seam's rarer primitives called from a scenario's fibers —
// Atomic fetch_add / fetch_sub / exchange, Mutex::try_lock,
// CondVar::wait_for_ns / notify_one, AsyncExecutor::in_flight / tasks_failed —
// so the sweeps reach them, each answer judged by oracles/platform.h. Core
// itself uses only their common siblings; an untested primitive of the seam
// is where a production thread would first meet a bug.
#pragma once

#include <cstdint>
#include <memory>

#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

struct PlatformOps;
// Shared by a scenario's fibers; made before the clients start.
std::shared_ptr<PlatformOps> make_platform_ops();
// One primitive, drawn; `ops` must outlive the run's fibers.
void platform_op(Stack& stack, PlatformOps& ops, sim::Rng& rng);
// At quiescence: waits for the executor's tasks, checks it is idle, shuts it down.
void platform_finish(Stack& stack, PlatformOps& ops);

}  // namespace segsim::scenarios
