// Fiber: one simulated thread — a context (sim/context_switch.h) on a
// guard-paged Boost.Context stack. The scheduler resumes a fiber; a fiber returns control
// to the scheduler (suspend) or hands it straight to another fiber of the same
// scheduler (switch_to: one jump instead of two, no hop through the
// scheduler's context). The fibers of one scheduler share a Fiber::Home.
//
// The switch has no sanitizer support of its own, so every switch is
// annotated here: AddressSanitizer's
// __sanitizer_{start,finish}_switch_fiber (so ASan knows which stack is live,
// also for exceptions thrown on a fiber stack) and ThreadSanitizer's
// __tsan_switch_to_fiber (so TSan keeps a separate shadow stack per fiber and
// sees each switch as synchronisation). Without sanitizers they compile away.
// Each fiber (and the scheduler) also has its own C++ exception state: the
// side that switches away saves its own and installs the target's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include <boost/context/stack_context.hpp>

#include "sim/context_switch.h"

namespace segsim::sim {

// The Itanium ABI's per-thread exception globals (__cxa_eh_globals): the
// caught-exception stack and the count std::uncaught_exceptions() reports.
struct EhState {
  void* caught_exceptions = nullptr;
  unsigned int uncaught_exceptions = 0;
};

class Fiber {
 public:
  // What the fibers of one scheduler share: the scheduler's context and
  // state while any of them runs, and who switched last. One per scheduler;
  // it must outlive its fibers and is used on one thread.
  class Home {
   public:
    Home() = default;
    Home(const Home&) = delete;
    Home& operator=(const Home&) = delete;

   private:
    friend class Fiber;
    ContextSp scheduler_ = nullptr;  // the scheduler's context while a fiber runs
    // Whether the last switch came from the scheduler (ASan keeps the
    // scheduler's stack bounds, reported on arrival, for switches back).
    bool from_scheduler_ = false;
    EhState scheduler_eh_;
    EhState* thread_eh_ = nullptr;  // the running thread's exception globals (a TLS call saved per switch)
    // Sanitizer bookkeeping of the scheduler's stack.
    const void* stack_bottom_ = nullptr;
    std::size_t stack_size_ = 0;
    void* tsan_fiber_ = nullptr;
  };

  // The fiber does not run until the first resume() or switch_to() it.
  // `stack_bytes` excludes the guard page.
  Fiber(Home& home, std::size_t stack_bytes, std::function<void()> entry);
  ~Fiber();  // the fiber must have finished
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // On the scheduler: runs this fiber until it — or a fiber it switched to,
  // and so on — suspends or finishes. The scheduler knows which one did.
  void resume();
  // On this fiber: back to the scheduler until something resumes this fiber.
  void suspend();
  // On this fiber: straight to `next` (another unfinished fiber of the same
  // Home) until something resumes this fiber.
  void switch_to(Fiber& next);

  bool started() const noexcept { return started_; }
  bool finished() const noexcept { return finished_; }

 private:
  // The context's entry: runs entry_, then leaves for the scheduler for good.
  [[noreturn]] static void run(void* self) noexcept;
  // After a switch back into this fiber: ends the sanitizer's switch.
  void arrived(void* fake_stack);
  const void* stack_bottom() const noexcept { return static_cast<const char*>(stack_.sp) - stack_.size; }

  Home& home_;
  std::function<void()> entry_;
  ContextSp context_ = nullptr;  // the fiber's context while suspended
  boost::context::stack_context stack_{};
  bool started_ = false;
  bool finished_ = false;
  // The fiber's own C++ exception state, installed while it runs, so a fiber
  // suspended while unwinding does not leak its in-flight exception into the
  // others.
  EhState eh_;
  void* tsan_fiber_ = nullptr;
};

}  // namespace segsim::sim
