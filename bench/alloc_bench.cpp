// Alloc suite: allocate+release of one segment from a warm pool, per class.
//
// SegmentAllocator::allocate_uninitialized is compared with malloc (neither
// zeroes), SegmentAllocator::allocate with calloc (both hand out zeroes).
//
// mimalloc is reached through dlopen(RTLD_LOCAL) rather than linked: Debian's
// libmimalloc.so is built to override, so linking it makes every malloc in the
// process mimalloc's and the glibc baseline would silently measure mimalloc.
// A library opened RTLD_LOCAL adds nothing to the global symbol scope, so
// malloc stays glibc's (checked at startup, see glibc_malloc_is_glibcs()).
// jemalloc cannot be dlopen'ed (initial-exec TLS: "cannot allocate memory in
// static TLS block") and also overrides when linked, so it has its own
// executable, segsim_bench_jemalloc (jemalloc_bench.cpp).
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>

#include "bench/bench_support.h"
#include "bench/mimalloc_loader.h"

namespace segsim::bench {
namespace {

void AllocSegmentUninitialized(benchmark::State& state) { segment_alloc_release(state, false); }

void AllocSegmentUninitializedNoCache(benchmark::State& state) { segment_alloc_release(state, false, false); }

void AllocGlibcMalloc(benchmark::State& state) { glibc_malloc_loop(state); }

void AllocMimalloc(benchmark::State& state) { mimalloc_malloc_loop(state); }

void AllocSegmentZeroed(benchmark::State& state) { segment_alloc_release(state, true); }

void AllocGlibcCalloc(benchmark::State& state) {
  alloc_release_loop(
      state,
      [](std::size_t bytes) {
        void* p = std::calloc(1, bytes);
        if (p == nullptr) [[unlikely]] die("calloc failed");
        return p;
      },
      [](void* p) { std::free(p); });
}

void AllocMimallocCalloc(benchmark::State& state) {
  const Mimalloc& mi = mimalloc();
  if (!mi.error.empty()) {
    state.SkipWithError(mi.error.c_str());
    return;
  }
  alloc_release_loop(
      state,
      [&mi](std::size_t bytes) {
        void* p = mi.calloc(1, bytes);
        if (p == nullptr) [[unlikely]] die("mi_calloc failed");
        return p;
      },
      [&mi](void* p) { mi.free(p); });
}

// The baseline is only a baseline if malloc really is glibc's: a stray link of
// an overriding allocator (mimalloc, jemalloc, tcmalloc) would make every
// "glibc" figure a lie.
bool glibc_malloc_is_glibcs() {
  void* (*resolved)(std::size_t) = &std::malloc;
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(resolved), &info) == 0 || info.dli_fname == nullptr) return false;
  return std::strstr(info.dli_fname, "libc.so") != nullptr;
}

const bool kBaselineChecked = [] {
  if (!glibc_malloc_is_glibcs()) die("malloc is not glibc's: an overriding allocator is linked in");
  return true;
}();

BENCHMARK(AllocSegmentUninitialized)->Apply(all_class_sizes);
BENCHMARK(AllocSegmentUninitializedNoCache)->Apply(all_class_sizes);
BENCHMARK(AllocGlibcMalloc)->Apply(all_class_sizes);
BENCHMARK(AllocMimalloc)->Apply(all_class_sizes);
BENCHMARK(AllocSegmentZeroed)->Apply(all_class_sizes);
BENCHMARK(AllocGlibcCalloc)->Apply(all_class_sizes);
BENCHMARK(AllocMimallocCalloc)->Apply(all_class_sizes);

}  // namespace
}  // namespace segsim::bench
