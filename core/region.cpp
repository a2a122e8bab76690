#include "core/region.h"

#include "core/assert.h"

namespace segsim::detail {

void Region::assign_class(int cls, std::size_t slice_bytes, std::size_t region_bytes) {
  SEGSIM_ASSERT(size_class == -1, "a region slot never changes class");
  SEGSIM_ASSERT(slice_bytes > 0 && region_bytes % slice_bytes == 0, "region must hold whole slices");
  SEGSIM_ASSERT(region_bytes / slice_bytes <= UINT16_MAX + std::size_t{1},
                "more slices than a 16-bit cached slice index can name");
  size_class = cls;
  slice_bytes_ = slice_bytes;
  region_bytes_ = region_bytes;
  slice_count_ = static_cast<std::uint32_t>(region_bytes / slice_bytes);
  slices_ = std::vector<SliceState>(slice_count_);
  free_stack_.reserve(slice_count_);
}

void Region::install(std::byte* base) {
  SEGSIM_ASSERT(base != nullptr && !mapped(), "install over a live mapping");
  SEGSIM_ASSERT(state == RegionState::Unused, "install of a slot in use");
  base_.store(base, std::memory_order_relaxed);
  free_count_ = slice_count_;
  touched_count_ = 0;
  for (SliceState& s : slices_) s.reset();
  free_stack_.clear();
  // Pop order 0, 1, 2, ...: the stack holds the highest index at the bottom.
  for (std::uint32_t i = slice_count_; i > 0; --i) free_stack_.push_back(i - 1);
  SEGSIM_ASSERT(free_stack_.size() == slice_count_, "a new mapping's free stack does not hold each slice once");
  state = RegionState::Active;
}

void Region::uninstall() {
  SEGSIM_ASSERT(mapped(), "uninstall without a mapping");
  SEGSIM_ASSERT(all_free(), "unmapping a region with live slices");
  base_.store(nullptr, std::memory_order_relaxed);
  // The counts stay as they were: nothing reads an unused slot's, and
  // install() starts them afresh.
  state = RegionState::Unused;
}

OsStatus Region::release_physical(Os& os) const {
  SEGSIM_ASSERT(mapped(), "release_physical without a mapping");
  return os.advise(base(), region_bytes_, Advice::DontNeed);
}

void Region::mark_physical_released() {
  SEGSIM_ASSERT(all_free(), "releasing physical memory under live slices");
  for (SliceState& s : slices_) {
    s.zero = true;
    s.touched = false;
  }
  touched_count_ = 0;
}

std::int64_t Region::slice_of(const std::byte* data) const {
  const std::byte* base = this->base();
  if (base == nullptr || data < base || data >= base + region_bytes_) return -1;
  std::size_t offset = static_cast<std::size_t>(data - base);
  if (offset % slice_bytes_ != 0) return -1;
  SEGSIM_ASSERT(offset / slice_bytes_ < slice_count_, "an address inside the mapping past its last slice");
  return static_cast<std::int64_t>(offset / slice_bytes_);
}

RegionTable::RegionTable(std::uint32_t capacity)
    : capacity_(capacity),
      chunk_count_((capacity + kChunkSlots - 1) / kChunkSlots),
      chunks_(std::make_unique<std::unique_ptr<Region[]>[]>(chunk_count_)) {
  SEGSIM_ASSERT(std::uint64_t{chunk_count_} * kChunkSlots >= capacity_ &&
                    (chunk_count_ == 0 || std::uint64_t{chunk_count_ - 1} * kChunkSlots < capacity_),
                "the table's chunks do not hold exactly its capacity");
}

std::uint32_t RegionTable::append(int size_class, std::size_t slice_bytes,
                                  std::size_t region_bytes) {
  std::uint32_t id = published_.load(std::memory_order_relaxed);
  if (id >= capacity_) return UINT32_MAX;
  SEGSIM_ASSERT(id / kChunkSlots < chunk_count_, "appending past the table's last chunk");
  SEGSIM_ASSERT(id % kChunkSlots == 0 || chunks_[id / kChunkSlots] != nullptr, "appending into a chunk never made");
  if (id % kChunkSlots == 0) chunks_[id / kChunkSlots] = std::make_unique<Region[]>(kChunkSlots);
  chunks_[id / kChunkSlots][id % kChunkSlots].assign_class(size_class, slice_bytes, region_bytes);
  published_.store(id + 1, std::memory_order_release);
  return id;
}

}  // namespace segsim::detail
