// Helpers shared by the benchmark executables (segsim_bench, segsim_bench_jemalloc).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "core/linux_os.h"
#include "core/segment_allocator.h"
#include "core/size_class.h"

namespace segsim::bench {

// Every size class, 4 KiB … 256 KiB.
inline void all_class_sizes(benchmark::internal::Benchmark* b) {
  for (std::size_t c = 0; c < kSizeClassCount; ++c) b->Arg(static_cast<std::int64_t>(class_bytes(c)));
}

// Rounds before timing so the first timed iteration sees a warm pool: the
// second round matters for SegmentAllocator::allocate (a fresh slice is known
// zero and skips the memset, so only the second allocate faults its pages in)
// and for glibc (freeing an mmap'd chunk raises its mmap threshold, so only the
// second malloc of 256 KiB is served from the heap as all later ones are).
inline constexpr int kWarmupRounds = 2;

// A benchmark that cannot set itself up is a broken benchmark, not a slow one.
[[noreturn]] inline void die(const std::string& what) {
  std::fprintf(stderr, "segsim_bench: %s\n", what.c_str());
  std::abort();
}

// glibc's malloc skips its arena lock while a process has never had a second
// thread (SINGLE_THREAD_P), and never goes back once one has run. A database
// always has threads, and SegmentAllocator always takes its class lock, so by
// default the process is made multi-threaded before any benchmark runs.
// SEGSIM_BENCH_SINGLE_THREADED=1 keeps it single-threaded, to show what the
// lock-free glibc path costs; the run's context line records the mode.
inline bool make_process_multi_threaded() {
  const char* single = std::getenv("SEGSIM_BENCH_SINGLE_THREADED");
  const bool stay_single = single != nullptr && std::string(single) == "1";
  if (!stay_single) std::thread([] {}).join();
  benchmark::AddCustomContext("process_threads",
                              stay_single ? "single (SEGSIM_BENCH_SINGLE_THREADED=1)"
                                          : "multi (a thread was started and joined)");
  return !stay_single;
}
inline const bool kProcessIsMultiThreaded = make_process_multi_threaded();


inline std::unique_ptr<SegmentAllocator> make_allocator(SegmentAllocatorConfig config = {}) {
  auto created = SegmentAllocator::create(LinuxOs::instance(), config);
  if (!created.ok()) die("SegmentAllocator::create: " + created.error().describe());
  return std::move(created).value();
}

inline std::size_t page_bytes() { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }

// One write per page: what a user of freshly reset memory does first, and the
// cheapest access that makes a dropped page resident again. A write, not a
// read: a read fault maps the shared zero page and the later write faults a
// second time, which would overstate the madvise mechanisms.
inline void touch_pages(std::byte* data, std::size_t bytes, std::size_t page) {
  for (std::size_t offset = 0; offset < bytes; offset += page) {
    *reinterpret_cast<volatile unsigned char*>(data + offset) = 1;
  }
}

// Private anonymous memory straight from mmap, so the Reset suite compares the
// kernel mechanisms and nothing of ours.
class MappedBuffer {
 public:
  explicit MappedBuffer(std::size_t bytes) : bytes_(bytes) {
    void* mapped = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED) die("mmap failed");
    data_ = static_cast<std::byte*>(mapped);
  }
  ~MappedBuffer() { ::munmap(data_, bytes_); }
  MappedBuffer(const MappedBuffer&) = delete;
  MappedBuffer& operator=(const MappedBuffer&) = delete;

  std::byte* data() const noexcept { return data_; }
  std::size_t bytes() const noexcept { return bytes_; }

 private:
  std::byte* data_ = nullptr;
  std::size_t bytes_ = 0;
};

// Allocate+release in a loop; `acquire` returns a pointer, `release` frees it.
// The pointer escapes through DoNotOptimize so the compiler can neither elide
// the pair (GCC removes an unused malloc/free) nor keep anything in a register
// across iterations; nothing else touches the memory.
template <class Acquire, class Release>
void alloc_release_loop(benchmark::State& state, Acquire acquire, Release release) {
  const auto bytes = static_cast<std::size_t>(state.range(0));
  for (int round = 0; round < kWarmupRounds; ++round) release(acquire(bytes));
  for (auto _ : state) {
    auto handle = acquire(bytes);
    benchmark::DoNotOptimize(handle);
    release(handle);
  }
}

// The SegmentAllocator side of the Alloc suite. The result checks stay inside
// the timed loop: every real caller pays them.
// `cached`: with the per-thread caches (the default); without, every call
// takes the class lock (the allocator before issue 17).
inline void segment_alloc_release(benchmark::State& state, bool zeroed, bool cached = true) {
  SegmentAllocatorConfig config;  // the default: per-thread caches on
  if (!cached) config.thread_cache_bytes = 0;
  auto allocator = make_allocator(config);
  SegmentAllocator& a = *allocator;
  alloc_release_loop(
      state,
      [&a, zeroed](std::size_t bytes) {
        Result<Segment> got = zeroed ? a.allocate(bytes) : a.allocate_uninitialized(bytes);
        if (!got.ok()) [[unlikely]] die("allocate: " + got.error().describe());
        return got.value();
      },
      [&a](const Segment& segment) {
        if (!a.release(segment).ok()) [[unlikely]] die("release failed");
      });
  // A proactive cleanup would make this a different benchmark; it must not run.
  if (a.stats().classes[static_cast<std::size_t>(class_of(state.range(0)))].cleanups_started != 0) {
    state.SkipWithError("a proactive cleanup ran during the loop");
  }
}

}  // namespace segsim::bench
