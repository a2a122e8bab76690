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

struct EhGlobals {
  void* caught_exceptions;
  unsigned int uncaught_exceptions;
};
EhGlobals* eh_globals() noexcept { return reinterpret_cast<EhGlobals*>(__cxxabiv1::__cxa_get_globals()); }

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

}  // namespace

Fiber::Fiber(std::size_t stack_bytes, std::function<void()> entry) : entry_(std::move(entry)) {
  context_ = ctx::fiber(
      std::allocator_arg, RecordingStack(stack_bytes, &stack_), [this](ctx::fiber&& scheduler) {
        scheduler_ = std::move(scheduler);
        asan_finish_switch(nullptr, &scheduler_stack_bottom_, &scheduler_stack_size_);
        entry_();
        entry_ = nullptr;  // the closure's destructors run on this fiber, like the body
        finished_ = true;
        asan_start_switch(nullptr, scheduler_stack_bottom_, scheduler_stack_size_);
        tsan_switch(tsan_scheduler_);
        return std::move(scheduler_);
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
  tsan_scheduler_ = __tsan_get_current_fiber();
#endif
  // Swap in the fiber's exception state; take it back out when it switches back.
  EhGlobals* eh = eh_globals();
  const EhGlobals scheduler_eh = *eh;
  *eh = EhGlobals{eh_caught_exceptions_, eh_uncaught_exceptions_};
  void* fake_stack = nullptr;
  const char* stack_top = static_cast<const char*>(stack_.sp);
  asan_start_switch(&fake_stack, stack_top - stack_.size, stack_.size);
  tsan_switch(tsan_fiber_);
  context_ = std::move(context_).resume();
  asan_finish_switch(fake_stack, nullptr, nullptr);
  eh = eh_globals();
  eh_caught_exceptions_ = eh->caught_exceptions;
  eh_uncaught_exceptions_ = eh->uncaught_exceptions;
  *eh = scheduler_eh;
}

void Fiber::suspend() {
  SEGSIM_ASSERT(scheduler_, "suspend outside the fiber");
  void* fake_stack = nullptr;
  asan_start_switch(&fake_stack, scheduler_stack_bottom_, scheduler_stack_size_);
  tsan_switch(tsan_scheduler_);
  scheduler_ = std::move(scheduler_).resume();
  asan_finish_switch(fake_stack, &scheduler_stack_bottom_, &scheduler_stack_size_);
}

}  // namespace segsim::sim
