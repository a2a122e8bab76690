// platform (platform.h): the judges of the platform seam's answers.
#include "scenarios/oracles/platform.h"

#include <fmt/format.h>

namespace segsim::scenarios::platform_judge {

std::optional<std::string> atomic(AtomicCall call, std::uint64_t returned, std::uint64_t model_before) {
  if (returned == model_before) return std::nullopt;
  static constexpr const char* kNames[] = {"fetch_add", "fetch_sub", "exchange", "load"};
  return fmt::format("Atomic::{} returned {}; the value before was {}", kNames[static_cast<int>(call)], returned,
                     model_before);
}

std::optional<std::string> try_lock(bool locked, bool model_held) {
  if (locked != model_held) return std::nullopt;
  return locked ? std::string("Mutex::try_lock took a mutex another fiber holds")
                : std::string("Mutex::try_lock failed on a free mutex");
}

std::optional<std::string> timed_wait(bool notified, std::uint64_t notifies_since_start, std::int64_t waited_ns,
                                      std::int64_t timeout_ns) {
  if (notified && notifies_since_start == 0) return std::string("CondVar::wait_for_ns woke as notified; nobody notified");
  if (!notified && waited_ns < timeout_ns) {
    return fmt::format("CondVar::wait_for_ns timed out after {} ns of a {} ns timeout", waited_ns, timeout_ns);
  }
  return std::nullopt;
}

std::optional<std::string> executor(std::size_t in_flight, std::size_t capacity, std::uint64_t unended,
                                    std::uint64_t tasks_failed, bool idle) {
  if (unended > capacity) {
    return fmt::format("AsyncExecutor accepted {} tasks not yet ended past its capacity of {}", unended, capacity);
  }
  if (in_flight < unended || in_flight > capacity || (idle && in_flight != 0)) {
    return fmt::format("AsyncExecutor::in_flight() is {}{}; {} tasks are not yet ended, capacity {}", in_flight,
                       idle ? " when idle" : "", unended, capacity);
  }
  if (tasks_failed != 0) return fmt::format("AsyncExecutor counts {} failed tasks under a simulation", tasks_failed);
  return std::nullopt;
}

}  // namespace segsim::scenarios::platform_judge
