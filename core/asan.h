// Poisoning of free slices under AddressSanitizer (no-ops without it), so a
// read or write of a released segment is reported at the faulting access.
#pragma once

#include <cstddef>

#include "core/sanitizers.h"

#if defined(SEGSIM_HAS_ASAN)
#include <sanitizer/asan_interface.h>
#endif

namespace segsim::asan {

inline constexpr bool kEnabled =
#if defined(SEGSIM_HAS_ASAN)
    true;
#else
    false;
#endif

inline void poison(const void* addr, std::size_t bytes) noexcept {
#if defined(SEGSIM_HAS_ASAN)
  __asan_poison_memory_region(addr, bytes);
#else
  (void)addr;
  (void)bytes;
#endif
}

inline void unpoison(const void* addr, std::size_t bytes) noexcept {
#if defined(SEGSIM_HAS_ASAN)
  __asan_unpoison_memory_region(addr, bytes);
#else
  (void)addr;
  (void)bytes;
#endif
}

inline bool is_poisoned(const void* addr) noexcept {
#if defined(SEGSIM_HAS_ASAN)
  return __asan_address_is_poisoned(addr) != 0;
#else
  (void)addr;
  return false;
#endif
}

}  // namespace segsim::asan
