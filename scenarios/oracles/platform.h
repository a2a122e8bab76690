// platform: the platform seam's primitives (core/platform/) answer as their
// contracts say, checked call by call against a model the calling fibers keep
// (fibers switch only at scheduling points, which come before each operation,
// so the model is updated in step with the primitive):
//   * Atomic: fetch_add / fetch_sub / exchange return the value before, and
//     load reads what the model holds;
//   * Mutex::try_lock succeeds exactly when no fiber holds the mutex;
//   * CondVar::wait_for_ns returns true only after a notify since the wait
//     began, false only once its timeout has passed in virtual time;
//   * AsyncExecutor never holds more than its capacity of tasks not yet
//     ended, in_flight() lies between those and the capacity, both are 0 once
//     idle with nobody spawning, and it counts no failed task under a
//     simulation (the simulator reports throwing tasks).
// The judges are pure (a unit test shows each fire on a wrong answer); the
// caller fails the run with oracle "platform" on a problem.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace segsim::scenarios::platform_judge {

enum class AtomicCall : std::uint8_t { FetchAdd, FetchSub, Exchange, Load };
std::optional<std::string> atomic(AtomicCall call, std::uint64_t returned, std::uint64_t model_before);
std::optional<std::string> try_lock(bool locked, bool model_held);
std::optional<std::string> timed_wait(bool notified, std::uint64_t notifies_since_start, std::int64_t waited_ns,
                                      std::int64_t timeout_ns);
// `unended`: tasks accepted and not yet destroyed (the executor counts a
// task done just after it is destroyed); `idle`: after wait_idle() with
// nobody spawning, when nothing may be in flight.
std::optional<std::string> executor(std::size_t in_flight, std::size_t capacity, std::uint64_t unended,
                                    std::uint64_t tasks_failed, bool idle);

}  // namespace segsim::scenarios::platform_judge
