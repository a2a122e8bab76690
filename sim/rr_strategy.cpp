#include "sim/rr_strategy.h"

namespace segsim::sim {

std::unique_ptr<Strategy> make_rr_strategy(std::uint64_t quantum) {
  return std::make_unique<RoundRobinStrategy>(quantum);
}

}  // namespace segsim::sim
