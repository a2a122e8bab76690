// LeafPage (seed KeyValueLeafPage): a page's slots and DeweyIDs, stored in
// segments of the SegmentAllocator.
//
// Values are appended into the slot segment; an offset table (-1 = unset)
// and a length table locate each slot, so reads never touch unwritten memory.
// A page without DeweyIDs *shares* its slot segment as its DeweyID memory (the
// seeds' common case); the first DeweyID written gives it its own segment.
// When a write does not fit, the memory grows to the smallest class that
// holds the live bytes (compacted): allocate, copy, release the old segment,
// and move *both* references when they were shared (seed 001's fix). Past
// the largest class the write fails and the page is unchanged.
//
// Lifecycle (seed 001): return_segments() gives the segments back exactly
// once, however many threads call it; clear() never touches returned
// segments; reset_for_reuse() makes a page usable again (fresh or zeroed
// segments) and re-arms the returned flag.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/platform/mutex.h"
#include "core/result.h"
#include "core/segment.h"
#include "core/segment_allocator.h"

namespace segsim {

struct LeafPageConfig {
  std::size_t slot_count = 1024;                  // slots (and DeweyIDs) per page
  std::size_t initial_bytes = 4 * 1024;           // first slot segment's request
  std::size_t max_value_bytes = 64 * 1024;        // one slot's value, at most
};

class LeafPage {
 public:
  // A page with fresh segments. OutOfBudget / OutOfMemory from the allocator.
  static Result<std::unique_ptr<LeafPage>> create(SegmentAllocator& allocator, LeafPageConfig config,
                                                  std::uint64_t page_id);
  ~LeafPage();  // returns its segments if still held
  LeafPage(const LeafPage&) = delete;
  LeafPage& operator=(const LeafPage&) = delete;

  // Writes slot `slot`. SlotOutOfRange, ValueTooLarge (over max_value_bytes),
  // PageFull (the live values would pass the largest class), PageReturned
  // (segments returned), or the allocator's error if growing fails. Every
  // refusal leaves the page unchanged: each slot still reads its old value.
  Status set_slot(std::size_t slot, std::span<const std::byte> value);
  // The slot's value, empty when unset or past the last slot (slot_count()
  // and on). Valid until the next write or reset.
  std::span<const std::byte> get_slot(std::size_t slot) const;
  Status set_dewey_id(std::size_t slot, std::span<const std::byte> dewey_id);
  std::span<const std::byte> get_dewey_id(std::size_t slot) const;

  // Gives both segments back to the allocator once; later calls do nothing.
  Status return_segments();
  // Forgets every slot; never touches segments already returned.
  void clear();
  // Makes the page usable again: zeroes held segments through the
  // allocator's reset policy, or allocates fresh ones after a return.
  Status reset_for_reuse(std::uint64_t page_id);

  std::uint64_t page_id() const noexcept { return page_id_; }
  bool segments_returned() const;
  bool dewey_ids_shared() const;
  std::size_t memory_bytes() const;  // bytes of segments held (a shared segment counted once)
  std::size_t slot_count() const noexcept { return config_.slot_count; }
  Segment slot_segment() const;
  Segment dewey_segment() const;

 private:
  // One area (slots or DeweyIDs): where values are, and how much is used.
  struct Table {
    std::vector<std::int32_t> offset;  // -1 = unset
    std::vector<std::uint32_t> length;
    std::size_t used_bytes = 0;
    void reset(std::size_t slots);
    std::size_t live_bytes() const;
  };
  // Which area a write or a grow works on: it selects both the table and the
  // segment holding its values.
  enum class Area { Slots, DeweyIds };
  Table& table_of(Area area) { return area == Area::Slots ? slots_ : dewey_ids_; }
  Segment& memory_of(Area area) { return area == Area::Slots ? slot_memory_ : dewey_memory_; }

  LeafPage(SegmentAllocator& allocator, LeafPageConfig config, std::uint64_t page_id);
  Status check_write(std::size_t slot, std::size_t value_bytes) const;
  Status write(Area area, std::size_t slot, std::span<const std::byte> value);
  Status write_dewey_id(std::size_t slot, std::span<const std::byte> dewey_id);  // mu_ held
  Status reset_locked(std::uint64_t page_id);                                   // mu_ held
  Status grow(Area area, std::size_t needed_bytes, std::size_t overwritten_slot);
  Status allocate_segments();
  std::span<const std::byte> read(const Table& table, const Segment& memory, std::size_t slot) const;

  SegmentAllocator& allocator_;
  const LeafPageConfig config_;
  mutable platform::Mutex mu_;  // guards everything below
  std::uint64_t page_id_;
  Segment slot_memory_;
  Segment dewey_memory_;  // == slot_memory_ while shared
  Table slots_;
  Table dewey_ids_;
  bool segments_returned_ = false;
};

}  // namespace segsim
