// The flight recorder's order (core/flight_recorder.h): a Lamport clock
// carried by the platform seam's mutexes. Each thread keeps a counter; a
// mutex acquire raises it past the mutex's, a release stamps the mutex with
// it. Two operations ordered through a mutex (the allocator's class lock
// orders every hand-out and release of a slice) get increasing stamps, with
// no shared counter to contend on. Off (the default), the seam pays one
// relaxed load and a predictable branch per native lock and unlock; under a
// simulation the clock is never touched (the simulator orders everything).
#pragma once

#include <atomic>
#include <cstdint>

namespace segsim::platform::sync_clock {

inline constinit std::atomic<bool> g_on{false};
inline constinit thread_local std::uint64_t tls_clock = 0;

inline bool on() noexcept { return g_on.load(std::memory_order_relaxed); }
// After acquiring the object whose clock is `object_clock` (held: no race).
inline void acquired(const std::uint64_t& object_clock) noexcept {
  tls_clock = (tls_clock > object_clock ? tls_clock : object_clock) + 1;
}
// Before releasing it.
inline void releasing(std::uint64_t& object_clock) noexcept { object_clock = ++tls_clock; }
// A stamp for an event of this thread: after every earlier one of the thread
// and after every release it has acquired since.
inline std::uint64_t tick() noexcept { return ++tls_clock; }
// The clock as it stands, not stepped: after every release this thread has
// acquired and before its next release. Two such reads of one thread with
// no synchronisation between them tie (the flight recorder's compact events).
inline std::uint64_t now() noexcept { return tls_clock; }

}  // namespace segsim::platform::sync_clock
