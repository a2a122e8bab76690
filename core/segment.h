// Segment: a handle to one live slice of the SegmentAllocator.
//
// A handle carries which allocator made it, where the slice is (region, slice
// index) and the generation it was allocated under, so release() is O(1) and
// exact: a stale copy of a handle whose slice was released (and perhaps handed
// out again, or whose region was unmapped and mapped anew) is reported as a
// double free instead of freeing someone else's memory, and another
// allocator's handle as an invalid pointer.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "core/size_class.h"

namespace segsim {

class Segment {
 public:
  Segment() = default;  // the null handle

  bool is_null() const noexcept { return data_ == nullptr; }
  std::byte* data() const noexcept { return data_; }
  // The slice's size: the request rounded up to its class.
  std::size_t size() const noexcept { return is_null() ? 0 : class_bytes(size_class_); }
  std::span<std::byte> bytes() const noexcept { return {data_, size()}; }
  int size_class() const noexcept { return size_class_; }
  std::uint32_t generation() const noexcept { return generation_; }
  std::uint32_t region_id() const noexcept { return region_; }
  std::uint32_t slice_index() const noexcept { return slice_; }
  std::uint32_t allocator_id() const noexcept { return allocator_; }
  // Bytes from its region's base to the slice: a region holds slices of one
  // class, one after another from its base.
  std::size_t offset_in_region() const noexcept { return std::size_t{slice_} * size(); }

  friend bool operator==(const Segment&, const Segment&) = default;

  // The handle's ids as two whole words, as they lie in memory: the owner
  // word, allocator | generation << 32, then the place word, region | slice
  // << 32 | size class << 48 (the top byte is spare_, always 0) — the flight
  // recorder's compact slot (flight_recorder.h, owner_word / place_word,
  // which its tests check against this copy).
  void copy_id_words(unsigned char* out) const noexcept {
    static_assert(std::endian::native == std::endian::little, "the words' layout is little-endian");
    static_assert(offsetof(Segment, allocator_) == 8 && offsetof(Segment, generation_) == 12 &&
                      offsetof(Segment, region_) == 16 && offsetof(Segment, slice_) == 20 &&
                      offsetof(Segment, size_class_) == 22 && offsetof(Segment, spare_) == 23 &&
                      sizeof(Segment) == 24,
                  "the id words are the fields in this layout");
    std::memcpy(out, reinterpret_cast<const unsigned char*>(this) + 8, 16);
  }

 private:
  friend class SegmentAllocator;
  Segment(std::byte* data, std::uint32_t allocator, std::uint32_t generation, std::uint32_t region,
          std::uint32_t slice, std::uint8_t size_class) noexcept
      : data_(data), allocator_(allocator), generation_(generation), region_(region),
        slice_(static_cast<std::uint16_t>(slice)), size_class_(size_class) {}

  std::byte* data_ = nullptr;
  std::uint32_t allocator_ = 0;  // SegmentAllocator identity, never 0 for a real handle
  std::uint32_t generation_ = 0;
  std::uint32_t region_ = 0;
  std::uint16_t slice_ = 0;      // regions hold at most 32768 slices (128 MiB / 4 KiB)
  std::uint8_t size_class_ = 0;
  std::uint8_t spare_ = 0;       // a defined last byte: copy_id_words() copies it
};

}  // namespace segsim
