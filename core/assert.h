// SEGSIM_ASSERT: an always-on invariant check (TigerBeetle style).
//
// Core asserts preconditions and invariants densely; a failed assert is a bug in
// segsim or in its caller, never an expected error, so it aborts with a message
// that names the condition and the place. Expected failures are Result errors.
// Under a simulation the failure hook lets the simulator attribute the failure
// to a fiber and a step before the process dies.
#pragma once

namespace segsim::detail {

// Called by SEGSIM_ASSERT on failure. Never returns: it aborts, unless the
// hook throws (the simulator does, to fail the run instead of the process).
[[noreturn]] void assert_failed(const char* condition, const char* message, const char* file,
                                int line);

// A hook run before aborting (set by a simulator or a test harness). It may
// throw; where it does not, the process aborts.
using AssertHook = void (*)(const char* condition, const char* message, const char* file, int line);
void set_assert_hook(AssertHook hook) noexcept;

}  // namespace segsim::detail

#define SEGSIM_ASSERT(condition, message)                                             \
  do {                                                                                \
    if (__builtin_expect(!(condition), 0)) {                                          \
      ::segsim::detail::assert_failed(#condition, (message), __FILE__, __LINE__);     \
    }                                                                                 \
  } while (0)

// SEGSIM_DEBUG_ASSERT: the same check where it is not cheap (a scan, a
// search), compiled only in builds without NDEBUG (the Debug presets: asan,
// tsan). Its condition must have no side effect and make no platform call —
// a mutex or platform::Atomic there would be a scheduling point, and debug
// builds would schedule differently from the others.
#ifdef NDEBUG
#define SEGSIM_DEBUG_ASSERT(condition, message) \
  do {                                          \
  } while (0)
#else
#define SEGSIM_DEBUG_ASSERT(condition, message) SEGSIM_ASSERT(condition, message)
#endif
