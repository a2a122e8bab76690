#include "core/leaf_page.h"

#include <algorithm>
#include <cstring>

#include "core/assert.h"
#include "core/flight_recorder.h"
#include "core/mutants.h"
#include "core/mutants/sites.h"
#include "core/probe.h"

namespace segsim {

namespace {
// One page operation for the flight recorder, inside the page's lock (so two
// threads' operations on one page are stamped in their order).
void record(flight_recorder::Op op, std::uint64_t page_id, std::size_t slot, std::size_t bytes,
            const Status& status) noexcept {
  if (!flight_recorder::on()) return;
  flight_recorder::record_page_operation(op, page_id, static_cast<std::uint32_t>(slot), bytes,
                                         status.ok() ? nullptr : &status.error());
}
}  // namespace

void LeafPage::Table::reset(std::size_t slots) {
  SEGSIM_ASSERT(slots > 0, "a slot table without slots");
  offset.assign(slots, -1);
  length.assign(slots, 0);
  used_bytes = 0;
  SEGSIM_ASSERT(offset.size() == slots && length.size() == slots, "a slot table's columns not one entry per slot");
}

std::size_t LeafPage::Table::live_bytes() const {
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < offset.size(); ++i) bytes += offset[i] >= 0 ? length[i] : 0;
  return bytes;
}

Result<std::unique_ptr<LeafPage>> LeafPage::create(SegmentAllocator& allocator, LeafPageConfig config,
                                                   std::uint64_t page_id) {
  if (config.slot_count == 0 || config.slot_count > 65536) {
    SEGSIM_PROBE("page.create.invalid_config");
    return make_error(Errc::InvalidConfig, "slot_count must be in 1..65536");
  }
  if (class_of(config.initial_bytes) < 0 || class_of(config.max_value_bytes) < 0) {
    SEGSIM_PROBE("page.create.invalid_config");
    return make_error(Errc::InvalidConfig, "initial_bytes and max_value_bytes must be 1..256 KiB");
  }
  std::unique_ptr<LeafPage> page(new LeafPage(allocator, config, page_id));
  Status allocated = page->allocate_segments();
  if (!allocated.ok()) {
    SEGSIM_PROBE("page.create.allocation_failed");
    page->segments_returned_ = true;  // nothing held
    return allocated.error();
  }
  return page;
}

LeafPage::LeafPage(SegmentAllocator& allocator, LeafPageConfig config, std::uint64_t page_id)
    : allocator_(allocator), config_(config), page_id_(page_id) {
  slots_.reset(config_.slot_count);
  dewey_ids_.reset(config_.slot_count);
}

LeafPage::~LeafPage() {
  // A destructor has nobody to report to; a failed return is an allocator
  // bug that the allocator itself counts (double_frees / invalid_pointers).
  (void)return_segments();
}

Status LeafPage::allocate_segments() {
  auto slots = allocator_.allocate(config_.initial_bytes);
  if (!slots.ok()) return slots.error();
  slot_memory_ = slots.value();
  SEGSIM_ASSERT(slot_memory_.data() != nullptr && slot_memory_.size() >= config_.initial_bytes,
                "the slot segment is smaller than initial_bytes");
  dewey_memory_ = slot_memory_;  // shared until a DeweyID is written
  return {};
}

std::span<const std::byte> LeafPage::read(const Table& table, const Segment& memory,
                                          std::size_t slot) const {
  if (slot >= table.offset.size()) return {};
  // at(): the test above is the only guard of the table's end, so a weakened
  // one throws instead of reading past it.
  const std::int32_t slot_offset = table.offset.at(slot);
  if (slot_offset < 0) return {};
  SEGSIM_ASSERT(!segments_returned_, "reading a slot of a page whose segments were returned");
  const auto offset = static_cast<std::size_t>(slot_offset);
  const std::size_t length = table.length.at(slot);
  SEGSIM_ASSERT(offset + length <= memory.size(), "slot outside its segment");
  return {memory.data() + offset, length};
}

std::span<const std::byte> LeafPage::get_slot(std::size_t slot) const {
  platform::LockGuard guard(mu_);
  return read(slots_, slot_memory_, slot);
}

std::span<const std::byte> LeafPage::get_dewey_id(std::size_t slot) const {
  platform::LockGuard guard(mu_);
  return read(dewey_ids_, dewey_memory_, slot);
}

Status LeafPage::set_slot(std::size_t slot, std::span<const std::byte> value) {
  flight_recorder::Scope recorded;
  platform::LockGuard guard(mu_);
  Status written = write(Area::Slots, slot, value);
  record(flight_recorder::Op::PageSetSlot, page_id_, slot, value.size(), written);
  return written;
}

