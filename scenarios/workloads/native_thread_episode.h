// The native-thread episode's thread side (native_thread.h): the model the
// real thread keeps of what it holds, and its calls, each checked against
// that model as it returns. Internal to the episode: native_thread.cpp (the
// phases and the driver), native_thread_segments.cpp (SegmentAllocator's
// calls), native_thread_objects.cpp (SlabAllocator's).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/segment_allocator.h"
#include "core/slab_allocator.h"
#include "scenarios/workloads/native_thread_checks.h"

namespace segsim::scenarios {

// Keeps SegmentObserver's default was_reset / refused: a reset and a refused
// call reach the defaults, which must change nothing the model sees.
class NativeLiveSlices final : public SegmentObserver {
 public:
  void handing_out(const Segment& segment) override;
  void handed_out(const Segment& segment, bool zeroed) override;
  void released(const Segment& segment) override;
  void note(const std::string& what);
  std::map<const std::byte*, std::uint32_t> live;
  std::uint64_t handed = 0, releases = 0;
  std::string problem;
};

struct NativeHeldSegment {
  Segment segment;
  std::uint8_t fill = 0;
};
struct NativeHeldObject {
  SlabObject object;
  std::uint8_t fill = 0;
};

// What the thread does; failures are collected (an oracle's fail() throws,
// and must not on a thread or in a thread_local destructor).
struct NativeEpisode : NativeEpisodeCounts {
  SegmentAllocator* segments = nullptr;
  SlabAllocator* slab = nullptr;  // null: segments only
  NativeLiveSlices* observer = nullptr;
  std::vector<std::size_t> segment_sizes, object_sizes, late_segment_sizes, late_object_sizes;
  bool zeroed_first = true;
  bool faults_lifted = false;  // the run's fault-point controller lifted while the thread runs
  std::vector<NativeHeldSegment> segments_live;
  std::vector<NativeHeldObject> objects_live;
  std::uint8_t next_fill = 0;
  std::vector<std::string> failures;

  void fail(std::string what) {
    if (failures.size() < 8) failures.push_back(std::move(what));
  }
  std::uint8_t fill() { return static_cast<std::uint8_t>(1 + next_fill++ % 250); }
  // A block just handed out (segment or slab object): it overlaps no live
  // block and is not poisoned. It is filled with a fresh byte, returned.
  std::uint8_t take_new_block(std::byte* data, std::size_t size, std::size_t bytes, const char* what,
                              const char* phase);
  bool overlaps(const std::byte* data, std::size_t bytes) const;
  void check_bytes(const std::byte* data, std::size_t bytes, std::uint8_t want, const char* what);

  // ---- segments (native_thread_segments.cpp)
  void allocate_segment(std::size_t bytes, bool zeroed, const char* phase);
  void release_segment(std::size_t index, const char* phase);
  void reset_segment(NativeHeldSegment& held, const char* phase);
  void lookup_segment(const NativeHeldSegment& held, const char* phase);
  // Forged handles of a live segment (forged_handles.h): each is refused by
  // its rule — the hit path's handle checks decline it first when it runs —
  // and changes no slice count; the segment stays live.
  void forged_releases(const Segment& live, const char* phase);
  // A reclaim on another thread (free_unused_regions) cannot reach this
  // thread's cache: it leaves the cached slices where they are and bumps the
  // flush epoch, and this thread empties its cache at its next call — the
  // hit paths decline on the epoch and the slow path flushes. Checked for an
  // allocation and for a release, each after a reclaim; the flush counts
  // only with the run's fault points lifted (a fault may bypass the cache).
  void reclaim_elsewhere();
  void reclaim_while_cached(const char* phase);

  // ---- slab objects (native_thread_objects.cpp)
  void allocate_object(std::size_t bytes, const char* phase);
  // `through_lookup`: freed through the handle lookup() gives, which names no
  // cache, so a cached free of it counts as remote (slab_allocator.h).
  void free_object(std::size_t index, const char* phase, bool through_lookup = false);
  // A fresh thread whose first call frees the newest object this thread
  // holds: its new cache's loaded magazine has the class's capacity, so the
  // free is fast and remote, with no depot exchange (slab_allocator.h).
  void free_object_on_a_fresh_thread(const char* phase);

  // ---- the two phases (native_thread.cpp)
  void cached_phase();
  // From a thread_local destructor that runs after the cache tables are gone.
  void late_phase();
};

}  // namespace segsim::scenarios
