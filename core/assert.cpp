#include "core/assert.h"

#include "core/flight_recorder_state.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace segsim::detail {
namespace {
std::atomic<AssertHook> g_assert_hook{nullptr};
}  // namespace

void set_assert_hook(AssertHook hook) noexcept { g_assert_hook.store(hook); }

void assert_failed(const char* condition, const char* message, const char* file, int line) {
  if (AssertHook hook = g_assert_hook.load()) hook(condition, message, file, line);
  // For the flight recorder's report on the SIGABRT below (static texts only).
  auto& last = flight_recorder::detail::last_assertion();
  last.message = message;
  last.file = file;
  last.line = line;
  last.condition.store(condition, std::memory_order_release);
  std::fprintf(stderr, "segsim: assertion failed: %s (%s) at %s:%d\n", condition, message, file,
               line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace segsim::detail
