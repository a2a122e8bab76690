// GenerationCounter: where a pool of handles draws its generations.
//
// What it promises:
//  * Never 0 (0 marks a free slot): the counter wraps from 2^32 - 1 to 1.
//  * Unique until the wrap: take() and take_block() never hand out a
//    generation twice in 2^32 - 1 draws, and a block never straddles the wrap.
//  * The wrap within reach: at the counter's first draw the fault point
//    generation.near_wrap moves it just below the wrap (three draws, or one
//    block, before it), so a run reaches what 2^32 allocations would. Nothing
//    was handed out under the generations skipped, so no stale handle can
//    match one handed out again.
//
// Not thread-safe: the pool's lock guards it.
#pragma once

#include <cstdint>

#include "core/assert.h"
#include "core/fault_point.h"

namespace segsim::detail {

class GenerationCounter {
 public:
  // One generation; `wrapped` tells whether the counter went past the wrap.
  std::uint32_t take(bool& wrapped) {
    start(UINT32_MAX - 2);
    SEGSIM_ASSERT(next_ != 0, "generation 0 (free) about to be handed out");
    const std::uint32_t generation = next_++;
    wrapped = next_ == 0;
    if (wrapped) next_ = 1;
    return generation;
  }

  // The first of `count` consecutive generations; `wrapped` tells whether the
  // block starts over at 1 because the rest before the wrap was too short.
  std::uint32_t take_block(std::uint32_t count, bool& wrapped) {
    SEGSIM_ASSERT(count > 0 && count < UINT32_MAX / 2, "a generation block of unreasonable size");
    start(UINT32_MAX - count);
    wrapped = next_ > UINT32_MAX - count;
    if (wrapped) next_ = 1;
    const std::uint32_t first = next_;
    next_ += count;
    return first;
  }

 private:
  void start(std::uint32_t near_wrap) {
    if (started_) return;
    started_ = true;
    SEGSIM_ASSERT(next_ == 1, "generations drawn before the counter's first draw");
    if (SEGSIM_FAULT_POINT("generation.near_wrap")) next_ = near_wrap;
  }

  std::uint32_t next_ = 1;
  bool started_ = false;  // generation.near_wrap was asked
};

}  // namespace segsim::detail
