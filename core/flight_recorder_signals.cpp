// The fatal signals' handler: one crash report per dying process, the
// previous handlers restored after it (flight_recorder.h).
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "core/flight_recorder.h"
#include "core/flight_recorder_state.h"

namespace segsim::flight_recorder {

namespace {

// The signals whose handler writes a report, each with the action it
// replaced (restored before the signal is raised again).
struct FatalSignal {
  int number;
  struct sigaction previous;
};
constinit FatalSignal g_fatal_signals[] = {{SIGSEGV, {}}, {SIGBUS, {}}, {SIGILL, {}}, {SIGFPE, {}}, {SIGABRT, {}}};
constinit bool g_handlers_installed = false;

// One report per dying process: a fault that a sanitizer's own handler turns
// into abort(), or faults racing on two threads, are the same crash.
constinit std::atomic<bool> g_fatal_reported{false};
static_assert(std::atomic<bool>::is_always_lock_free, "used inside a signal handler");

constinit std::atomic<bool> g_fatal_report_done{false};
// Counted, so the harness can tell a wait that was due from one that was not
// (flight_recorder.h); the limit is lowered only by hold_fatal_report().
constinit std::atomic<std::uint32_t> g_fatal_wait_pauses{0};
constinit std::atomic<std::uint32_t> g_fatal_wait_limit{kMaxFatalReportWaitPauses};
static_assert(std::atomic<std::uint32_t>::is_always_lock_free, "used inside a signal handler");

// Another thread is writing the crash report: wait for it (bounded), so this
// thread's own death (two threads failing the same assertion) does not end
// the process before the report is whole.
void wait_for_fatal_report() {
  struct timespec pause {0, 1000000};  // 1 ms
  const std::uint32_t limit = g_fatal_wait_limit.load();
  for (std::uint32_t i = 0; i < limit && !g_fatal_report_done.load(); ++i) {
    g_fatal_wait_pauses.fetch_add(1);
    ::nanosleep(&pause, nullptr);
  }
}

void restore_previous_handlers() {
  for (const FatalSignal& signal : g_fatal_signals) ::sigaction(signal.number, &signal.previous, nullptr);
}

void fatal_signal_handler(int signal, siginfo_t* info, void*) {
  // The interrupted code's errno back when the handler returns (its report's
  // writes may set it).
  struct ErrnoKept {
    int saved = errno;
    ~ErrnoKept() { errno = saved; }
  } errno_kept;
  // Afterwards, back to what was there before, for every fatal signal:
  // returning re-runs the faulting instruction (or abort() raises again)
  // under it, and what it raises next is not reported twice.
  if (g_fatal_reported.exchange(true)) {
    wait_for_fatal_report();
    restore_previous_handlers();
    return;
  }
  // The tape stops here: other threads' events from now on are not the sketch.
  detail::g_live.store(0, std::memory_order_relaxed);
  detail::FailureInfo failure;
  failure.kind = "signal";
  failure.signal = signal;
  failure.fault_address = signal == SIGABRT || info == nullptr ? 0 : reinterpret_cast<std::uintptr_t>(info->si_addr);
  if (signal == SIGABRT && detail::last_assertion().condition.load() != nullptr) failure.kind = "assertion";
  char path[600];
  if (detail::write_crash_report(failure, path, sizeof path)) {
    const char prefix[] = "segsim: flight recorder: crash report ";
    (void)!::write(STDERR_FILENO, prefix, sizeof prefix - 1);
    (void)!::write(STDERR_FILENO, path, std::strlen(path));
    (void)!::write(STDERR_FILENO, "\n", 1);
  }
  restore_previous_handlers();
  g_fatal_report_done.store(true);
}

}  // namespace

void detail::install_fatal_handlers() noexcept {
  if (g_handlers_installed) return;
  struct sigaction action {};
  action.sa_sigaction = &fatal_signal_handler;
  action.sa_flags = SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  for (FatalSignal& signal : g_fatal_signals) ::sigaction(signal.number, &action, &signal.previous);
  g_handlers_installed = true;
}

void detail::remove_fatal_handlers() noexcept {
  if (!g_handlers_installed) return;
  restore_previous_handlers();
  g_handlers_installed = false;
}

void detail::reset_fatal_report() noexcept {
  g_fatal_reported.store(false);
  g_fatal_report_done.store(false);
  g_fatal_wait_limit.store(kMaxFatalReportWaitPauses);
}

std::uint32_t fatal_report_wait_pauses() noexcept { return g_fatal_wait_pauses.load(); }

void hold_fatal_report(std::uint32_t wait_pauses) noexcept {
  if (wait_pauses == 0) {
    g_fatal_wait_limit.store(kMaxFatalReportWaitPauses);
    g_fatal_report_done.store(true);
    return;
  }
  g_fatal_wait_limit.store(std::min(wait_pauses, kMaxFatalReportWaitPauses));
  g_fatal_report_done.store(false);
  g_fatal_reported.store(true);
}

}  // namespace segsim::flight_recorder
