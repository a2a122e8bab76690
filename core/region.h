// Region: one mapping of region_bytes, sliced for a single size class, and
// RegionTable, the allocator's stable-id table of them. Internal to the
// SegmentAllocator (segment_*.cpp): every field except the immutable
// `size_class` is guarded by the owning class's mutex.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/assert.h"
#include "core/os.h"

namespace segsim {
struct AuditSeam;  // the audit episode's test-only seam (scenarios/workloads/audit_episode.cpp)
}  // namespace segsim

namespace segsim::detail {

enum class RegionState : std::uint8_t {
  Unused,     // slot without a mapping (never mapped, or unmapped); reusable by its class
  Active,     // mapped; slices live or pooled
  Releasing,  // detached by a cleanup while madvise(DONTNEED) runs
  Freed,      // physical memory released; queued for reuse by its class
  Unmapping,  // detached while munmap runs
};

// A slice's state. `generation` is atomic: a thread cache's release checks and
// frees a handle with one compare-exchange on it, without the class lock
// (core/segment_thread_cache.cpp); every other field is lock-guarded.
struct SliceState {
  std::atomic<std::uint32_t> generation{0};  // 0 = free or cached; otherwise the live handle's
  bool zero = true;                          // known to read all zero (fresh mapping or DONTNEED)
  bool touched = false;                      // may be resident (handed out since mapped / DONTNEED)
  std::uint16_t owner_cache = 0;             // low bits of the thread cache that handed it out; 0: none
  void reset() noexcept {
    generation.store(0, std::memory_order_relaxed);
    zero = true;
    touched = false;
    owner_cache = 0;
  }
};

class Region {
 public:
  // Gives the slot its class on first use; a slot never changes class.
  void assign_class(int size_class, std::size_t slice_bytes, std::size_t region_bytes);
  // A new mapping at `base`: every slice free, zero and untouched.
  void install(std::byte* base);
  // The mapping is gone (every slice free); the slot keeps its class.
  void uninstall();

  // madvise(DONTNEED) over the whole region. Reads only base/bytes, so it may
  // run outside the class lock while the region is detached (Releasing).
  OsStatus release_physical(Os& os) const;
  // After a successful release_physical: every slice zero and untouched.
  void mark_physical_released();

  // Hot path (allocate / release): defined inline below.
  std::uint32_t pop_free();
  void push_free(std::uint32_t slice);
  // nullptr while unmapped (a stale handle's region may be), never null + offset.
  std::byte* slice_data(std::uint32_t slice) const {
    std::byte* const b = base();
    return b == nullptr ? nullptr : b + std::size_t{slice} * slice_bytes_;
  }
  // The slice `data` starts in the current mapping; -1 if none.
  std::int64_t slice_of(const std::byte* data) const;

  bool all_free() const { return free_count_ == slice_count_; }
  bool mapped() const { return base() != nullptr; }

  int size_class = -1;
  RegionState state = RegionState::Unused;
  bool in_partial_list = false;

  // Relaxed atomic: a thread cache's lock-free release compares a handle's
  // address with it; a live handle's region cannot change meanwhile.
  std::byte* base() const { return base_.load(std::memory_order_relaxed); }
  std::size_t bytes() const { return region_bytes_; }
  std::size_t slice_bytes() const { return slice_bytes_; }
  std::uint32_t slice_count() const { return slice_count_; }
  std::uint32_t free_count() const { return free_count_; }
  std::uint32_t touched_count() const { return touched_count_; }
  // Always checked: one compare with a field the callers have just read.
  SliceState& slice(std::uint32_t i) {
    SEGSIM_ASSERT(i < slice_count_, "slice index out of range");
    return slices_[i];
  }
  const SliceState& slice(std::uint32_t i) const {
    SEGSIM_ASSERT(i < slice_count_, "slice index out of range");
    return slices_[i];
  }
  const std::vector<std::uint32_t>& free_stack() const { return free_stack_; }
  void note_touched() { ++touched_count_; }

 private:
  friend struct ::segsim::AuditSeam;  // breaks the free stack to prove audit() names it
  std::atomic<std::byte*> base_{nullptr};
  std::size_t region_bytes_ = 0;
  std::size_t slice_bytes_ = 0;
  std::uint32_t slice_count_ = 0;
  std::uint32_t free_count_ = 0;
  std::uint32_t touched_count_ = 0;
  std::vector<std::uint32_t> free_stack_;  // pop from the back
  std::vector<SliceState> slices_;
};

// Region slots addressed by stable ids. Appending is serialised by the
// caller; get() may run concurrently with an append (chunks never move).
class RegionTable {
 public:
  explicit RegionTable(std::uint32_t capacity);
  std::uint32_t capacity() const { return capacity_; }
  // A new slot for `size_class`, assigned before it becomes visible to get().
  // Its id, or UINT32_MAX when the table is full. Caller-serialised.
  std::uint32_t append(int size_class, std::size_t slice_bytes, std::size_t region_bytes);
  // The slot, or null for an id never appended. Hot path: inline below.
  Region* get(std::uint32_t id) const;
  Region& at(std::uint32_t id) const;
  std::uint32_t size() const { return published_.load(std::memory_order_acquire); }

 private:
  static constexpr std::uint32_t kChunkSlots = 64;
  std::uint32_t capacity_;
  std::uint32_t chunk_count_;  // of kChunkSlots slots each: the fewest that hold capacity_
  std::unique_ptr<std::unique_ptr<Region[]>[]> chunks_;
  // A publication counter, not program logic: ids reach readers through
  // handles made after publication, so interleavings around it are not worth
  // exploring and it is a plain std::atomic, not a scheduling point.
  std::atomic<std::uint32_t> published_{0};
};

inline std::uint32_t Region::pop_free() {
  SEGSIM_ASSERT(!free_stack_.empty() && free_count_ > 0, "pop from a full region");
  const std::uint32_t slice = free_stack_.back();
  SEGSIM_ASSERT(slice < slice_count_, "free stack holds a slice out of range");
  free_stack_.pop_back();
  --free_count_;
  return slice;
}

inline void Region::push_free(std::uint32_t slice) {
  SEGSIM_ASSERT(slice < slice_count_ && free_count_ < slice_count_, "push to a free region");
  SEGSIM_DEBUG_ASSERT(std::find(free_stack_.begin(), free_stack_.end(), slice) == free_stack_.end(),
                      "a slice pushed twice on the free stack");
  free_stack_.push_back(slice);
  ++free_count_;
}

inline Region* RegionTable::get(std::uint32_t id) const {
  if (id >= published_.load(std::memory_order_acquire)) return nullptr;
  return &chunks_[id / kChunkSlots][id % kChunkSlots];
}

inline Region& RegionTable::at(std::uint32_t id) const {
  Region* region = get(id);
  SEGSIM_ASSERT(region != nullptr, "region id out of range");
  return *region;
}

}  // namespace segsim::detail
