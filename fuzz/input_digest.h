// InputDigest: what an input did, as one number, for the determinism check
// of the stack targets (ci/fuzz_determinism.sh): with SEGSIM_FUZZ_DIGEST set,
// fuzz_alloc_ops and fuzz_leaf_page print `digest <hex>` after each input —
// FNV-1a over the allocator's stats() after every step (and the pool's and
// the cache's counters, and the live segments' sizes and end bytes), never an
// address. The same input must print the same digest whether it runs first
// in a process or after a thousand others: state carried between inputs
// (recycled mappings, the per-process SimOs, allocator ids) must not change
// what an input does. Off (the default): one predictable branch per step.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "core/allocator_stats.h"

namespace segsim::fuzzing {

class InputDigest {
 public:
  static bool enabled() {
    static const bool on = std::getenv("SEGSIM_FUZZ_DIGEST") != nullptr;
    return on;
  }

  void add_bytes(const void* data, std::size_t bytes) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < bytes; ++i) hash_ = (hash_ ^ p[i]) * 0x100000001b3ULL;
  }
  void add(std::uint64_t value) { add_bytes(&value, sizeof value); }
  // Plain structs of 64-bit counters only (no padding, no pointers).
  template <class Counters>
  void add_counters(const Counters& counters) {
    static_assert(std::is_trivially_copyable_v<Counters> && sizeof(Counters) % 8 == 0);
    add_bytes(&counters, sizeof counters);
  }
  void print(const char* target) const {
    std::fprintf(stderr, "%s: digest %016llx\n", target, static_cast<unsigned long long>(hash_));
  }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

}  // namespace segsim::fuzzing
