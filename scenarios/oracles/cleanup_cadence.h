// cleanup-cadence: a SegmentAllocator starts its proactive cleanup when the
// header says it must (core/segment_allocator.h, "Proactive cleanup"), and the
// cleanup releases what it must — not merely correctly.
//
// A cleanup that starts on the wrong release, never, or on every one, hands
// every caller right results: only memory or speed is lost, and no other
// oracle sees it. This model follows one fiber's calls on an allocator that
// only it uses, without thread caches and with no fault point able to fire,
// and predicts:
//  * the free slices of each class: every slice of an active region not live
//    (a region mapped or reused counts all its slices; a released one none);
//  * a release that leaves a class with f free slices is due a cleanup when
//    proactive_cleanup is set and f > cleanup_start_free_slices and
//    (f - start) is a multiple of cleanup_every_free_slices; a due cleanup
//    with none of its class in flight is started (or refused by a full
//    queue: one of the two, once); with one in flight it may be (when that
//    one finished meanwhile) or not; a release not due starts none;
//  * a cleanup that ran with nothing in between releases exactly the class's
//    regions with no live slice: they leave the active regions for the freed
//    ones, their slices leave the free count (freed_regions counts them, and
//    regions_reused each one a slice is handed out of again).
// Checked after every call against stats(), class by class (the episode stays
// so far under its budget that no growth unmaps a region).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "core/allocator_stats.h"
#include "core/segment.h"
#include "core/segment_allocator.h"
#include "scenarios/oracles/oracles.h"

namespace segsim::scenarios {

class CleanupCadenceModel {
 public:
  CleanupCadenceModel(Oracles& oracles, const SegmentAllocatorConfig& config);

  void allocated(const Segment& got, const AllocatorStats& after);
  // A release of a live handle; `before` is the snapshot taken just before
  // it, `after` one taken once wait_for_cleanups() returned: a cleanup it
  // started has run, with no call in between.
  void released(const Segment& segment, const AllocatorStats& before, const AllocatorStats& after);
  // Two releases of different classes back to back, with no wait between:
  // the second may find the first's cleanup still queued, and a full queue
  // refuses its own (one attempt all the same). `before` is one snapshot
  // taken before both (the first changes no field of the second's class),
  // `after` one taken once wait_for_cleanups() returned after both.
  void released_together(const Segment& first, const Segment& second, const AllocatorStats& before,
                         const AllocatorStats& after);

  std::size_t free_slices(int size_class) const;
  // The smallest number of further releases of `size_class` after which a
  // cleanup is due, or 0 when none will ever be.
  std::size_t releases_to_next_due(int size_class) const;

 private:
  struct RegionModel {
    int size_class = 0;
    std::size_t live = 0;
    bool active = false;
  };
  std::uint64_t regions_reused_ = 0;  // freed regions a slice was handed out of again
  bool due(std::size_t free) const;
  // The model's side of a release, unchecked (released() checks after it).
  void note_release(const Segment& segment, const AllocatorStats& before, const AllocatorStats& after);
  void check(const char* call, const AllocatorStats& after);
  [[noreturn]] void fail(const char* call, const std::string& what);

  Oracles& oracles_;
  SegmentAllocatorConfig config_;
  std::map<std::uint32_t, RegionModel> regions_;
  std::array<std::uint64_t, kSizeClassCount> attempts_{};  // cleanups started or refused
  std::uint64_t calls_ = 0;
};

}  // namespace segsim::scenarios
