// segsim_alloc_loop: a bare allocate+release loop for callgrind (this VM has
// no hardware counters; instruction counts come from valgrind).
//
//   segsim_alloc_loop segment|segment-nocache|glibc|mimalloc ITERATIONS [BYTES (default 65536)]
//   valgrind --tool=callgrind --toggle-collect='*timed_loop*' build/dev/bench/segsim_alloc_loop segment 200000
//
// Only timed_loop is collected, after a warm-up round, so the profile is the
// steady state of allocate_uninitialized+release (or malloc+free) and nothing
// of process or allocator set-up. docs/benchmarks.md ("Per-thread caches")
// has the top entries and instructions per iteration.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "core/linux_os.h"
#include "core/segment_allocator.h"

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "segsim_alloc_loop: %s\n", what.c_str());
  std::exit(2);
}

template <class Acquire, class Release>
[[gnu::noinline]] void timed_loop(long iterations, std::size_t bytes, Acquire acquire, Release release) {
  for (long i = 0; i < iterations; ++i) {
    auto handle = acquire(bytes);
    asm volatile("" : : "g"(&handle) : "memory");  // the pair must not be elided
    release(handle);
  }
}

template <class Acquire, class Release>
void run(long iterations, std::size_t bytes, Acquire acquire, Release release) {
  release(acquire(bytes));  // warm: the pool (or arena) holds the slice
  release(acquire(bytes));
  timed_loop(iterations, bytes, acquire, release);
}

void run_segment(long iterations, std::size_t bytes, bool cached) {
  segsim::SegmentAllocatorConfig config;  // the default: per-thread caches on
  if (!cached) config.thread_cache_bytes = 0;
  auto created = segsim::SegmentAllocator::create(segsim::LinuxOs::instance(), config);
  if (!created.ok()) die(created.error().describe());
  segsim::SegmentAllocator& a = *created.value();
  run(
      iterations, bytes,
      [&a](std::size_t n) {
        auto got = a.allocate_uninitialized(n);
        if (!got.ok()) [[unlikely]] die("allocate: " + got.error().describe());
        return got.value();
      },
      [&a](const segsim::Segment& s) {
        if (!a.release(s).ok()) [[unlikely]] die("release refused");
      });
}

void run_malloc(long iterations, std::size_t bytes, void* (*m)(std::size_t), void (*f)(void*)) {
  run(
      iterations, bytes,
      [m](std::size_t n) {
        void* p = m(n);
        if (p == nullptr) [[unlikely]] die("malloc failed");
        return p;
      },
      f);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) die("usage: segsim_alloc_loop segment|segment-nocache|glibc|mimalloc ITERATIONS [BYTES]");
  const std::string which = argv[1];
  const long iterations = std::strtol(argv[2], nullptr, 10);
  const long bytes = argc > 3 ? std::strtol(argv[3], nullptr, 10) : 65536;
  if (iterations < 1) die("ITERATIONS must be positive");
  if (bytes < 1 || bytes > 262144) die("BYTES must be in 1..262144");
  // Multi-threaded, as in segsim_bench (glibc skips its arena lock otherwise).
  std::thread([] {}).join();
  const auto n = static_cast<std::size_t>(bytes);
  if (which == "segment" || which == "segment-nocache") {
    run_segment(iterations, n, which == "segment");
  } else if (which == "glibc") {
    run_malloc(iterations, n, &std::malloc, &std::free);
  } else if (which == "mimalloc") {
    void* handle = ::dlopen(SEGSIM_MIMALLOC_LIBRARY, RTLD_NOW | RTLD_LOCAL);  // see alloc_bench.cpp
    if (handle == nullptr) die(std::string("dlopen mimalloc: ") + ::dlerror());
    auto m = reinterpret_cast<void* (*)(std::size_t)>(::dlsym(handle, "mi_malloc"));
    auto f = reinterpret_cast<void (*)(void*)>(::dlsym(handle, "mi_free"));
    if (m == nullptr || f == nullptr) die("mimalloc symbols missing");
    run_malloc(iterations, n, m, f);
  } else {
    die("unknown allocator: " + which);
  }
  return 0;
}