// The refusals every write checks first, before anything changes.
Status LeafPage::check_write(std::size_t slot, std::size_t value_bytes) const {
  if (slot >= config_.slot_count) {
    SEGSIM_PROBE("page.write.slot_out_of_range");
    return make_error(Errc::SlotOutOfRange, "slot index out of range");
  }
  if (value_bytes > config_.max_value_bytes) {
    SEGSIM_PROBE("page.write.value_too_large");
    return make_error(Errc::ValueTooLarge, "value larger than max_value_bytes");
  }
  if (segments_returned_) {
    SEGSIM_PROBE("page.write.after_return");
    return make_error(Errc::PageReturned, "write to a page whose segments were returned");
  }
  return {};
}

Status LeafPage::set_dewey_id(std::size_t slot, std::span<const std::byte> dewey_id) {
  flight_recorder::Scope recorded;
  platform::LockGuard guard(mu_);
  Status written = write_dewey_id(slot, dewey_id);
  record(flight_recorder::Op::PageSetDeweyId, page_id_, slot, dewey_id.size(), written);
  return written;
}

Status LeafPage::write_dewey_id(std::size_t slot, std::span<const std::byte> dewey_id) {
  // Refused before unsharing: a refused write leaves the page as it was.
  if (Status refused = check_write(slot, dewey_id.size()); !refused.ok()) return refused;
  if (!segments_returned_ && dewey_memory_ == slot_memory_) {
    // First DeweyID: the page gets its own DeweyID segment.
    SEGSIM_PROBE("page.dewey.unshared");
    auto own = allocator_.allocate(std::max(dewey_id.size(), config_.initial_bytes));
    if (!own.ok()) {
      SEGSIM_PROBE("page.dewey.allocation_failed");
      return own.error();
    }
    dewey_memory_ = own.value();
    SEGSIM_ASSERT(dewey_memory_.size() >= dewey_id.size(), "a DeweyID segment smaller than the DeweyID");
  }
  return write(Area::DeweyIds, slot, dewey_id);
}

Status LeafPage::write(Area area, std::size_t slot, std::span<const std::byte> value) {
  if (Status refused = check_write(slot, value.size()); !refused.ok()) return refused;
  Table& table = table_of(area);
  SEGSIM_ASSERT(slot < table.offset.size() && table.length.size() == table.offset.size(),
                "a table shorter than the page's slot count, or its columns of different lengths");
  if (value.empty()) SEGSIM_PROBE("page.write.empty_value");
  if (value.size() == config_.max_value_bytes) SEGSIM_PROBE("page.write.max_value");
  if (table.used_bytes + value.size() > memory_of(area).size()) {
    // The old value of this slot is garbage once rewritten: not counted.
    const std::size_t old = table.offset[slot] >= 0 ? table.length[slot] : 0;
    Status grown = grow(area, table.live_bytes() - old + value.size(), slot);
    if (!grown.ok()) return grown;
  }
  const Segment& target = memory_of(area);
  SEGSIM_ASSERT(table.used_bytes + value.size() <= target.size(), "grow left no room");
  // Offsets are 32-bit: a segment is at most 256 KiB.
  SEGSIM_ASSERT(table.used_bytes <= static_cast<std::size_t>(INT32_MAX), "offset past 32 bits");
  if (!value.empty()) std::memcpy(target.data() + table.used_bytes, value.data(), value.size());
  table.offset[slot] = static_cast<std::int32_t>(table.used_bytes);
  table.length[slot] = static_cast<std::uint32_t>(value.size());
  table.used_bytes += value.size();
  return {};
}

// Moves `table`'s live values — but the one about to be overwritten — into
// the smallest class holding `needed_bytes`.
Status LeafPage::grow(Area area, std::size_t needed_bytes, std::size_t overwritten_slot) {
  if (class_of(needed_bytes) < 0) {
    SEGSIM_PROBE("page.grow.page_full");
    return make_error(Errc::PageFull, "values exceed the largest segment class");
  }
  Table& table = table_of(area);
  const Segment old = memory_of(area);
  const bool was_shared = slot_memory_ == dewey_memory_;
  auto fresh = allocator_.allocate_uninitialized(std::max(needed_bytes, old.size()));
  if (!fresh.ok()) {
    SEGSIM_PROBE("page.grow.allocation_failed");
    return fresh.error();  // page unchanged
  }
  if (fresh->size_class() == static_cast<int>(kSizeClassCount) - 1) SEGSIM_PROBE("page.grow.largest_class");
  SEGSIM_ASSERT(fresh->size() >= needed_bytes && overwritten_slot < table.offset.size(),
                "a grown segment smaller than needed, or the overwritten slot out of range");
  // Copy live values compacted, in slot order.
  std::size_t used = 0;
  table.offset[overwritten_slot] = -1;  // after the allocation: a failure changes nothing
  for (std::size_t i = 0; i < table.offset.size(); ++i) {
    if (table.offset[i] < 0) continue;
    SEGSIM_ASSERT(used + table.length[i] <= fresh->size(), "compacted values overflow the new segment");
    std::memcpy(fresh->data() + used, old.data() + table.offset[i], table.length[i]);
    table.offset[i] = static_cast<std::int32_t>(used);
    used += table.length[i];
  }
  SEGSIM_ASSERT(used <= needed_bytes, "compaction kept more bytes than the live values");
  table.used_bytes = used;
  // Both references move when they were one (seed 001: the other would dangle).
  const bool move_both = was_shared && !SEGSIM_MUTANT(ResizeAlias);
  if (move_both) slot_memory_ = dewey_memory_ = fresh.value(); else memory_of(area) = fresh.value();
  if (move_both) {
    SEGSIM_PROBE("page.grow.shared_moved_both");
    // The DeweyID table's values (none while shared) live in the same segment.
    SEGSIM_ASSERT(dewey_ids_.live_bytes() == 0 || area == Area::DeweyIds, "shared memory with DeweyIDs");
  }
  return allocator_.release(old);
}

