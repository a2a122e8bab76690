// Segment: a handle to one live slice of the SegmentAllocator.
//
// A handle carries which allocator made it, where the slice is (region, slice
// index) and the generation it was allocated under, so release() is O(1) and
// exact: a stale copy of a handle whose slice was released (and perhaps handed
// out again, or whose region was unmapped and mapped anew) is reported as a
// double free instead of freeing someone else's memory, and another
// allocator's handle as an invalid pointer.
#pragma once

#include <cstddef>
#include <cstdint>
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
  std::uint8_t spare_ = 0;       // a defined last byte (a handle is compared and copied whole)
};

}  // namespace segsim
