// Process-wide identities that never repeat (allocator ids).
//
// Promises:
//  * take() hands out 1, 2, 3, … up to UINT32_MAX, each once in the process,
//    from any thread; after UINT32_MAX it answers 0 for ever (exhausted): the
//    caller refuses to make its object (OutOfMemory, kIdsExhausted). 0 is
//    never an id.
//  * skip_to(next) moves the next id forward to `next`, never back (an id
//    skipped is never issued), so no id repeats: how a test reaches the end.
//  * refuse_next(n): the next n take()s answer 0, as if exhausted, and use no
//    id; 0 disarms. How the harness drills its callers' refusal in a process
//    that must go on making objects (a sweep worker's next seed).
//
// Why never repeat: a handle carries its allocator's id, and thread caches
// key their tables by it and keep a dead allocator's entry until their next
// lookup, so an id issued again would let that entry serve the new allocator
// (and a dead allocator's handle pass for the new one's).
#pragma once

#include <atomic>
#include <cstdint>

namespace segsim::detail {

inline constexpr char kIdsExhausted[] =
    "allocator ids exhausted: 2^32 - 1 allocators of this kind were made in this process, and an id is never issued "
    "twice";

class IdCounter {
 public:
  // `first`: the next id to hand out (1 in the process's counters; a test
  // starts near the end).
  explicit constexpr IdCounter(std::uint32_t first = 1) noexcept : next_(first) {}

  void skip_to(std::uint32_t next) noexcept {
    std::uint32_t now = next_.load(std::memory_order_relaxed);
    while (now != 0 && now < next && !next_.compare_exchange_weak(now, next, std::memory_order_relaxed)) {
    }
  }

  void refuse_next(std::uint32_t takes) noexcept { refusals_.store(takes, std::memory_order_relaxed); }

  std::uint32_t take() noexcept {
    for (std::uint32_t armed = refusals_.load(std::memory_order_relaxed); armed != 0;) {
      if (refusals_.compare_exchange_weak(armed, armed - 1, std::memory_order_relaxed)) return 0;
    }
    std::uint32_t id = next_.load(std::memory_order_relaxed);
    do {
      if (id == 0) return 0;  // exhausted: UINT32_MAX was handed out, and next_ wrapped to 0
    } while (!next_.compare_exchange_weak(id, id + 1, std::memory_order_relaxed));
    return id;
  }

 private:
  std::atomic<std::uint32_t> next_;
  std::atomic<std::uint32_t> refusals_{0};  // refuse_next()
};

}  // namespace segsim::detail
