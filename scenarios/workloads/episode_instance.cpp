// Private instances for the policy episodes: see episode_instance.h.
#include "scenarios/workloads/episode_instance.h"

#include <string>

#include <fmt/format.h>

#include "core/assert.h"
#include "scenarios/workloads/swarm.h"

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

ClockedInstance::ClockedInstance(Stack& stack, sim::Rng& rng, std::size_t reservation_bytes,
                                 const SegmentAllocatorConfig& config, std::string_view episode)
    : clock(0, [&stack, name = std::string(episode)](const std::string& what) {
        stack.oracles.fail("exception", fmt::format("{}: its clock: {}", name, what));
      }),
      on_the_clock(&clock),
      os(make_episode_os(stack, rng, reservation_bytes, episode)),
      allocator(make_episode_allocator(stack, *os, config, episode)) {}

SegmentAllocatorConfig clocked_drill_config(sim::Rng& rng, std::size_t region_bytes, std::size_t budget_bytes) {
  SegmentAllocatorConfig config;
  config.region_bytes = region_bytes;
  config.budget_bytes = budget_bytes;
  config.thread_cache_bytes = draw_one<std::size_t>(rng, {4096, 64 * 1024, 256 * 1024, 1024 * 1024});
  config.proactive_cleanup = false;
  return config;
}

void flush_caches_as(ManualClock& clock, SegmentAllocator& allocator, std::initializer_list<std::uint32_t> threads) {
  for (const std::uint32_t thread : threads) {
    clock.act_as_thread(thread);
    allocator.flush_thread_cache();
  }
}

Segment EpisodeCalls::allocate(std::size_t bytes, std::string_view what) const {
  Result<Segment> got = allocator.allocate(bytes);
  if (!got.ok()) stack.oracles.fail("exception", fmt::format("{}: {}: {}", episode, what, got.error().describe()));
  return got.value();
}

void EpisodeCalls::release(const Segment& segment, std::string_view what) const {
  if (Status status = allocator.release(segment); !status.ok()) {
    stack.oracles.fail("exception", fmt::format("{}: {}: {}", episode, what, status.error().describe()));
  }
}

BudgetFiller::BudgetFiller(Stack& stack, SegmentAllocator& allocator, std::size_t segment_bytes,
                           std::string_view drill)
    : stack_(stack), calls_{stack, allocator, drill}, segment_bytes_(segment_bytes) {}

void BudgetFiller::take(std::size_t count, std::string_view phase) {
  std::size_t taken = 0;
  for (; taken <= count; ++taken) {
    Result<Segment> got = calls_.allocator.allocate_uninitialized(segment_bytes_);
    if (!got.ok()) break;
    held_.push_back(got.value());
  }
  if (taken != count) {
    stack_.oracles.fail("exception", fmt::format("{}: {}: the allocator gave {} segment(s) of {} B until it refused; "
                                                 "{} were free",
                                                 calls_.episode, phase, taken, segment_bytes_, count));
  }
}

void BudgetFiller::give_back(std::size_t count) {
  SEGSIM_ASSERT(count <= held_.size(), "a budget filler gives back more than it holds");
  for (std::size_t i = 0; i < count; ++i) {
    calls_.release(held_.back(), "a filler's release");
    held_.pop_back();
  }
}

}  // namespace segsim::scenarios
