// cleanup-cadence: see cleanup_cadence.h.
#include "scenarios/oracles/cleanup_cadence.h"

#include <fmt/format.h>

#include "core/assert.h"
#include "core/size_class.h"

namespace segsim::scenarios {

CleanupCadenceModel::CleanupCadenceModel(Oracles& oracles, const SegmentAllocatorConfig& config)
    : oracles_(oracles), config_(config) {
  SEGSIM_ASSERT(config.thread_cache_bytes == 0, "the cleanup-cadence model of an allocator with thread caches");
  SEGSIM_ASSERT(config.cleanup_every_free_slices > 0, "a cleanup period of zero slices");
}

void CleanupCadenceModel::fail(const char* call, const std::string& what) {
  oracles_.fail("cleanup-cadence", fmt::format("call {} ({}): {}", calls_, call, what));
}

bool CleanupCadenceModel::due(std::size_t free) const {
  const std::size_t start = config_.cleanup_start_free_slices;
  return config_.proactive_cleanup && free > start && (free - start) % config_.cleanup_every_free_slices == 0;
}

std::size_t CleanupCadenceModel::free_slices(int size_class) const {
  const std::size_t per_region = config_.region_bytes / class_bytes(static_cast<std::size_t>(size_class));
  std::size_t free = 0;
  for (const auto& [id, region] : regions_) {
    if (region.active && region.size_class == size_class) free += per_region - region.live;
  }
  return free;
}

std::size_t CleanupCadenceModel::releases_to_next_due(int size_class) const {
  if (!config_.proactive_cleanup) return 0;
  const std::size_t free = free_slices(size_class);
  for (std::size_t n = 1; n <= config_.cleanup_start_free_slices + config_.cleanup_every_free_slices + 1; ++n) {
    if (due(free + n)) return n;
  }
  return 0;
}

void CleanupCadenceModel::allocated(const Segment& got, const AllocatorStats& after) {
  ++calls_;
  const bool known = regions_.count(got.region_id()) != 0;
  RegionModel& region = regions_[got.region_id()];
  if (!region.active) {  // mapped, or reused from the freed queue
    if (known) ++regions_reused_;
    region = RegionModel{got.size_class(), 0, true};
  }
  if (region.size_class != got.size_class()) {
    fail("allocate", fmt::format("a class-{} slice handed out of region {}, which holds class {}", got.size_class(),
                                 got.region_id(), region.size_class));
  }
  ++region.live;
  check("allocate", after);
}

void CleanupCadenceModel::released(const Segment& segment, const AllocatorStats& before, const AllocatorStats& after) {
  note_release(segment, before, after);
  check("release", after);
}

void CleanupCadenceModel::released_together(const Segment& first, const Segment& second,
                                            const AllocatorStats& before, const AllocatorStats& after) {
  SEGSIM_ASSERT(first.size_class() != second.size_class(), "two releases together of one class");
  note_release(first, before, after);
  note_release(second, before, after);
  check("two releases together", after);
}

void CleanupCadenceModel::note_release(const Segment& segment, const AllocatorStats& before,
                                       const AllocatorStats& after) {
  ++calls_;
  const auto c = static_cast<std::size_t>(segment.size_class());
  auto it = regions_.find(segment.region_id());
  SEGSIM_ASSERT(it != regions_.end() && it->second.live > 0, "the model releases a slice it never saw handed out");
  --it->second.live;
  const std::size_t free = free_slices(segment.size_class());
  const SizeClassStats& b = before.classes[c];
  const SizeClassStats& a = after.classes[c];
  const std::uint64_t attempts_after = a.cleanups_started + a.cleanups_refused;
  const std::uint64_t made = attempts_after - attempts_[c];
  const bool idle_before = b.cleanups_finished == b.cleanups_started;
  if (a.cleanups_finished != a.cleanups_started) {
    fail("release", fmt::format("{} cleanup(s) started, {} finished after wait_for_cleanups()", a.cleanups_started,
                                a.cleanups_finished));
  }
  bool started = false;
  if (!due(free)) {
    if (made != 0) {
      fail("release", fmt::format("a release that left {} free {} KiB slices started a cleanup (start {}, every {}): "
                                  "none was due",
                                  free, class_bytes(c) / 1024, config_.cleanup_start_free_slices,
                                  config_.cleanup_every_free_slices));
    }
  } else if (idle_before && made != 1) {
    fail("release", fmt::format("a release that left {} free {} KiB slices (start {}, every {}) started {} cleanups "
                                "with none in flight: one was due",
                                free, class_bytes(c) / 1024, config_.cleanup_start_free_slices,
                                config_.cleanup_every_free_slices, made));
  } else if (made > 1) {
    fail("release", fmt::format("a release started {} cleanups of one class", made));
  } else {
    started = made == 1 && a.cleanups_started > b.cleanups_started;
  }
  attempts_[c] = attempts_after;
  if (started) {  // it ran: the class's regions with no live slice are released
    for (auto& [id, region] : regions_) {
      if (region.active && region.size_class == segment.size_class() && region.live == 0) region.active = false;
    }
  }
}

void CleanupCadenceModel::check(const char* call, const AllocatorStats& after) {
  if (after.regions_unmapped != 0) {
    fail(call, fmt::format("{} region(s) unmapped with {} of {} budget bytes mapped: nothing but a growth over the "
                           "budget unmaps",
                           after.regions_unmapped, after.virtual_bytes, after.budget_bytes));
  }
  for (std::size_t c = 0; c < kSizeClassCount; ++c) {
    const SizeClassStats& s = after.classes[c];
    std::size_t active = 0, freed = 0;
    std::size_t live = 0;
    for (const auto& [id, region] : regions_) {
      if (region.size_class != static_cast<int>(c)) continue;
      live += region.live;
      ++(region.active ? active : freed);
    }
    const auto mismatch = [&](const char* what, std::uint64_t seen, std::uint64_t due_value) {
      if (seen != due_value) {
        fail(call, fmt::format("class {} KiB: {} is {}, the model says {}", class_bytes(c) / 1024, what, seen,
                               due_value));
      }
    };
    mismatch("live slices", s.live_slices, live);
    mismatch("active regions", s.active_regions, active);
    mismatch("freed regions (released, queued for reuse)", s.freed_regions, freed);
    mismatch("free slices", s.free_slices, free_slices(static_cast<int>(c)));
    mismatch("cleanups started or refused", s.cleanups_started + s.cleanups_refused, attempts_[c]);
  }
  if (after.regions_reused != regions_reused_) {
    fail(call, fmt::format("regions_reused is {}, the model saw {} freed region(s) handed out of again",
                           after.regions_reused, regions_reused_));
  }
}

}  // namespace segsim::scenarios
