#include "sim/random_strategy.h"

namespace segsim::sim {

std::unique_ptr<Strategy> make_random_strategy(std::uint64_t seed) {
  return std::make_unique<RandomStrategy>(seed);
}

}  // namespace segsim::sim
