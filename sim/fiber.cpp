#include "sim/fiber.h"

#include <utility>

#include <boost/context/protected_fixedsize_stack.hpp>

#include "core/assert.h"

#if defined(__SANITIZE_ADDRESS__)
#define SEGSIM_SIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SEGSIM_SIM_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define SEGSIM_SIM_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SEGSIM_SIM_TSAN 1
#endif
#endif

#if defined(SEGSIM_SIM_ASAN)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(SEGSIM_SIM_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

// The Itanium C++ ABI's per-thread exception globals (libsupc++ and
// libc++abi share this layout): the stack of caught exceptions and the count
// std::uncaught_exceptions() reports.
namespace __cxxabiv1 {
struct __cxa_eh_globals;
extern "C" __cxa_eh_globals* __cxa_get_globals() noexcept;
}  // namespace __cxxabiv1

namespace segsim::sim {
namespace ctx = boost::context;

namespace {

EhState* eh_globals() noexcept { return reinterpret_cast<EhState*>(__cxxabiv1::__cxa_get_globals()); }

// On the side that switches away: saves its exception state in `save` and
// installs the target's, `load` (nothing runs between this and the jump).
void swap_eh(EhState* eh, EhState& save, const EhState& load) noexcept {
  save = *eh;
  *eh = load;
}

// A guard-paged stack allocator that also tells the Fiber where its stack is.
class RecordingStack {
 public:
  RecordingStack(std::size_t bytes, ctx::stack_context* out) : inner_(bytes), out_(out) {}
  ctx::stack_context allocate() {
    ctx::stack_context stack = inner_.allocate();
    *out_ = stack;
    return stack;
  }
  void deallocate(ctx::stack_context& stack) noexcept {
#if defined(SEGSIM_SIM_ASAN)
    // Frames that ran on this stack left redzone poison in shadow memory, and
    // munmap does not clear it: the next mapping at these addresses (any
    // mmap) would inherit it and report phantom stack-buffer errors.
    ASAN_UNPOISON_MEMORY_REGION(static_cast<char*>(stack.sp) - stack.size, stack.size);
#endif
    inner_.deallocate(stack);
  }

