// invalid_configs.h: each validator's rules, one broken at a time.
#include "scenarios/workloads/invalid_configs.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/large_object_allocator.h"
#include "core/pressure_forecaster.h"
#include "core/segment_allocator.h"
#include "core/size_class.h"
#include "scenarios/oracles/error_text.h"

namespace segsim::scenarios {

namespace {

constexpr std::size_t kKiB = 1024;
constexpr std::size_t kMiB = 1024 * kKiB;

template <class Config>
using Breaker = std::function<void(Config&)>;

// Rules of SegmentAllocatorConfig (segment_allocator.h), each broken alone.
std::vector<Breaker<SegmentAllocatorConfig>> segment_rules(std::size_t page_bytes) {
  return {
      [](auto& c) { c.region_bytes = kLargestClassBytes - 4 * kKiB; },  // below the largest class
      [](auto& c) { c.region_bytes = kLargestClassBytes + kLargestClassBytes / 2; },
      [](auto& c) { c.region_bytes = 128 * kMiB + kLargestClassBytes; c.budget_bytes = c.region_bytes; },
      [](auto& c) { c.budget_bytes = c.region_bytes / 2; },
      [](auto& c) { c.budget_bytes = c.region_bytes * 3 + c.region_bytes / 2; },
      [](auto& c) { c.budget_bytes = c.region_bytes * ((std::size_t{1} << 22) / kSizeClassCount + 1); },  // slots
      [](auto& c) { c.cleanup_every_free_slices = 0; },
      [](auto& c) { c.cleanup_queue_capacity = 0; },
      [page_bytes](auto& c) { c.reset_madvise_min_bytes = page_bytes + 1; },
  };
}

std::vector<Breaker<LargeObjectAllocatorConfig>> large_rules(std::size_t page_bytes) {
  return {
      [](auto& c) { c.granule_bytes = 0; },
      [page_bytes](auto& c) { c.granule_bytes = page_bytes + page_bytes / 2; },
      [](auto& c) { c.max_object_bytes = kLargestClassBytes; },  // objects start above the largest class
      [](auto& c) { c.span_bytes = 0; },
      [](auto& c) { c.span_bytes = c.granule_bytes * 3 + c.granule_bytes / 2; },
      [](auto& c) { c.budget_bytes = kLargestClassBytes; },
      [](auto& c) { c.decommit_after_ns = -1; },
      [](auto& c) { c.decommit_check_interval_ns = -1; },
  };
}

std::vector<Breaker<PressureForecasterConfig>> forecaster_rules() {
  return {
      [](auto& c) { c.thresholds.warning = 0; },
      [](auto& c) { c.thresholds.high = c.thresholds.warning; },
      [](auto& c) { c.thresholds.critical = c.thresholds.high; },
      [](auto& c) { c.thresholds.emergency = c.thresholds.critical; },
      [](auto& c) { c.thresholds.emergency = 1.01; },
      [](auto& c) { c.window_samples = 1; },
      [](auto& c) { c.full_confidence_samples = 0; },
      [](auto& c) { c.stable_band = -0.001; },
      [](auto& c) { c.stable_band = c.increasing_max; },
      [](auto& c) { c.min_confidence = -0.01; },
      [](auto& c) { c.min_confidence = 1.01; },
      [](auto& c) { c.action_horizon_ns = 0; },
  };
}

template <class Config, class Create>
void check_one(Stack& stack, sim::Rng& rng, const char* component, Config config,
               const std::vector<Breaker<Config>>& rules, Create create) {
  const std::size_t rule = rng.below(rules.size());
  rules[rule](config);
  const std::size_t live_before = stack.oracles.model_live_slices();
  auto refused = create(std::move(config));
  if (refused.ok()) stack.oracles.fail("config-refusal", fmt::format("{}::create accepted a config breaking rule {}", component, rule));
  if (refused.error().code != Errc::InvalidConfig || std::string_view(refused.error().detail).empty()) {
    stack.oracles.fail("config-refusal", fmt::format("{}::create refused rule {} with '{}'; the model says InvalidConfig "
                                                     "naming the rule", component, rule, refused.error().describe()));
  }
  check_error_text(stack.oracles, refused.error());
  if (stack.oracles.model_live_slices() != live_before) {
    stack.oracles.fail("config-refusal", fmt::format("{}::create refused rule {} and kept segments", component, rule));
  }
}

}  // namespace

void check_invalid_configs(Stack& stack, sim::Rng& rng) {
  const std::size_t page_bytes = stack.os.page_size();
  check_one(stack, rng, "SegmentAllocator", stack.allocator.config(), segment_rules(page_bytes),
            [&](SegmentAllocatorConfig c) { return SegmentAllocator::create(stack.os, std::move(c)); });
  check_one(stack, rng, "LargeObjectAllocator", LargeObjectAllocatorConfig{}, large_rules(page_bytes),
            [&](LargeObjectAllocatorConfig c) { return LargeObjectAllocator::create(stack.os, std::move(c)); });
  check_one(stack, rng, "PressureForecaster", PressureForecasterConfig{}, forecaster_rules(),
            [](PressureForecasterConfig c) { return PressureForecaster::create(std::move(c)); });
}

}  // namespace segsim::scenarios
