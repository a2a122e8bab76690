// segsim_bench_jemalloc: the Alloc suite against jemalloc.
//
// Debian's libjemalloc is built without a symbol prefix: it exports malloc,
// calloc and free, so linking it replaces glibc's allocator for the whole
// process (and it cannot be dlopen'ed RTLD_LOCAL instead: its initial-exec TLS
// does not fit the static TLS block). It therefore lives in this executable,
// away from segsim_bench's glibc baseline. The SegmentAllocator rows are
// measured again here so every ratio in this table is from one run.
#include <dlfcn.h>

#include <cstring>

#include <jemalloc/jemalloc.h>

#include "bench/bench_support.h"

namespace segsim::bench {
namespace {

void AllocSegmentUninitialized(benchmark::State& state) { segment_alloc_release(state, false); }
void AllocSegmentZeroed(benchmark::State& state) { segment_alloc_release(state, true); }

// malloc/free here are jemalloc's (checked at startup below).
void AllocJemallocMalloc(benchmark::State& state) {
  alloc_release_loop(
      state,
      [](std::size_t bytes) {
        void* p = malloc(bytes);
        if (p == nullptr) [[unlikely]] die("malloc failed");
        return p;
      },
      [](void* p) { free(p); });
}

// jemalloc's own API: no errno, no size lookup on free when sized.
void AllocJemallocMallocx(benchmark::State& state) {
  const auto bytes = static_cast<std::size_t>(state.range(0));
  alloc_release_loop(
      state,
      [](std::size_t n) {
        void* p = mallocx(n, 0);
        if (p == nullptr) [[unlikely]] die("mallocx failed");
        return p;
      },
      [bytes](void* p) { sdallocx(p, bytes, 0); });
}

void AllocJemallocCalloc(benchmark::State& state) {
  alloc_release_loop(
      state,
      [](std::size_t bytes) {
        void* p = calloc(1, bytes);
        if (p == nullptr) [[unlikely]] die("calloc failed");
        return p;
      },
      [](void* p) { free(p); });
}

// Without this check a link-order change could quietly measure glibc instead.
const bool kJemallocChecked = [] {
  void* (*resolved)(std::size_t) = &malloc;
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(resolved), &info) == 0 || info.dli_fname == nullptr ||
      std::strstr(info.dli_fname, "jemalloc") == nullptr) {
    die("malloc is not jemalloc's in segsim_bench_jemalloc");
  }
  return true;
}();

BENCHMARK(AllocSegmentUninitialized)->Apply(all_class_sizes);
BENCHMARK(AllocJemallocMalloc)->Apply(all_class_sizes);
BENCHMARK(AllocJemallocMallocx)->Apply(all_class_sizes);
BENCHMARK(AllocSegmentZeroed)->Apply(all_class_sizes);
BENCHMARK(AllocJemallocCalloc)->Apply(all_class_sizes);

}  // namespace
}  // namespace segsim::bench
