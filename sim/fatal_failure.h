// Failures that end the process instead of the run, still reported by name.
//
// Under a simulation a SEGSIM_ASSERT on a fiber throws, the fiber's wrapper
// catches it, and the run fails with oracle "assertion". Where the throw
// cannot reach that wrapper the process dies instead:
//  * the assert fires in a frame that cannot throw — a destructor (implicitly
//    noexcept: a page cache Handle's unpin), a noexcept function — so the
//    throw calls std::terminate;
//  * it fires where the simulator does not throw — in the scheduler outside
//    any fiber, while a fiber already unwinds, in a run's teardown after the
//    simulation ended — so core/assert.cpp aborts.
//  * a layer that knows what a fatal signal means names it (SimOs's guard: a
//    SIGSEGV inside its reservation is an access to simulated memory after
//    it was unmapped — use-after-release; one in the null page while a
//    simulation runs is a null pointer followed — null-dereference; a SIGFPE
//    of an integer division while a run is in progress — arithmetic-fault)
//    through report_fatal_failure().
// Either way this says what fired, where (fiber, step when known) and why it
// could not fail the run, first on stderr and then through the reporter a
// harness installed (a sweep worker's result channel), so the death is
// classified as that failure and not as an anonymous SIGABRT or SIGSEGV.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include "sim/trace.h"

namespace segsim::sim {

struct FatalFailure {
  std::string oracle{};                 // "assertion", or "exception" (one that reached a noexcept frame)
  std::string message{};                // as a failed run would say it: "fiber #2 'client-1' assertion failed: …"
  std::uint32_t fiber = kNoFiber;       // the fiber it fired on, if any
  std::uint64_t step = 0;               // the simulation's step; 0 when no simulation was running
  std::string where{};                  // why it could not fail the run
  // "assertion: <message> (step S; the process aborted: <where>)" — starts
  // like the signature of the same failure inside a run.
  std::string describe() const;
};

// Called once per process with the first fatal failure, just before it dies
// (ordinary code, not a signal handler). nullptr: stderr only.
using FatalFailureReporter = void (*)(const FatalFailure& failure);
void set_fatal_failure_reporter(FatalFailureReporter reporter);

// Reports `failure` as above, the first of the process only; the caller then
// lets the process die. From a synchronous fault's signal handler too: the
// fault is an access by the code under test, which holds no lock of ours or
// of the C library, so allocation there is safe in practice (not under TSan,
// which flags any allocation in a handler).
void report_fatal_failure(const FatalFailure& failure);

// "fiber #2 'client-1' ", or "" off any fiber or simulation: how a fiber's
// failure message starts (the prefix the fiber wrapper gives it).
std::string current_fiber_prefix();

// Installs the simulator's assert hook and terminate handler (once per
// process; the Simulation constructor and set_fatal_failure_reporter call it).
void install_failure_hooks();

// The thread's simulation ended after `steps` steps: an assert in the run's
// teardown is reported as after it. Forgotten when the next simulation is
// made, or when a harness starts another run (a sweep worker's next seed).
void note_simulation_ended(std::uint64_t steps) noexcept;
void forget_ended_simulation() noexcept;

namespace detail {

// A SEGSIM_ASSERT on a fiber: thrown by the hook and caught by the fiber's
// wrapper, which fails the run with what(). Carries the fiber and step for
// the terminate handler, in case a noexcept frame stops it first.
class SimAssertionFailed : public std::logic_error {
 public:
  SimAssertionFailed(const std::string& text, std::uint32_t fiber, std::uint64_t step, std::string run_message)
      : std::logic_error(text), fiber_(fiber), step_(step), run_message_(std::move(run_message)) {}
  std::uint32_t fiber() const noexcept { return fiber_; }
  std::uint64_t step() const noexcept { return step_; }
  // what() with the fiber named, as the run's failure message says it.
  const std::string& run_message() const noexcept { return run_message_; }

 private:
  std::uint32_t fiber_;
  std::uint64_t step_;
  std::string run_message_;
};

}  // namespace detail
}  // namespace segsim::sim
