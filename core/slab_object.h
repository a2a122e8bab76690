// SlabObject: a handle to one live object of a SlabAllocator, and the slab
// size classes (seed 004 M001).
//
// Like a Segment, a handle carries which allocator made it, where the object
// is (slab slot, index), the slab's epoch (the slot's incarnation) and the
// object's generation, so free() is O(1), lock-free and exact: a stale copy of
// a freed handle is a DoubleFree, another allocator's handle or a forged one
// is an InvalidPointer — never someone else's memory freed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace segsim {

// The nine slab classes, named for the database objects the seed sizes them for.
inline constexpr std::size_t kSlabClassCount = 9;
inline constexpr std::array<std::size_t, kSlabClassCount> kSlabClassBytes = {
    64,    // lock entries
    128,   // page headers
    192,   // version records
    256,   // small rows
    384,   // transaction metadata
    512,   // rows, index nodes
    1024,  // rows
    2048,  // index nodes
    4096,  // large index nodes
};
inline constexpr std::size_t kSlabLargestObjectBytes = kSlabClassBytes.back();

constexpr std::size_t slab_class_bytes(std::size_t slab_class) noexcept { return kSlabClassBytes[slab_class]; }

// The class a request of `bytes` rounds up to, or -1 for 0 or > 4096 bytes.
constexpr int slab_class_of(std::size_t bytes) noexcept {
  if (bytes == 0) return -1;
  for (std::size_t c = 0; c < kSlabClassCount; ++c) {
    if (bytes <= kSlabClassBytes[c]) return static_cast<int>(c);
  }
  return -1;
}

static_assert(slab_class_of(1) == 0 && slab_class_of(64) == 0 && slab_class_of(65) == 1);
static_assert(slab_class_of(193) == 3 && slab_class_of(4096) == 8 && slab_class_of(4097) == -1);

class SlabObject {
 public:
  SlabObject() = default;  // the null handle

  bool is_null() const noexcept { return data_ == nullptr; }
  std::byte* data() const noexcept { return data_; }
  // The object's size: the request rounded up to its class.
  std::size_t size() const noexcept { return is_null() ? 0 : slab_class_bytes(size_class_); }
  std::span<std::byte> bytes() const noexcept { return {data_, size()}; }
  int size_class() const noexcept { return size_class_; }
  std::uint32_t allocator_id() const noexcept { return allocator_; }
  std::uint32_t slab_id() const noexcept { return slab_; }
  std::uint32_t slab_epoch() const noexcept { return epoch_; }
  std::uint32_t index() const noexcept { return index_; }
  std::uint32_t generation() const noexcept { return generation_; }
  // The thread cache that handed it out (for remote-free accounting).
  std::uint32_t cache_id() const noexcept { return cache_; }

  friend bool operator==(const SlabObject&, const SlabObject&) = default;

 private:
  friend class SlabAllocator;
  friend struct SlabAccess;
  std::byte* data_ = nullptr;
  std::uint32_t allocator_ = 0;
  std::uint32_t slab_ = 0;
  std::uint32_t epoch_ = 0;
  std::uint32_t generation_ = 0;  // odd while live
  std::uint32_t cache_ = 0;
  std::uint16_t index_ = 0;
  std::uint8_t size_class_ = 0;
};

}  // namespace segsim
