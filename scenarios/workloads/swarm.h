// Swarm testing over operations (Groce et al., ISSTA 2012): per seed, each
// scenario draws which of its operation kinds are on and their weights, so
// different seeds stress different mixes — an operation that masks a bug by
// its sheer frequency is off in some runs. Sizes are drawn with a bias to the
// boundaries where off-by-one mistakes live.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "sim/random.h"

namespace segsim::scenarios {

class OpMix {
 public:
  // `kinds` operation kinds; each is on with probability 1/2 (those in
  // `always_on` always), with a weight in 1..8. At least one kind is on.
  OpMix(sim::Rng& rng, std::size_t kinds, std::initializer_list<std::size_t> always_on = {});
  bool enabled(std::size_t kind) const { return weights_.at(kind) != 0; }
  // A kind drawn by weight among the enabled ones.
  std::size_t pick(sim::Rng& rng) const;
  // "kind:weight ..." for traces and reports.
  std::string describe(const std::vector<std::string>& names) const;

 private:
  std::vector<std::uint32_t> weights_;
  std::uint32_t total_ = 0;
};

// A size in [lo, hi]: half the time uniform, half the time one of the edges
// (lo, hi, and each edge in `edges` -1, exactly, +1, clipped to [lo, hi]).
std::size_t draw_size(sim::Rng& rng, std::size_t lo, std::size_t hi, std::span<const std::size_t> edges);
inline std::size_t draw_size(sim::Rng& rng, std::size_t lo, std::size_t hi,
                             std::initializer_list<std::size_t> edges = {}) {
  return draw_size(rng, lo, hi, std::span<const std::size_t>(edges.begin(), edges.size()));
}
// Requests for SegmentAllocator::allocate: 0 and the largest class + 1
// (refused) now and then, class edges ±1 often, uniform otherwise.
std::size_t draw_allocation_bytes(sim::Rng& rng, std::size_t max_bytes);
// One of `choices`, uniformly.
template <class T>
T draw_one(sim::Rng& rng, std::initializer_list<T> choices) {
  return *(choices.begin() + rng.below(choices.size()));
}

}  // namespace segsim::scenarios
