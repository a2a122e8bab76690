// Guard mode's handlers (sim_os_guard.h).
#include "faults/sim_os_guard.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <string>

#include "sim/fatal_failure.h"
#include "sim/simulation.h"

namespace segsim::faults::guard {

namespace {

// Up to 64 live SimOs reservations are registered; the handler reports a fault
// inside one of them with the running simulation's fiber and step, then lets
// the default action kill the process (a sweep records the signal).
constexpr int kMaxGuarded = 64;
struct GuardSlot {
  std::atomic<std::uintptr_t> begin{0};
  std::atomic<std::uintptr_t> end{0};
};
GuardSlot g_guarded[kMaxGuarded];
std::atomic<bool> g_handler_installed{false};
struct sigaction g_previous_action;
struct sigaction g_previous_fpe_action;

// Async-signal-safe formatting: no allocation, no stdio.
char* put_text(char* out, const char* text) {
  while (*text != '\0') *out++ = *text++;
  return out;
}
char* put_u64(char* out, std::uint64_t value, int base) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = "0123456789abcdef"[value % static_cast<unsigned>(base)];
    value /= static_cast<unsigned>(base);
  } while (value != 0);
  if (base == 16) out = put_text(out, "0x");
  while (n > 0) *out++ = digits[--n];
  return out;
}

// " in fiber #F at step S (seed N)" of the running simulation, if any, and
// the line's end.
char* put_where(char* out) {
  if (sim::Simulation* simulation = sim::Simulation::current()) {
    out = put_text(out, " in fiber #");
    out = put_u64(out, simulation->current_fiber(), 10);
    out = put_text(out, " at step ");
    out = put_u64(out, simulation->step(), 10);
    out = put_text(out, " (seed ");
    out = put_u64(out, simulation->config().seed, 10);
    out = put_text(out, ")");
  }
  return put_text(out, "\n");
}

// The named failure of a fault inside a reservation: what a failed run would
// say (fiber, step), through sim/fatal_failure.h. Offsets, not addresses: the
// message is part of the failure's signature, compared across processes.
void report_fault(const char* oracle, const std::string& message, const char* where = "a SIGSEGV") {
  sim::FatalFailure failure;
  failure.oracle = oracle;
  failure.message = sim::current_fiber_prefix() + message;
  if (const sim::Simulation* simulation = sim::Simulation::current()) {
    failure.fiber = simulation->current_fiber();
    failure.step = simulation->step();
  }
  failure.where = std::string(where) + ", which the run cannot survive";
  sim::report_fatal_failure(failure);
}

std::string hex_text(std::uint64_t value) {
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(value));
  return hex;
}

// Below Linux's lowest mappable address (vm.mmap_min_addr, 64 KiB by
// default) nothing is ever mapped: a fault there is a null pointer followed
// to a field or an element (the address is the offset from null). Nor is
// anything a user process can touch in the top 64 KiB of the address space:
// a fault there is a null pointer indexed backwards (the last element of an
// empty array: `back()` of an empty vector), the address null minus a few.
constexpr std::uintptr_t kNullPageBytes = std::uintptr_t{64} << 10;
constexpr std::uintptr_t kBelowNullFirst = ~std::uintptr_t{0} - kNullPageBytes + 1;

// A run is in progress in this process: on this thread's simulation, or on a
// native thread of one (a SimOs is alive).
bool run_in_progress() {
  return sim::Simulation::current() != nullptr ||
         std::any_of(std::begin(g_guarded), std::end(g_guarded),
                     [](const GuardSlot& slot) { return slot.begin.load(std::memory_order_acquire) != 0; });
}

// Hands the fault to whoever handled `signal` before us (ASan, or the
// default), which is put back first.
void pass_on(int signal, siginfo_t* info, void* context, const struct sigaction& previous) {
  ::sigaction(signal, &previous, nullptr);
  if (previous.sa_flags & SA_SIGINFO) {
    if (previous.sa_sigaction != nullptr) previous.sa_sigaction(signal, info, context);
  } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(signal);
  }
  // A real fault re-executes the instruction under the previous (default)
  // action when we return; a signal sent by kill() would not come back, so
  // raise it.
  if (info->si_code <= 0) ::raise(signal);
}

