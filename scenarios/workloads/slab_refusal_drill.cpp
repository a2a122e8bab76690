// The slab segment-refusal drill: see slab_refusal_drill.h.
#include "scenarios/workloads/slab_refusal_drill.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "core/fault_point.h"
#include "core/fault_point_controllers.h"
#include "core/size_class.h"
#include "core/slab_allocator.h"
#include "scenarios/oracles/error_text.h"
#include "scenarios/workloads/episode_instance.h"

namespace segsim::scenarios {

namespace {

constexpr char kDrill[] = "slab segment-refusal drill";
// A slab, a region and every segment the drill holds: one size.
constexpr std::size_t kSlabBytes = kLargestClassBytes;

class Drill {
 public:
  Drill(Stack& stack, SegmentAllocator& segments, SlabAllocator& slab, std::size_t size_class)
      : stack_(stack), segments_(segments), slab_(slab), fillers_(stack, segments, kSlabBytes, kDrill), class_(size_class),
        per_slab_(slab.stats().classes[size_class].objects_per_slab) {
    if (per_slab_ == 0) {
      stack_.oracles.fail("exception", fmt::format("{}: class {} has no object per slab", kDrill, class_));
    }
  }

  BudgetFiller& fillers() { return fillers_; }

  // Step 1: every object `slabs` slabs hold, each once, then the refusal.
  void allocate_until_refused(std::size_t slabs, sim::Rng& rng) {
    const std::size_t due = slabs * per_slab_;
    const std::size_t bytes = object_bytes(rng);
    std::set<const std::byte*> seen;
    for (std::size_t i = 0; i < due; ++i) {
      Result<SlabObject> got = slab_.allocate(bytes);
      if (!got.ok()) {
        stack_.oracles.fail("slab-refusal", fmt::format("{}: allocate({}) number {} refused ({}); {} slab(s) of {} "
                                                        "objects fit the budget left",
                                                        kDrill, bytes, i + 1, got.error().describe(), slabs,
                                                        per_slab_));
      }
      if (!seen.insert(got.value().data()).second) {
        stack_.oracles.fail("slab-refusal", fmt::format("{}: allocation number {} handed out a live object again",
                                                        kDrill, i + 1));
      }
      live_.push_back(got.value());
    }
    expect_refused(bytes, fmt::format("after the {} objects of {} slab(s)", due, slabs));
  }

  // Step 2: one object freed, one allocation granted; step 3: one segment
  // more, one allocation granted from a new slab.
  void grant_after_refusal(sim::Rng& rng) {
    const std::size_t which = rng.below(live_.size());
    if (Status freed = slab_.free(live_[which]); !freed.ok()) {
      stack_.oracles.fail("slab-refusal", fmt::format("{}: free of a live object: {}", kDrill, freed.error().describe()));
    }
    live_.erase(live_.begin() + static_cast<std::ptrdiff_t>(which));
    allocate_granted(rng, "one object freed");
    expect_refused(object_bytes(rng), "the freed object taken again");
    const std::size_t slabs_before = slab_.stats().classes[class_].slabs;
    fillers_.give_back(1);
    allocate_granted(rng, "one segment given back");
    if (const std::size_t slabs = slab_.stats().classes[class_].slabs; slabs != slabs_before + 1) {
      stack_.oracles.fail("slab-accounting", fmt::format("{}: the allocation after a segment was given back left "
                                                         "class {} with {} slab(s); {} were due",
                                                         kDrill, class_, slabs, slabs_before + 1));
    }
  }

  // Everything freed and flushed; `slab_` is destroyed by the caller next.
  // The depot keeps no full magazine (the drill's config), so every object
  // is back on its slab and every slab of the class empty: the class keeps
  // empty_slabs_kept of them, the rest go back to the segment allocator.
  void free_all() {
    const SlabStats before = slab_.stats();
    const std::size_t slabs = before.classes[class_].slabs;
    for (const SlabObject& object : live_) {
      if (Status freed = slab_.free(object); !freed.ok()) {
        stack_.oracles.fail("slab-refusal", fmt::format("{}: free at the end: {}", kDrill, freed.error().describe()));
      }
    }
    live_.clear();
    slab_.flush_thread_cache();
    const SlabStats after = slab_.stats();
    const SlabClassStats& now = after.classes[class_];
    const std::size_t kept = std::min(slabs, slab_.config().empty_slabs_kept);
    if (now.slabs != kept || now.empty_slabs != kept || after.slabs_released - before.slabs_released != slabs - kept) {
      stack_.oracles.fail("slab-accounting",
                          fmt::format("{}: every object of class {}'s {} slab(s) freed and flushed: {} slab(s) left, "
                                      "{} empty, {} given back; with empty_slabs_kept {}, {} kept and {} given back "
                                      "were due",
                                      kDrill, class_, slabs, now.slabs, now.empty_slabs,
                                      after.slabs_released - before.slabs_released, slab_.config().empty_slabs_kept,
                                      kept, slabs - kept));
    }
  }

