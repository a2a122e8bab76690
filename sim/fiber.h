// Fiber: one simulated thread — a Boost.Context (fcontext) fiber on a
// guard-paged stack, switched only between itself and the scheduler.
//
// Debian's libboost_context is the fcontext build with no sanitizer support,
// so every switch is annotated here: AddressSanitizer's
// __sanitizer_{start,finish}_switch_fiber (so ASan knows which stack is live,
// also for exceptions thrown on a fiber stack) and ThreadSanitizer's
// __tsan_switch_to_fiber (so TSan keeps a separate shadow stack per fiber and
// sees each switch as synchronisation). Without sanitizers they compile away.
// Each fiber also has its own C++ exception state (see eh_* below).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include <boost/context/fiber.hpp>
#include <boost/context/stack_context.hpp>

namespace segsim::sim {

class Fiber {
 public:
  // The fiber does not run until the first resume(). `stack_bytes` excludes the guard page.
  Fiber(std::size_t stack_bytes, std::function<void()> entry);
  ~Fiber();  // the fiber must have finished
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // On the scheduler: runs the fiber until it suspends or finishes.
  void resume();
  // On this fiber: switches back to the scheduler until the next resume().
  void suspend();

  bool started() const noexcept { return started_; }
  bool finished() const noexcept { return finished_; }

 private:
  std::function<void()> entry_;
  boost::context::fiber context_;    // the fiber's continuation while suspended
  boost::context::fiber scheduler_;  // the scheduler's continuation while the fiber runs
  boost::context::stack_context stack_{};
  bool started_ = false;
  bool finished_ = false;
  // The fiber's own C++ exception state (the Itanium ABI's per-thread
  // __cxa_eh_globals: caught-exception stack, uncaught count), swapped in and
  // out around every switch so a fiber suspended while unwinding does not
  // leak its in-flight exception into the others.
  void* eh_caught_exceptions_ = nullptr;
  unsigned int eh_uncaught_exceptions_ = 0;
  // Sanitizer bookkeeping.
  const void* scheduler_stack_bottom_ = nullptr;
  std::size_t scheduler_stack_size_ = 0;
  void* tsan_fiber_ = nullptr;
  void* tsan_scheduler_ = nullptr;
};

}  // namespace segsim::sim
