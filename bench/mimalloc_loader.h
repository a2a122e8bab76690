// mimalloc through dlopen(RTLD_LOCAL) (see alloc_bench.cpp for why it is
// never linked), shared by the benchmark files of segsim_bench.
#pragma once

#include <dlfcn.h>

#include <cstddef>
#include <string>

#include "bench/bench_support.h"

namespace segsim::bench {

struct Mimalloc {
  void* (*malloc)(std::size_t) = nullptr;
  void* (*calloc)(std::size_t, std::size_t) = nullptr;
  void (*free)(void*) = nullptr;
  std::string error;
};

inline const Mimalloc& mimalloc() {
  static const Mimalloc loaded = [] {
    Mimalloc m;
    void* handle = ::dlopen(SEGSIM_MIMALLOC_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      m.error = std::string("dlopen mimalloc: ") + ::dlerror();
      return m;
    }
    // Never dlclose'd: mimalloc keeps per-thread state until process exit.
    m.malloc = reinterpret_cast<void* (*)(std::size_t)>(::dlsym(handle, "mi_malloc"));
    m.calloc = reinterpret_cast<void* (*)(std::size_t, std::size_t)>(::dlsym(handle, "mi_calloc"));
    m.free = reinterpret_cast<void (*)(void*)>(::dlsym(handle, "mi_free"));
    if (m.malloc == nullptr || m.calloc == nullptr || m.free == nullptr) m.error = "mimalloc symbols missing";
    return m;
  }();
  return loaded;
}

// Allocate+release with glibc malloc / mimalloc (neither zeroes): the
// baselines of the Alloc and Large suites.
inline void glibc_malloc_loop(benchmark::State& state) {
  alloc_release_loop(
      state,
      [](std::size_t bytes) {
        void* p = std::malloc(bytes);
        if (p == nullptr) [[unlikely]] die("malloc failed");
        return p;
      },
      [](void* p) { std::free(p); });
}

inline void mimalloc_malloc_loop(benchmark::State& state) {
  const Mimalloc& mi = mimalloc();
  if (!mi.error.empty()) {
    state.SkipWithError(mi.error.c_str());
    return;
  }
  alloc_release_loop(
      state,
      [&mi](std::size_t bytes) {
        void* p = mi.malloc(bytes);
        if (p == nullptr) [[unlikely]] die("mi_malloc failed");
        return p;
      },
      [&mi](void* p) { mi.free(p); });
}

}  // namespace segsim::bench
