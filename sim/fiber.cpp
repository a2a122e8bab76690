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

}  // namespace

Fiber::Fiber(Home& home, std::size_t stack_bytes, std::function<void()> entry)
    : home_(home), entry_(std::move(entry)) {
  stack_ = ctx::protected_fixedsize_stack(stack_bytes).allocate();  // throws std::bad_alloc when out of memory
  context_ = make_context(stack_.sp, stack_.size, &Fiber::run, this);
#if defined(SEGSIM_SIM_TSAN)
  tsan_fiber_ = __tsan_create_fiber(0);
#endif
}

Fiber::~Fiber() {
  // A started, unfinished fiber has frames on its stack whose destructors
  // would never run; the simulation always runs fibers to their end instead.
  SEGSIM_ASSERT(finished_ || !started_, "destroying a fiber that has not finished");
#if defined(SEGSIM_SIM_ASAN)
  // Frames that ran on this stack left redzone poison in shadow memory, and
  // munmap does not clear it: the next mapping at these addresses (any
  // mmap) would inherit it and report phantom stack-buffer errors.
  ASAN_UNPOISON_MEMORY_REGION(stack_bottom(), stack_.size);
#endif
  ctx::protected_fixedsize_stack(stack_.size).deallocate(stack_);
#if defined(SEGSIM_SIM_TSAN)
  if (tsan_fiber_ != nullptr) __tsan_destroy_fiber(tsan_fiber_);
#endif
}

void Fiber::run(void* self) noexcept {
  auto& fiber = *static_cast<Fiber*>(self);
  Home& home = fiber.home_;
  fiber.arrived(nullptr);
  fiber.entry_();
  fiber.entry_ = nullptr;  // the closure's destructors run on this fiber, like the body
  fiber.finished_ = true;
  // A finished fiber always returns to the scheduler, which records the end.
  swap_eh(home.thread_eh_, fiber.eh_, home.scheduler_eh_);
  asan_start_switch(nullptr, home.stack_bottom_, home.stack_size_);
  tsan_switch(home.tsan_fiber_);
  home.from_scheduler_ = false;
  switch_context(&fiber.context_, home.scheduler_);
  __builtin_unreachable();  // nothing switches to a finished fiber
}

void Fiber::resume() {
  SEGSIM_ASSERT(!finished_, "resume of a finished fiber");
  started_ = true;
#if defined(SEGSIM_SIM_TSAN)
  home_.tsan_fiber_ = __tsan_get_current_fiber();
#endif
  home_.thread_eh_ = eh_globals();  // this thread's: every fiber of the Home runs on it
  swap_eh(home_.thread_eh_, home_.scheduler_eh_, eh_);
  void* fake_stack = nullptr;
  asan_start_switch(&fake_stack, stack_bottom(), stack_.size);
  tsan_switch(tsan_fiber_);
  home_.from_scheduler_ = true;
  switch_context(&home_.scheduler_, context_);
  asan_finish_switch(fake_stack, nullptr, nullptr);
}

void Fiber::suspend() {
  SEGSIM_ASSERT(home_.scheduler_ != nullptr, "suspend outside the fiber");
  swap_eh(home_.thread_eh_, eh_, home_.scheduler_eh_);
  void* fake_stack = nullptr;
  asan_start_switch(&fake_stack, home_.stack_bottom_, home_.stack_size_);
  tsan_switch(home_.tsan_fiber_);
  home_.from_scheduler_ = false;
  switch_context(&context_, home_.scheduler_);
  arrived(fake_stack);
}

void Fiber::switch_to(Fiber& next) {
  SEGSIM_ASSERT(&next != this && &next.home_ == &home_ && !next.finished_,
                "switch to a finished fiber, itself, or another scheduler's");
  next.started_ = true;
  swap_eh(home_.thread_eh_, eh_, next.eh_);
  void* fake_stack = nullptr;
  asan_start_switch(&fake_stack, next.stack_bottom(), next.stack_.size);
  tsan_switch(next.tsan_fiber_);
  home_.from_scheduler_ = false;
  switch_context(&context_, next.context_);
  arrived(fake_stack);
}

void Fiber::arrived(void* fake_stack) {
  // ASan reports the stack we came from: the scheduler's is the one to keep
  // (for the switches back to it); another fiber's we know already.
  if (home_.from_scheduler_) {
    asan_finish_switch(fake_stack, &home_.stack_bottom_, &home_.stack_size_);
  } else {
    asan_finish_switch(fake_stack, nullptr, nullptr);
  }
}

}  // namespace segsim::sim
