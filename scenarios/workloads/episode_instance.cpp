// Private instances for the policy episodes: see episode_instance.h.
#include "scenarios/workloads/episode_instance.h"

#include <fmt/format.h>

namespace segsim::scenarios {

std::unique_ptr<faults::SimOs> make_episode_os(Stack& stack, sim::Rng& rng, std::size_t reservation_bytes,
                                               std::string_view episode) {
  faults::SimOsConfig config;
  config.reservation_bytes = reservation_bytes;
  config.seed = rng.next();
  auto os = faults::SimOs::create(config);
  if (!os.ok()) stack.oracles.fail("exception", fmt::format("{} episode: SimOs: {}", episode, os.error().describe()));
  return std::move(os.value());
}

std::unique_ptr<SegmentAllocator> make_episode_allocator(Stack& stack, faults::SimOs& os,
                                                         const SegmentAllocatorConfig& config,
                                                         std::string_view episode) {
  auto allocator = SegmentAllocator::create(os, config);
  if (!allocator.ok()) {
    stack.oracles.fail("exception", fmt::format("{} episode: allocator: {}", episode, allocator.error().describe()));
  }
  return std::move(allocator.value());
}

}  // namespace segsim::scenarios
