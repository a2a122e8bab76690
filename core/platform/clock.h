// Time, sleeping and yielding through the platform seam: the steady clock and
// real sleeps in production, virtual time and scheduling points under a
// simulation. Core never reads a clock or sleeps any other way.
#pragma once

#include <cstdint>

namespace segsim::platform {

std::int64_t now_ns();
void sleep_for_ns(std::int64_t duration_ns);
void yield();

}  // namespace segsim::platform