  // After the slab allocator's destruction: the drill's segments alone are live.
  void check_slabs_returned() {
    const std::size_t live = segments_.stats().live_slices();
    if (live != fillers_.held()) {
      stack_.oracles.fail("slab-accounting", fmt::format("{}: with the slab allocator destroyed the segment "
                                                         "allocator holds {} live segment(s); the drill's are {}",
                                                         kDrill, live, fillers_.held()));
    }
    fillers_.give_back(fillers_.held());
  }

 private:
  // A size of the drill's class: its largest, or one past the class below.
  std::size_t object_bytes(sim::Rng& rng) const {
    const std::size_t largest = slab_class_bytes(class_);
    const std::size_t least = class_ == 0 ? 1 : slab_class_bytes(class_ - 1) + 1;
    return rng.chance(0.5) ? largest : least;
  }

  void allocate_granted(sim::Rng& rng, std::string_view after) {
    Result<SlabObject> got = slab_.allocate(object_bytes(rng));
    if (!got.ok()) {
      stack_.oracles.fail("slab-refusal", fmt::format("{}: {}: the next allocation was refused: {}", kDrill, after,
                                                      got.error().describe()));
    }
    live_.push_back(got.value());
  }

  // The segment allocator's refusal passed on; nothing changed but one slab
  // failure more.
  void expect_refused(std::size_t bytes, std::string_view when) {
    const SlabStats before = slab_.stats();
    Result<SlabObject> got = slab_.allocate(bytes);
    if (got.ok()) {
      stack_.oracles.fail("slab-refusal", fmt::format("{}: {}: allocate({}) succeeded with no object free in the "
                                                      "class and no segment in the budget",
                                                      kDrill, when, bytes));
    }
    check_error_text(stack_.oracles, got.error());
    if (got.error().code != Errc::OutOfBudget) {
      stack_.oracles.fail("slab-refusal", fmt::format("{}: {}: allocate({}) refused as {}; due the segment "
                                                      "allocator's OutOfBudget",
                                                      kDrill, when, bytes, got.error().describe()));
    }
    const SlabStats after = slab_.stats();
    const SlabClassStats& was = before.classes[class_];
    const SlabClassStats& now = after.classes[class_];
    if (after.slab_failures != before.slab_failures + 1 || now.slabs != was.slabs ||
        now.live_objects != was.live_objects || now.slab_free_objects != was.slab_free_objects ||
        after.cached_objects() != before.cached_objects() || after.slabs_acquired != before.slabs_acquired) {
      stack_.oracles.fail("slab-accounting",
                          fmt::format("{}: {}: a refused allocate({}) moved stats(): slab_failures {} -> {} (due +1), "
                                      "slabs {} -> {}, live objects {} -> {}, free on slabs {} -> {}, cached {} -> {}",
                                      kDrill, when, bytes, before.slab_failures, after.slab_failures, was.slabs,
                                      now.slabs, was.live_objects, now.live_objects, was.slab_free_objects,
                                      now.slab_free_objects, before.cached_objects(), after.cached_objects()));
    }
  }

  Stack& stack_;
  SegmentAllocator& segments_;
  SlabAllocator& slab_;
  BudgetFiller fillers_;
  const std::size_t class_;
  const std::size_t per_slab_;
  std::vector<SlabObject> live_;
};

}  // namespace

void run_slab_refusal_drill(Stack& stack, sim::Rng& rng) {
  fault_points::ControllerScope quiet(nullptr);  // no fault point may steer what the drill predicts
  const std::size_t regions = 3 + rng.below(3);
  auto os = make_episode_os(stack, rng, 2 * regions * kSlabBytes, kDrill);
  SegmentAllocatorConfig segment_config;
  segment_config.region_bytes = kSlabBytes;
  segment_config.budget_bytes = regions * kSlabBytes;
  segment_config.proactive_cleanup = false;
  if (rng.chance(0.5)) segment_config.thread_cache_bytes = 0;
  auto segments = make_episode_allocator(stack, *os, segment_config, kDrill);
  SlabAllocatorConfig slab_config;
  slab_config.slab_bytes = kSlabBytes;
  slab_config.empty_slabs_kept = rng.below(3);
  slab_config.depot_full_magazines_max = 0;  // flushed magazines drain to their slabs (free_all)
  auto slab = SlabAllocator::create(*segments, slab_config);
  if (!slab.ok()) stack.oracles.fail("exception", fmt::format("{}: slab: {}", kDrill, slab.error().describe()));
  Drill drill(stack, *segments, *slab.value(), rng.below(kSlabClassCount));
  drill.fillers().take(regions, "filling the budget");
  const std::size_t slabs = 1 + rng.below(regions - 2);  // one segment left to give back in step 3
  drill.fillers().give_back(slabs);
  drill.allocate_until_refused(slabs, rng);
  drill.grant_after_refusal(rng);
  drill.free_all();
  slab.value().reset();
  drill.check_slabs_returned();
}

}  // namespace segsim::scenarios
