// The rarer calls on a run's shared stack — explicit cache removal, handle
// moves and keys, lookups of live segments, the cache's, pool's and
// allocator's stats — made by the page scenarios between the steps of their
// main path. Which calls are on, and how often, is drawn per seed (swarm over
// operations; the main path is always on). Every answer is checked: against
// the harness's ownership model where the call ran alone, else against what
// any interleaving allows (counters never go back, bounds hold).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "scenarios/stack.h"
#include "scenarios/workloads/swarm.h"
#include "sim/random.h"

namespace segsim::scenarios {

class StackOps {
 public:
  // Draws the mix from the seed and `scenario`'s name, its own random stream
  // per client: the main path's draws stay what they were. Off: never calls.
  StackOps(Stack& stack, std::string_view scenario, std::uint32_t index, bool on = true);

  // Between two steps of the main path: at most one rare call. `held`: live
  // segments the caller holds (looked up by their start).
  void between(std::span<const Segment> held = {});

 private:
  void erase();
  void cache_stats();
  void pool_stats();
  void allocator_stats();
  void lookup_pinned(bool move);
  void lookup_held(std::span<const Segment> held);
  std::uint64_t published_id();  // 0: nothing published yet

  Stack& stack_;
  bool on_;
  sim::Rng rng_;
  OpMix mix_;
  PageCacheStats last_cache_{};
  LeafPagePoolStats last_pool_{};
  AllocatorStats last_allocator_{};  // this fiber's last stats() snapshot (all zero before)
};

}  // namespace segsim::scenarios
