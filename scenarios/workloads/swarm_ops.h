// Swarm testing over operations (DESIGN.md, "Workloads and oracles"): per
// seed a workload draws which operation kinds are on and their weights, and
// draws sizes with a bias to boundaries (class edges, ±1, the largest, 0).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "sim/random.h"

namespace segsim::scenarios {

template <std::size_t N>
class SwarmMix {
 public:
  // Each op is on with probability 0.7 (those in `always` in every run) with
  // a weight in 1..10.
  SwarmMix(sim::Rng& rng, const std::array<bool, N>& always) {
    for (std::size_t i = 0; i < N; ++i) {
      const bool on = always[i] || rng.chance(0.7);
      weights_[i] = on ? 1 + static_cast<std::uint32_t>(rng.below(10)) : 0;
      total_ += weights_[i];
    }
  }
  std::size_t pick(sim::Rng& rng) const {
    std::uint64_t at = rng.below(total_);
    for (std::size_t i = 0; i < N; ++i) {
      if (at < weights_[i]) return i;
      at -= weights_[i];
    }
    return 0;
  }
  bool enabled(std::size_t op) const { return weights_[op] != 0; }

 private:
  std::array<std::uint32_t, N> weights_{};
  std::uint64_t total_ = 0;
};

// A size in 0..max_bytes + 1: half the time an edge (0, 1, an edge ±1, the
// largest, one past it), else uniform in 1..max_bytes.
inline std::size_t boundary_size(sim::Rng& rng, std::span<const std::size_t> edges, std::size_t max_bytes) {
  if (rng.chance(0.5)) return 1 + rng.below(max_bytes);
  switch (rng.below(6)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return max_bytes;
    case 3: return max_bytes + 1;
    default: {
      const std::size_t edge = edges[rng.below(edges.size())];
      return edge - 1 + rng.below(3);  // edge - 1, edge, edge + 1
    }
  }
}

}  // namespace segsim::scenarios
