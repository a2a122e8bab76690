// The platform seam's run-time switch.
//
// Core code synchronises, spawns, sleeps and reads the clock only through
// platform::Mutex, CondVar, Atomic, AsyncExecutor and the functions in clock.h.
// Each of them asks current_runtime(): null (production, real-thread stress
// tests) means "use the std primitive"; non-null means "this thread is running
// inside a simulation" and the operation becomes a scheduling point of that
// simulation. The switch is a thread-local pointer, so the same object code
// serves both worlds; its cost with no simulation active is benchmarked in
// bench/platform_bench.cpp.
//
// Objects are not shared between the two worlds: a Mutex locked natively must
// not be unlocked inside a simulation and vice versa.
#pragma once

#include <cstdint>
#include <functional>

namespace segsim::platform {

// Identity a simulator gives a synchronisation object on first use. `epoch`
// names the simulation run that assigned `id`; a tag from an older run is
// stale and is reassigned. Never read by production code.
struct SimTag {
  std::uint32_t epoch = 0;
  std::uint32_t id = 0;
};

enum class AtomicOp : std::uint8_t { Load, Store, Exchange, CompareExchange, FetchAdd, FetchSub };

using Task = std::function<void()>;

// Implemented by the simulator (sim/). Every method is called on a fiber of
// the simulation that is installed on the calling thread.
class Runtime {
 public:
  virtual ~Runtime() = default;

  virtual void mutex_lock(SimTag& mutex) = 0;
  virtual bool mutex_try_lock(SimTag& mutex) = 0;
  virtual void mutex_unlock(SimTag& mutex) = 0;
  // Atomically unlocks `mutex`, waits for a notify (or, for the timed form,
  // `timeout_ns` of virtual time), then relocks. Timed form: false on timeout.
  virtual void condvar_wait(SimTag& condvar, SimTag& mutex) = 0;
  virtual bool condvar_wait_for(SimTag& condvar, SimTag& mutex, std::int64_t timeout_ns) = 0;
  virtual void condvar_notify(SimTag& condvar, bool all) = 0;
  // A scheduling point before an atomic operation on `atomic`.
  virtual void atomic_access(SimTag& atomic, AtomicOp op) = 0;
  // Runs `task` on a new fiber. False if the simulation refuses (fiber limit).
  virtual bool spawn(Task task) = 0;
  virtual std::int64_t now_ns() = 0;
  virtual void sleep_for_ns(std::int64_t duration_ns) = 0;
  virtual void yield() = 0;
  // The calling simulated thread's identity (its fiber id), stable while it
  // lives: per-thread caches key on it, since a simulation's fibers share one
  // OS thread. Not virtual: every simulated allocator hit asks it, so the
  // runtime keeps thread_key_ current as it switches threads (runtimes
  // without threads of their own leave it 0).
  std::uint32_t thread_key() const noexcept { return thread_key_; }

 protected:
  std::uint32_t thread_key_ = 0;
};

namespace detail {
inline constinit thread_local Runtime* tls_runtime = nullptr;
}  // namespace detail

inline Runtime* current_runtime() noexcept { return detail::tls_runtime; }

// Installs `runtime` on the calling thread for the scope's lifetime.
class RuntimeScope {
 public:
  explicit RuntimeScope(Runtime* runtime) noexcept : previous_(detail::tls_runtime) {
    detail::tls_runtime = runtime;
  }
  ~RuntimeScope() { detail::tls_runtime = previous_; }
  RuntimeScope(const RuntimeScope&) = delete;
  RuntimeScope& operator=(const RuntimeScope&) = delete;

 private:
  Runtime* previous_;
};

}  // namespace segsim::platform
