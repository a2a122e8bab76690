// The machine-level switch between fiber stacks: save the running context's
// callee-saved state on its stack, store its stack pointer, load another's.
//
// Why not Boost's jump_fcontext (which the fibers used before, and which
// SimRawSwitch still measures): it leaves through an indirect `jmp`, so the
// `call` into it leaves an entry on the CPU's return stack buffer that no
// `ret` pops, and every return of the resumed context is then predicted one
// frame off (docs/benchmarks.md, "Simulator speed"). Here the switch is a
// plain function that returns with `ret` on the other stack: call and ret
// stay paired, and when both sides suspended at the same call site (fibers
// at a scheduling point) the return is predicted exactly.
//
// x86-64 (System V): rbx, rbp and r12-r15 are saved. The floating-point
// control state (MXCSR's rounding and exception masks, the x87 control word),
// callee-saved too, is not: saving and reloading it doubled the cost of a
// switch (2.4 to 4.8 ns, same-site ping-pong on this VM), and no code run
// under the simulator changes it — the fibers share the thread's, as they
// share its other floating-point state. Simulation::run checks that it is
// unchanged whenever control comes back to the scheduler (float_control()):
// a fiber that changes it fails the run.
// Elsewhere the same interface is built on Boost's fcontext, which does
// switch it (context_switch.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

namespace segsim::sim {

// A suspended context: its saved stack pointer (opaque), null if none.
using ContextSp = void*;

extern "C" void segsim_switch_context(ContextSp* save, ContextSp target) noexcept;

// Suspends the running context — its stack pointer is stored in `*save` —
// and resumes `target`, a context suspended in switch_context or just made
// by make_context. Returns when something switches back to `*save`. Inline:
// the call into the switch must come from the caller's own call site.
inline void switch_context(ContextSp* save, ContextSp target) noexcept { segsim_switch_context(save, target); }

// A context on the stack [stack_top - stack_bytes, stack_top) that, when first
// switched to, calls entry(arg). `entry` must never return: it ends by
// switching away for good.
ContextSp make_context(void* stack_top, std::size_t stack_bytes, void (*entry)(void*) noexcept, void* arg) noexcept;

// The floating-point control state (MXCSR without its status flags, the x87
// control word) of the calling thread; 0 where the switch saves it itself.
std::uint64_t float_control() noexcept;
// Sets it back to a value float_control() returned (and clears the status flags).
void set_float_control(std::uint64_t control) noexcept;

}  // namespace segsim::sim