 private:
  ctx::protected_fixedsize_stack inner_;
  ctx::stack_context* out_;
};

// ASan: `fake_stack` null on the final switch away from a dying fiber.
inline void asan_start_switch(void** fake_stack, const void* bottom, std::size_t size) {
#if defined(SEGSIM_SIM_ASAN)
  __sanitizer_start_switch_fiber(fake_stack, bottom, size);
#else
  (void)fake_stack, (void)bottom, (void)size;
#endif
}
inline void asan_finish_switch(void* fake_stack, const void** old_bottom, std::size_t* old_size) {
#if defined(SEGSIM_SIM_ASAN)
  __sanitizer_finish_switch_fiber(fake_stack, old_bottom, old_size);
#else
  (void)fake_stack, (void)old_bottom, (void)old_size;
#endif
}
inline void tsan_switch(void* to) {
#if defined(SEGSIM_SIM_TSAN)
  __tsan_switch_to_fiber(to, 0);
#else
  (void)to;
#endif
}

// Boost's jump_fcontext leaves through an indirect jmp, not a ret, so the
// call into it leaves an entry on the CPU's return stack buffer that no ret
// pops: after a switch every return of the resumed context is predicted one
// frame off — one misprediction per frame up to the next call (~7 ns a frame
// on this VM, measured with a ping-pong at growing call depth). One ret of
// our own pops that entry: one misprediction, after which the returns of a
// fiber resumed where the last one stopped (the same call chain) are
// predicted. The 128 bytes skip the red zone the push would overwrite.
inline void realign_return_stack() noexcept {
#if defined(__x86_64__)
  asm volatile(
      "leaq -128(%%rsp), %%rsp\n\t"
      "leaq 1f(%%rip), %%rax\n\t"
      "pushq %%rax\n\t"
      "ret\n"
      "1:\n\t"
      "leaq 128(%%rsp), %%rsp"
      :
      :
      : "rax", "memory");
#endif
}

}  // namespace

bool Fiber::Home::jump(ctx::fiber& self, ctx::fiber& target) {
  handoff_ = &self;
  ctx::fiber left = std::move(target).resume();
  realign_return_stack();
  // Back in `self`'s context: whoever jumped here set handoff_ to its slot.
  const bool from_scheduler = handoff_ == &scheduler_;
  *handoff_ = std::move(left);
  return from_scheduler;
}

Fiber::Fiber(Home& home, std::size_t stack_bytes, std::function<void()> entry)
    : home_(home), entry_(std::move(entry)) {
  context_ = ctx::fiber(std::allocator_arg, RecordingStack(stack_bytes, &stack_), [this](ctx::fiber&& left) {
    const bool from_scheduler = home_.handoff_ == &home_.scheduler_;
    *home_.handoff_ = std::move(left);
    arrived(nullptr, from_scheduler);
    entry_();
    entry_ = nullptr;  // the closure's destructors run on this fiber, like the body
    finished_ = true;
    // A finished fiber always returns to the scheduler, which records the end.
    swap_eh(home_.thread_eh_, eh_, home_.scheduler_eh_);
    asan_start_switch(nullptr, home_.stack_bottom_, home_.stack_size_);
    tsan_switch(home_.tsan_fiber_);
    home_.handoff_ = &context_;  // receives the empty continuation of a finished fiber
    return std::move(home_.scheduler_);
  });
#if defined(SEGSIM_SIM_TSAN)
  tsan_fiber_ = __tsan_create_fiber(0);
#endif
}

Fiber::~Fiber() {
  // An unfinished fiber would be force-unwound by Boost with an exception on
  // its stack; the simulation always runs fibers to their end instead.
  SEGSIM_ASSERT(finished_ || !context_, "destroying a fiber that has not finished");
#if defined(SEGSIM_SIM_TSAN)
  if (tsan_fiber_ != nullptr) __tsan_destroy_fiber(tsan_fiber_);
#endif
}

void Fiber::resume() {
  SEGSIM_ASSERT(!finished_ && context_, "resume of a finished fiber");
  started_ = true;
#if defined(SEGSIM_SIM_TSAN)
  home_.tsan_fiber_ = __tsan_get_current_fiber();
#endif
  home_.thread_eh_ = eh_globals();  // this thread's: every fiber of the Home runs on it
  swap_eh(home_.thread_eh_, home_.scheduler_eh_, eh_);
  void* fake_stack = nullptr;
  asan_start_switch(&fake_stack, stack_bottom(), stack_.size);
  tsan_switch(tsan_fiber_);
  home_.jump(home_.scheduler_, context_);
  asan_finish_switch(fake_stack, nullptr, nullptr);
}

void Fiber::suspend() {
  SEGSIM_ASSERT(home_.scheduler_, "suspend outside the fiber");
  swap_eh(home_.thread_eh_, eh_, home_.scheduler_eh_);
  void* fake_stack = nullptr;
  asan_start_switch(&fake_stack, home_.stack_bottom_, home_.stack_size_);
  tsan_switch(home_.tsan_fiber_);
  const bool from_scheduler = home_.jump(context_, home_.scheduler_);
  arrived(fake_stack, from_scheduler);
}

void Fiber::switch_to(Fiber& next) {
  SEGSIM_ASSERT(&next != this && &next.home_ == &home_ && !next.finished_ && next.context_,
                "switch to a finished fiber, itself, or another scheduler's");
  next.started_ = true;
  swap_eh(home_.thread_eh_, eh_, next.eh_);
  void* fake_stack = nullptr;
  asan_start_switch(&fake_stack, next.stack_bottom(), next.stack_.size);
  tsan_switch(next.tsan_fiber_);
  const bool from_scheduler = home_.jump(context_, next.context_);
  arrived(fake_stack, from_scheduler);
}

void Fiber::arrived(void* fake_stack, bool from_scheduler) {
  // ASan reports the stack we came from: the scheduler's is the one to keep
  // (for the switches back to it); another fiber's we know already.
  if (from_scheduler) {
    asan_finish_switch(fake_stack, &home_.stack_bottom_, &home_.stack_size_);
  } else {
    asan_finish_switch(fake_stack, nullptr, nullptr);
  }
}

}  // namespace segsim::sim