void guard_handler(int signal, siginfo_t* info, void* context) {
  const auto address = reinterpret_cast<std::uintptr_t>(info->si_addr);
  for (const GuardSlot& slot : g_guarded) {
    const std::uintptr_t begin = slot.begin.load(std::memory_order_acquire);
    if (begin == 0 || address < begin || address >= slot.end.load(std::memory_order_acquire)) {
      continue;
    }
    char line[256];
    char* out = put_text(line, "segsim: use after release: access to unmapped SimOs memory at offset ");
    out = put_where(put_u64(out, address - begin, 16));
    ssize_t ignored = ::write(STDERR_FILENO, line, static_cast<std::size_t>(out - line));
    (void)ignored;
    // A real fault (not a SIGSEGV sent by kill) is a diagnosis, not a crash:
    // the sweep worker's reporter records it as the seed's failure by name.
    if (info->si_code > 0) {
      report_fault("use-after-release", "accessed SimOs memory at offset " + hex_text(address - begin) +
                                            " after it was unmapped (a stale pointer into a released region, span "
                                            "or file mapping)");
    }
    break;
  }
  // A real fault in the null page while a simulation runs — on its thread, or
  // on a native thread of the run (a SimOs is alive: a run is in progress in
  // this process) — the system under test followed a null pointer. Named,
  // with where the run was, like the above.
  const bool below_null = address >= kBelowNullFirst;
  const bool on_simulation = sim::Simulation::current() != nullptr;
  if (info->si_code > 0 && (address < kNullPageBytes || below_null) && run_in_progress()) {
    char line[256];
    char* out = put_text(line, "segsim: null dereference: access to address ");
    out = put_u64(out, address, 16);
    out = put_where(put_text(out, below_null ? " just below null" : " in the null page"));
    ssize_t ignored = ::write(STDERR_FILENO, line, static_cast<std::size_t>(out - line));
    (void)ignored;
    report_fault("null-dereference",
                 std::string(on_simulation ? "" : "a native thread of the run ") +
                     (below_null ? "accessed address " + hex_text(address) + ", null minus " + hex_text(~address + 1) +
                                  ": a null pointer indexed backwards (the last element of an empty array)"
                            : "accessed address " + hex_text(address) +
                                  ", in the null page: a null pointer followed to a field or element at that offset"));
  }
  pass_on(signal, info, context, g_previous_action);
}

// A real integer division by zero (or overflow: INT_MIN / -1) while a run is
// in progress: the system under test computed with a zero it did not expect
// (a count of nothing, a size of zero). Named like a null dereference, with
// where the run was; no address (the instruction's would differ by build).
void arithmetic_handler(int signal, siginfo_t* info, void* context) {
  const bool integer_fault = info->si_code == FPE_INTDIV || info->si_code == FPE_INTOVF;
  if (integer_fault && run_in_progress()) {
    const bool by_zero = info->si_code == FPE_INTDIV;
    char line[256];
    char* out = put_text(line, by_zero ? "segsim: arithmetic fault: integer division by zero"
                                       : "segsim: arithmetic fault: integer division overflow");
    out = put_where(out);
    ssize_t ignored = ::write(STDERR_FILENO, line, static_cast<std::size_t>(out - line));
    (void)ignored;
    report_fault("arithmetic-fault",
                 std::string(sim::Simulation::current() != nullptr ? "" : "a native thread of the run ") +
                     (by_zero ? "divided an integer by zero (SIGFPE: a count or size of zero it did not expect)"
                              : "overflowed an integer division (SIGFPE: the most negative value divided by -1)"),
                 "a SIGFPE");
  }
  pass_on(signal, info, context, g_previous_fpe_action);
}

}  // namespace

void register_reservation(std::byte* base, std::size_t bytes) {
  if (!g_handler_installed.exchange(true)) {
    struct sigaction action {};
    action.sa_sigaction = guard_handler;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGSEGV, &action, &g_previous_action);
    action.sa_sigaction = arithmetic_handler;
    ::sigaction(SIGFPE, &action, &g_previous_fpe_action);
  }
  for (GuardSlot& slot : g_guarded) {
    std::uintptr_t expected = 0;
    if (slot.begin.load() == 0) {
      slot.end.store(reinterpret_cast<std::uintptr_t>(base) + bytes);
      if (slot.begin.compare_exchange_strong(expected, reinterpret_cast<std::uintptr_t>(base))) return;
    }
  }
  // More than 64 guarded SimOs at once: this one is still guarded by
  // PROT_NONE, only its faults are reported anonymously.
}

void unregister_reservation(std::byte* base) {
  for (GuardSlot& slot : g_guarded) {
    if (slot.begin.load() == reinterpret_cast<std::uintptr_t>(base)) slot.begin.store(0);
  }
}

}  // namespace segsim::faults::guard
