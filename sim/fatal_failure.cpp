// Failures that end the process instead of the run (fatal_failure.h).
#include "sim/fatal_failure.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <typeinfo>

#include <fmt/format.h>

#include "core/assert.h"
#include "sim/simulation.h"

namespace segsim::sim {

namespace {

std::atomic<FatalFailureReporter> g_reporter{nullptr};
std::atomic<bool> g_reported{false};
std::terminate_handler g_previous_terminate = nullptr;
// This thread's last simulation, when it has ended (a run's teardown).
constinit thread_local bool tls_simulation_ended = false;
constinit thread_local std::uint64_t tls_ended_after_steps = 0;

// The first fatal failure only: a second one (a destructor tripping over the
// state the first left) is a consequence, not the finding.
void report(const FatalFailure& failure) {
  if (g_reported.exchange(true)) return;
  std::fprintf(stderr, "segsim: %s\n", failure.describe().c_str());
  std::fflush(stderr);
  if (FatalFailureReporter reporter = g_reporter.load()) reporter(failure);
}

// "fiber #2 'client-1' ", or "" off any fiber: the prefix the fiber wrapper
// (simulation.cpp) gives a fiber's failure.
std::string fiber_prefix(const Simulation& simulation) {
  const std::uint32_t fiber = simulation.current_fiber();
  if (fiber == kNoFiber) return {};
  return fmt::format("fiber #{} '{}' ", fiber, simulation.fiber_name(fiber));
}

void simulation_assert_hook(const char* condition, const char* message, const char* file, int line) {
  const std::string text = fmt::format("assertion failed: {} ({}) at {}:{}", condition, message, file, line);
  Simulation* simulation = Simulation::current();
  const bool on_fiber = simulation != nullptr && simulation->current_fiber() != kNoFiber;
  if (on_fiber && std::uncaught_exceptions() == 0) {
    throw detail::SimAssertionFailed(text, simulation->current_fiber(), simulation->step(),
                                     fiber_prefix(*simulation) + text);
  }
  // core/assert.cpp aborts when this returns: say what fired first.
  FatalFailure failure{.oracle = "assertion", .message = text};
  if (simulation != nullptr) {
    failure.message = fiber_prefix(*simulation) + text;
    failure.fiber = simulation->current_fiber();
    failure.step = simulation->step();
    failure.where = on_fiber ? "it fired while its fiber unwound an exception, where it cannot throw"
                             : "it fired in the scheduler, outside any fiber";
  } else if (tls_simulation_ended) {
    failure.step = tls_ended_after_steps;
    failure.where = "it fired after the simulation ended (the run's teardown), outside any fiber";
  } else if (g_reporter.load() != nullptr) {
    failure.where = "it fired outside any simulation";
  } else {
    return;  // no simulation, nobody listening: core/assert.cpp's own line says it all
  }
  report(failure);
}

// An exception met a frame that cannot throw. When it is an assertion (or,
// under a simulation, any exception a fiber threw), it is named before the
// previous handler prints the exception and aborts.
[[noreturn]] void on_terminate() {
  if (std::exception_ptr error = std::current_exception()) {
    FatalFailure failure;
    const Simulation* simulation = Simulation::current();
    try {
      std::rethrow_exception(error);
    } catch (const detail::SimAssertionFailed& e) {
      failure = {.oracle = "assertion", .message = e.run_message(), .fiber = e.fiber(), .step = e.step()};
    } catch (const std::exception& e) {
      if (simulation != nullptr) {
        failure = {.oracle = "exception",
                   .message = fiber_prefix(*simulation) + fmt::format("threw {}: {}", typeid(e).name(), e.what()),
                   .fiber = simulation->current_fiber(),
                   .step = simulation->step()};
      }
    } catch (...) {
      // FiberCancelled or a foreign exception: nothing to name.
    }
    if (!failure.oracle.empty()) {
      failure.where = "it was thrown through a frame that cannot throw (a destructor or a noexcept function)";
      report(failure);
    }
  }
  if (g_previous_terminate != nullptr) g_previous_terminate();
  std::abort();
}

}  // namespace

std::string FatalFailure::describe() const {
  std::string text = fmt::format("{}: {}", oracle, message);
  if (step > 0) {
    text += fmt::format(" (step {}; the process aborted: {})", step, where);
  } else {
    text += fmt::format(" (the process aborted: {})", where);
  }
  return text;
}

void report_fatal_failure(const FatalFailure& failure) { report(failure); }

std::string current_fiber_prefix() {
  const Simulation* simulation = Simulation::current();
  return simulation == nullptr ? std::string() : fiber_prefix(*simulation);
}

void set_fatal_failure_reporter(FatalFailureReporter reporter) {
  install_failure_hooks();
  g_reporter.store(reporter);
}

void install_failure_hooks() {
  static std::once_flag once;
  std::call_once(once, [] {
    segsim::detail::set_assert_hook(&simulation_assert_hook);
    g_previous_terminate = std::set_terminate(&on_terminate);
  });
}

void note_simulation_ended(std::uint64_t steps) noexcept {
  tls_simulation_ended = true;
  tls_ended_after_steps = steps;
}

void forget_ended_simulation() noexcept {
  tls_simulation_ended = false;
  tls_ended_after_steps = 0;
}

}  // namespace segsim::sim