Status LeafPage::return_segments() {
  flight_recorder::Scope recorded;
  // The historical version took no lock and did not check the returned flag.
  const bool guarded = !SEGSIM_MUTANT(ReturnNotIdempotent);
  platform::UniqueLock lock(mu_, std::defer_lock);
  if (guarded) lock.lock();
  if (guarded && segments_returned_) {  // idempotent: never a double free
    SEGSIM_PROBE("page.return.already_returned");
    record(flight_recorder::Op::PageReturn, page_id_, 0, 0, Status{});
    return {};
  }
  segments_returned_ = true;
  Status first = allocator_.release(slot_memory_);
  Status second = dewey_memory_ == slot_memory_ ? Status{} : allocator_.release(dewey_memory_);
  Status returned = first.ok() ? second : first;
  record(flight_recorder::Op::PageReturn, page_id_, 0, 0, returned);
  return returned;
}

void LeafPage::clear() {
  flight_recorder::Scope recorded;
  platform::LockGuard guard(mu_);
  record(flight_recorder::Op::PageClear, page_id_, 0, 0, Status{});
  // Forget the slots only: zeroing segments here would write memory already
  // handed to someone else once returned (seed 001's SIGSEGV), and is
  // needless otherwise — unset slots are never read.
  slots_.reset(config_.slot_count);
  dewey_ids_.reset(config_.slot_count);
  // The historical version zeroed the memory — returned or not.
  if (SEGSIM_MUTANT(ClearAfterReturn)) mutants::zero_page_memory(slot_memory_, dewey_memory_);
}

Status LeafPage::reset_for_reuse(std::uint64_t page_id) {
  flight_recorder::Scope recorded;
  platform::LockGuard guard(mu_);
  const std::uint64_t old_id = page_id_;
  Status reset = reset_locked(page_id);
  record(flight_recorder::Op::PageReset, old_id, 0, page_id, reset);
  return reset;
}

Status LeafPage::reset_locked(std::uint64_t page_id) {
  if (segments_returned_) {
    SEGSIM_PROBE("page.reuse.after_return");
    Status allocated = allocate_segments();
    if (!allocated.ok()) {  // refused: the page is as it was (returned, nothing held)
      SEGSIM_PROBE("page.reuse.allocation_failed");
      return allocated;
    }
    slots_.reset(config_.slot_count);
    dewey_ids_.reset(config_.slot_count);
    page_id_ = page_id;
    if (!SEGSIM_MUTANT(ReuseFlagNotRearmed)) segments_returned_ = false;  // re-armed: the next return is real
    return {};
  }
  slots_.reset(config_.slot_count);
  dewey_ids_.reset(config_.slot_count);
  page_id_ = page_id;
  SEGSIM_PROBE("page.reuse.zero_held");
  Status zeroed = allocator_.reset(slot_memory_);
  if (!zeroed.ok()) return zeroed;
  return dewey_memory_ == slot_memory_ ? Status{} : allocator_.reset(dewey_memory_);
}

bool LeafPage::segments_returned() const {
  platform::LockGuard guard(mu_);
  return segments_returned_;
}

bool LeafPage::dewey_ids_shared() const {
  platform::LockGuard guard(mu_);
  return dewey_memory_ == slot_memory_;
}

std::size_t LeafPage::memory_bytes() const {
  platform::LockGuard guard(mu_);
  if (segments_returned_) return 0;
  return slot_memory_.size() + (dewey_memory_ == slot_memory_ ? 0 : dewey_memory_.size());
}

Segment LeafPage::slot_segment() const {
  platform::LockGuard guard(mu_);
  return slot_memory_;
}

Segment LeafPage::dewey_segment() const {
  platform::LockGuard guard(mu_);
  return dewey_memory_;
}

}  // namespace segsim
