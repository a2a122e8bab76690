// invalid_configs.h: each validator's rules, each broken alone.
#include "scenarios/workloads/invalid_configs.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/id_counter.h"
#include "core/large_object_allocator.h"
#include "core/large_object_state.h"
#include "core/pressure_forecaster.h"
#include "core/segment_allocator.h"
#include "core/segment_allocator_impl.h"
#include "core/slab_allocator.h"
#include "core/slab_internal.h"
#include "core/size_class.h"
#include "scenarios/oracles/error_text.h"

namespace segsim::scenarios {

namespace {

constexpr std::size_t kKiB = 1024;
constexpr std::size_t kMiB = 1024 * kKiB;

// The limits slab_allocator.h documents for the config.
constexpr std::uint32_t kDocumentedMaxMagazine = 1024;
constexpr std::size_t kDocumentedMaxSlabs = std::size_t{1} << 24;

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

// The budget a LargeObjectAllocator needs at least: one smallest object,
// rounded up to whole granules (restated from the header, not the code's).
std::size_t smallest_large_budget(const LargeObjectAllocatorConfig& c) {
  const std::size_t smallest = LargeObjectAllocator::kMinObjectBytes;
  return (smallest + c.granule_bytes - 1) / c.granule_bytes * c.granule_bytes;
}

std::vector<Breaker<LargeObjectAllocatorConfig>> large_rules(std::size_t page_bytes) {
  return {
      [](auto& c) { c.granule_bytes = 0; },
      [page_bytes](auto& c) { c.granule_bytes = page_bytes + page_bytes / 2; },
      [](auto& c) { c.max_object_bytes = kLargestClassBytes; },  // objects start above the largest class
      [](auto& c) { c.span_bytes = 0; },
      [](auto& c) { c.span_bytes = c.granule_bytes * 3 + c.granule_bytes / 2; },
      [](auto& c) { c.budget_bytes = kLargestClassBytes; },
      [](auto& c) { c.budget_bytes = smallest_large_budget(c) - 1; },  // a byte short of one object in granules
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
void check_rule(Stack& stack, const char* component, Config config, std::size_t rule,
                const Breaker<Config>& breaker, Create& create) {
  breaker(config);
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

// Every rule, each broken alone: a refusal costs no memory, so every seed
// checks them all (one drawn rule a seed left a rule unbroken for 50 seeds).
template <class Config, class Create>
void check_rules(Stack& stack, const char* component, const Config& valid,
                 const std::vector<Breaker<Config>>& rules, Create create) {
  for (std::size_t rule = 0; rule < rules.size(); ++rule) check_rule(stack, component, valid, rule, rules[rule], create);
}

// Every SegmentAllocatorConfig rule's boundary met exactly (segment_allocator.h),
// in three configs: the smallest region and budget, a cleanup every free
// slice with a queue of one, the caches' limit exactly one largest slice, a
// page-sized madvise threshold; the largest region (128 MiB) with the caches
// off and no limit on them; the most region slots (4M: 7 classes x budget /
// region). Each is accepted: a refusal must be necessary. They live
// together with the stack's allocator, each with an id of its own
// (allocator-ids: segment_allocator.h's promise for id()).
void check_segment_boundaries_accepted(Stack& stack, std::size_t page_bytes) {
  std::set<std::uint32_t> ids_alive = {stack.allocator.id()};
  std::vector<std::unique_ptr<SegmentAllocator>> made_alive;
  SegmentAllocatorConfig tight;
  tight.region_bytes = kLargestClassBytes;
  tight.budget_bytes = kLargestClassBytes;
  tight.cleanup_every_free_slices = 1;
  tight.cleanup_queue_capacity = 1;
  tight.thread_cache_bytes = 4 * kKiB;
  tight.thread_caches_max_bytes = kLargestClassBytes;
  tight.reset_madvise_min_bytes = page_bytes;
  SegmentAllocatorConfig largest_region;
  largest_region.region_bytes = 128 * kMiB;
  largest_region.budget_bytes = 128 * kMiB;
  largest_region.thread_cache_bytes = 0;
  largest_region.thread_caches_max_bytes = 0;
  SegmentAllocatorConfig most_slots;
  most_slots.region_bytes = kLargestClassBytes;
  most_slots.budget_bytes = kLargestClassBytes * ((std::size_t{1} << 22) / kSizeClassCount);
  for (const SegmentAllocatorConfig& config : {tight, largest_region, most_slots}) {
    auto made = SegmentAllocator::create(stack.os, config);
    if (made.ok()) {
      const std::uint32_t id = made.value()->id();
      if (id == 0 || !ids_alive.insert(id).second) {
        stack.oracles.fail("allocator-ids", fmt::format("a new SegmentAllocator is allocator {}: its id is 0 or "
                                                        "another live allocator's", id));
      }
      made_alive.push_back(std::move(made.value()));
    } else {
      stack.oracles.fail("config-refusal",
                         fmt::format("SegmentAllocator::create refused a config on its rules' boundaries "
                                     "(region {} B, budget {} B, cleanup every {} slice(s), queue {}, caches {} B "
                                     "of at most {} B, madvise from {} B): {}",
                                     config.region_bytes, config.budget_bytes, config.cleanup_every_free_slices,
                                     config.cleanup_queue_capacity, config.thread_cache_bytes,
                                     config.thread_caches_max_bytes, config.reset_madvise_min_bytes,
                                     made.error().describe()));
    }
  }
}

// Every rule's boundary met exactly, at once: a refusal must be necessary.
// A page granule, the smallest max_object_bytes, a span of one granule, the
// smallest budget, and a budget of one smallest object for the default granule.
void check_large_boundaries_accepted(Stack& stack, std::size_t page_bytes) {
  LargeObjectAllocatorConfig tight;
  tight.granule_bytes = page_bytes;
  tight.max_object_bytes = LargeObjectAllocator::kMinObjectBytes;
  tight.span_bytes = page_bytes;
  tight.budget_bytes = smallest_large_budget(tight);
  tight.decommit_after_ns = 0;
  tight.decommit_check_interval_ns = 0;
  LargeObjectAllocatorConfig defaults;
  defaults.budget_bytes = smallest_large_budget(defaults);
  for (const LargeObjectAllocatorConfig& config : {tight, defaults}) {
    auto made = LargeObjectAllocator::create(stack.os, config);
    if (!made.ok()) {
      stack.oracles.fail("config-refusal",
                         fmt::format("LargeObjectAllocator::create refused a config on its rules' boundaries "
                                     "(granule {} B, max object {} B, span {} B, budget {} B): {}",
                                     config.granule_bytes, config.max_object_bytes, config.span_bytes,
                                     config.budget_bytes, made.error().describe()));
    }
  }
}

// A create() refused as when the process's ids of its kind ran out
// (IdCounter::refuse_next): OutOfMemory naming them (core/id_counter.h),
// nothing allocated. The refusal used no id: the next create() is served.
template <typename Create>
void check_ids_exhausted(Stack& stack, const char* component, detail::IdCounter& ids, Create create) {
  const std::uint64_t live_before = stack.oracles.model_live_slices();
  ids.refuse_next(1);
  auto refused = create();
  ids.refuse_next(0);  // whatever create() did
  if (refused.ok()) {
    stack.oracles.fail("config-refusal", fmt::format("{}::create made an allocator with its kind's ids exhausted", component));
  }
  check_error_text(stack.oracles, refused.error());
  if (refused.error().code != Errc::OutOfMemory || std::string_view(refused.error().detail) != detail::kIdsExhausted ||
      stack.oracles.model_live_slices() != live_before) {
    stack.oracles.fail("config-refusal",
                       fmt::format("{}::create with its kind's ids exhausted: {} ({} slice(s) live, {} before); the "
                                   "model says OutOfMemory naming the ids, nothing allocated",
                                   component, refused.error().describe(), stack.oracles.model_live_slices(), live_before));
  }
  if (auto made = create(); !made.ok()) {
    stack.oracles.fail("config-refusal", fmt::format("{}::create after one refusal for exhausted ids refused again: {}",
                                                     component, made.error().describe()));
  }
}

}  // namespace

void check_invalid_configs(Stack& stack) {
  const std::size_t page_bytes = stack.os.page_size();
  check_rules(stack, "SegmentAllocator", stack.allocator.config(), segment_rules(page_bytes),
              [&](SegmentAllocatorConfig c) { return SegmentAllocator::create(stack.os, std::move(c)); });
  check_segment_boundaries_accepted(stack, page_bytes);
  check_rules(stack, "LargeObjectAllocator", LargeObjectAllocatorConfig{}, large_rules(page_bytes),
              [&](LargeObjectAllocatorConfig c) { return LargeObjectAllocator::create(stack.os, std::move(c)); });
  check_large_boundaries_accepted(stack, page_bytes);
  SegmentAllocatorConfig unobserved = stack.allocator.config();
  unobserved.observer = nullptr;  // the run's model follows the run's allocator only
  check_ids_exhausted(stack, "SegmentAllocator", detail::segment_allocator_ids(),
                      [&] { return SegmentAllocator::create(stack.os, unobserved); });
  check_rules(stack, "PressureForecaster", PressureForecasterConfig{}, forecaster_rules(),
              [](PressureForecasterConfig c) { return PressureForecaster::create(std::move(c)); });
}

void check_large_ids_exhausted(Stack& stack) {
  check_ids_exhausted(stack, "LargeObjectAllocator", detail::large_allocator_ids(),
                      [&] { return LargeObjectAllocator::create(stack.os, LargeObjectAllocatorConfig{}); });
}

void check_slab_configs(Stack& stack, const SlabAllocatorConfig& valid, sim::Rng& rng) {
  using Breaker = std::function<void(SlabAllocatorConfig&)>;
  const std::size_t magazine_class = rng.below(kSlabClassCount);
  const std::vector<std::pair<const char*, Breaker>> rules = {
      {"slab_bytes 0", [](auto& c) { c.slab_bytes = 0; }},
      {"slab_bytes 2048, a class below 4 KiB", [](auto& c) { c.slab_bytes = 2048; }},
      {"slab_bytes 4160, no class size", [](auto& c) { c.slab_bytes = 4096 + 64; }},
      {"slab_bytes 12288, no class size", [](auto& c) { c.slab_bytes = 3 * 4096; }},
      {"slab_bytes past the largest class", [](auto& c) { c.slab_bytes = kLargestClassBytes + 1; }},
      {"magazine_capacity 0", [=](auto& c) { c.magazine_capacity[magazine_class] = 0; }},
      {"magazine_capacity 1025", [=](auto& c) { c.magazine_capacity[magazine_class] = kDocumentedMaxMagazine + 1; }},
      {"max_slabs 0", [](auto& c) { c.max_slabs = 0; }},
      {"max_slabs 2^24 + 1", [](auto& c) { c.max_slabs = kDocumentedMaxSlabs + 1; }},
  };
  for (const auto& [rule, breaker] : rules) {
    SlabAllocatorConfig bad = valid;
    bad.observer = nullptr;
    breaker(bad);
    const std::uint64_t live_before = stack.oracles.model_live_slices();
    auto refused = SlabAllocator::create(stack.allocator, bad);
    if (refused) stack.oracles.fail("slab-refusal", fmt::format("SlabAllocator::create accepted {}", rule));
    check_error_text(stack.oracles, refused.error());
    if (refused.error().code != Errc::InvalidConfig || stack.oracles.model_live_slices() != live_before) {
      stack.oracles.fail("slab-refusal", fmt::format("{}: {}; the model says InvalidConfig, nothing allocated", rule,
                                                     refused.error().describe()));
    }
  }
  // Each documented limit itself is accepted: a rule off by one refuses it.
  // The largest max_slabs makes a 128 MiB slot table: one seed in eight.
  std::vector<std::pair<const char*, Breaker>> limits = {
      {"slab_bytes 4 KiB", [](auto& c) { c.slab_bytes = 4096; }},
      {"slab_bytes of the largest class", [](auto& c) { c.slab_bytes = kLargestClassBytes; }},
      {"magazine_capacity 1", [=](auto& c) { c.magazine_capacity[magazine_class] = 1; }},
      {"magazine_capacity 1024", [=](auto& c) { c.magazine_capacity[magazine_class] = kDocumentedMaxMagazine; }},
      {"max_slabs 1", [](auto& c) { c.max_slabs = 1; }},
  };
  SlabAllocatorConfig unobserved = valid;
  unobserved.observer = nullptr;
  check_ids_exhausted(stack, "SlabAllocator", detail::slab_allocator_ids(),
                      [&] { return SlabAllocator::create(stack.allocator, unobserved); });
  if (rng.below(8) == 0) limits.emplace_back("max_slabs 2^24", [](auto& c) { c.max_slabs = kDocumentedMaxSlabs; });
  for (const auto& [limit, setter] : limits) {
    SlabAllocatorConfig edge = valid;
    edge.observer = nullptr;
    setter(edge);
    auto made = SlabAllocator::create(stack.allocator, edge);
    if (!made) {
      stack.oracles.fail("slab-refusal", fmt::format("SlabAllocator::create refused {}, a documented limit: {}", limit,
                                                     made.error().describe()));
    }
  }
}

}  // namespace segsim::scenarios
