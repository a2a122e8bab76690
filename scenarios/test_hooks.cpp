// The conductor's test hooks (test_hooks.h).
#include "scenarios/test_hooks.h"

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "core/assert.h"
#include "core/platform/clock.h"
#include "scenarios/run.h"

namespace segsim::scenarios {

namespace {

// Test hook kCrashHook: a seed that is a multiple of 4 dies of a real
// SIGSEGV — a write to a page of its own that no one may touch, outside any
// SimOs — so sweep tests get an anonymous crash in the middle of a worker's
// seeds.
// Test hook kUseAfterUnmapHook: every seed writes to SimOs memory it just
// unmapped; the SimOs guard names the fault (use-after-release).
void crash_if_hooked(Stack& stack) {
  if (stack.test_hook == kCrashHook && stack.seed % 4 == 0) {
    // Its last words: a sweep shows them beside the crash (SeedResult::worker_stderr).
    std::fprintf(stderr, "crash hook: seed %llu writes to an inaccessible page\n",
                 static_cast<unsigned long long>(stack.seed));
    void* page = ::mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    SEGSIM_ASSERT(page != MAP_FAILED, "the crash hook maps an inaccessible page");
    *static_cast<volatile std::byte*>(page) = std::byte{1};  // SIGSEGV
    SEGSIM_ASSERT(false, "a write to an inaccessible page did not fault");
  }
  if (stack.test_hook != kUseAfterUnmapHook) return;
  const std::size_t page_bytes = stack.sim_os.page_size();
  auto mapped = stack.sim_os.map(page_bytes);
  SEGSIM_ASSERT(mapped.ok(), "the use-after-unmap hook maps one page of a fresh SimOs");
  std::byte* page = mapped.value();
  SEGSIM_ASSERT(stack.sim_os.unmap(page, page_bytes).ok(), "the use-after-unmap hook unmaps its page");
  *static_cast<volatile std::byte*>(page) = std::byte{1};  // SIGSEGV: the page is inaccessible now
  SEGSIM_ASSERT(false, "a write to unmapped SimOs memory did not fault");
}

// Test hook kHeapReuseHook: eight blocks of one size freed, one more asked
// for. glibc's default tcache bin keeps 7 chunks, so the eighth freed went to
// a fastbin and the bin's last (the seventh) comes back; a bin of 100 keeps
// all eight and hands back the eighth. Blocks already in the bin only make
// the default's answer another early block.
void step_if_heap_reused(Stack& stack) {
  if (stack.test_hook != kHeapReuseHook) return;
  constexpr std::size_t kBlocks = 8;
  constexpr std::size_t kBlockBytes = 24;
  void* blocks[kBlocks];
  for (void*& block : blocks) block = std::malloc(kBlockBytes);
  const auto last_freed = reinterpret_cast<std::uintptr_t>(blocks[kBlocks - 1]);
  for (void* block : blocks) std::free(block);
  void* again = std::malloc(kBlockBytes);
  const bool reused_last = reinterpret_cast<std::uintptr_t>(again) == last_freed;
  std::free(again);
  if (reused_last) platform::sleep_for_ns(1000);
}

// Test hook kAssertInDestructorHook: an object whose (implicitly noexcept)
// destructor asserts, as a page cache Handle's unpin may.
struct AssertsWhenDestroyed {
  bool armed = false;
  ~AssertsWhenDestroyed() { SEGSIM_ASSERT(!armed, "test hook: an assertion in a noexcept destructor on a fiber"); }
};

}  // namespace

void run_conductor_test_hooks(Stack& stack) {
  crash_if_hooked(stack);
  step_if_heap_reused(stack);
  { AssertsWhenDestroyed hooked{.armed = stack.test_hook == kAssertInDestructorHook}; }
}

}  // namespace segsim::scenarios
