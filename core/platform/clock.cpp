#include "core/platform/clock.h"

#include <chrono>
#include <thread>

#include "core/assert.h"
#include "core/platform/runtime.h"

namespace segsim::platform {

std::int64_t now_ns() {
  if (Runtime* rt = current_runtime()) return rt->now_ns();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void sleep_for_ns(std::int64_t duration_ns) {
  SEGSIM_ASSERT(duration_ns >= 0, "negative sleep");
  if (Runtime* rt = current_runtime()) {
    rt->sleep_for_ns(duration_ns);
    return;
  }
  std::this_thread::sleep_for(std::chrono::nanoseconds(duration_ns));
}

void yield() {
  if (Runtime* rt = current_runtime()) {
    rt->yield();
    return;
  }
  std::this_thread::yield();
}

}  // namespace segsim::platform
