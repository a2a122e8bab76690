// mimalloc for the benchmarks, reached through dlopen(RTLD_LOCAL) rather
// than linked (see alloc_bench.cpp: Debian's build overrides malloc when
// linked). Shared by the Alloc and Slab/Arena suites.
#pragma once

#include <dlfcn.h>

#include <cstddef>
#include <string>

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

}  // namespace segsim::bench
