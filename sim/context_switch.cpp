#include "sim/context_switch.h"

#include <cstdint>

#if !defined(__x86_64__) || defined(SEGSIM_SIM_FCONTEXT_SWITCH)
#include <boost/context/detail/fcontext.hpp>
#endif

namespace segsim::sim {

#if defined(__x86_64__) && !defined(SEGSIM_SIM_FCONTEXT_SWITCH)

// segsim_switch_context(save = rdi, target = rsi). The frame it leaves on the
// suspended stack, from the saved stack pointer up: r15, r14, r13, r12, rbx,
// rbp, return address. The floating-point control words are not switched
// (see context_switch.h): storing and reloading them doubled the switch.
//
// segsim_context_start: where a fresh context "returns" to. make_context puts
// entry in r12 and arg in r13; the stack pointer is 16-byte aligned here, as
// a call needs. The CFI marks the end of the call chain for unwinders and
// debuggers; entry never returns (ud2 if it did).
asm(R"(
  .text
  .p2align 4
  .globl segsim_switch_context
  .hidden segsim_switch_context
  .type segsim_switch_context, @function
segsim_switch_context:
  .cfi_startproc
  pushq %rbp
  .cfi_adjust_cfa_offset 8
  pushq %rbx
  .cfi_adjust_cfa_offset 8
  pushq %r12
  .cfi_adjust_cfa_offset 8
  pushq %r13
  .cfi_adjust_cfa_offset 8
  pushq %r14
  .cfi_adjust_cfa_offset 8
  pushq %r15
  .cfi_adjust_cfa_offset 8
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .cfi_endproc
  .size segsim_switch_context, .-segsim_switch_context

  .p2align 4
  .globl segsim_context_start
  .hidden segsim_context_start
  .type segsim_context_start, @function
segsim_context_start:
  .cfi_startproc
  .cfi_undefined rip
  movq %r13, %rdi
  callq *%r12
  ud2
  .cfi_endproc
  .size segsim_context_start, .-segsim_context_start
)");

extern "C" void segsim_context_start() noexcept;

ContextSp make_context(void* stack_top, std::size_t stack_bytes, void (*entry)(void*) noexcept, void* arg) noexcept {
  (void)stack_bytes;  // the frame below needs 56 bytes; a fiber stack has kilobytes
  // After the switch pops this frame and returns into segsim_context_start,
  // the stack pointer is the aligned top: ready for its call.
  auto* top = reinterpret_cast<std::uint64_t*>(reinterpret_cast<std::uintptr_t>(stack_top) & ~std::uintptr_t{15});
  std::uint64_t* frame = top - 7;
  frame[0] = 0;                                       // r15
  frame[1] = 0;                                       // r14
  frame[2] = reinterpret_cast<std::uint64_t>(arg);    // r13
  frame[3] = reinterpret_cast<std::uint64_t>(entry);  // r12
  frame[4] = 0;                                       // rbx
  frame[5] = 0;                                       // rbp: the end of the frame-pointer chain
  frame[6] = reinterpret_cast<std::uint64_t>(&segsim_context_start);
  return frame;
}

std::uint64_t float_control() noexcept {
  std::uint32_t mxcsr = 0;
  std::uint16_t x87_control = 0;
  asm volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(mxcsr), "=m"(x87_control));
  constexpr std::uint32_t kMxcsrStatusFlags = 0x3f;  // sticky exception flags: not callee-saved, not compared
  return (mxcsr & ~kMxcsrStatusFlags) | static_cast<std::uint64_t>(x87_control) << 32;
}

void set_float_control(std::uint64_t control) noexcept {
  const auto mxcsr = static_cast<std::uint32_t>(control);
  const auto x87_control = static_cast<std::uint16_t>(control >> 32);
  asm volatile("ldmxcsr %0\n\tfldcw %1" : : "m"(mxcsr), "m"(x87_control));
}

#else  // Boost's fcontext: the same interface, without the return-stack pairing

namespace {

namespace fc = boost::context::detail;

struct Start {
  void (*entry)(void*) noexcept;
  void* arg;
};

// A jump's data is the jumping side's save slot: the arriving side stores the
// jumper's continuation there (fcontext hands it over only to the arriving side).
void arrive(fc::transfer_t transfer) noexcept { *static_cast<ContextSp*>(transfer.data) = transfer.fctx; }

// Entered once by make_context to take entry and arg, then suspended until
// the first real switch to the context.
void start(fc::transfer_t transfer) noexcept {
  const Start begin = *static_cast<const Start*>(transfer.data);
  arrive(fc::jump_fcontext(transfer.fctx, nullptr));
  begin.entry(begin.arg);
  __builtin_trap();  // entry never returns
}

}  // namespace

extern "C" void segsim_switch_context(ContextSp* save, ContextSp target) noexcept {
  arrive(fc::jump_fcontext(target, save));
}

ContextSp make_context(void* stack_top, std::size_t stack_bytes, void (*entry)(void*) noexcept, void* arg) noexcept {
  Start begin{entry, arg};
  const fc::fcontext_t fresh = fc::make_fcontext(stack_top, stack_bytes, &start);
  return fc::jump_fcontext(fresh, &begin).fctx;
}

std::uint64_t float_control() noexcept { return 0; }  // fcontext switches it with each context
void set_float_control(std::uint64_t) noexcept {}

#endif

}  // namespace segsim::sim
