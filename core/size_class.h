// The seven power-of-two size classes: 4 KiB, 8 KiB, ..., 256 KiB.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

namespace segsim {

inline constexpr std::size_t kSizeClassCount = 7;
inline constexpr std::size_t kSmallestClassBytes = std::size_t{4} << 10;
inline constexpr std::size_t kLargestClassBytes = kSmallestClassBytes << (kSizeClassCount - 1);

constexpr std::size_t class_bytes(std::size_t size_class) noexcept {
  return kSmallestClassBytes << size_class;
}

// The class a request of `bytes` rounds up to, or -1 for 0 or > 256 KiB.
constexpr int class_of(std::size_t bytes) noexcept {
  if (bytes == 0 || bytes > kLargestClassBytes) return -1;
  if (bytes <= kSmallestClassBytes) return 0;
  return static_cast<int>(std::bit_width(bytes - 1)) - 12;  // 4 KiB = 2^12
}

static_assert(class_of(1) == 0 && class_of(4096) == 0 && class_of(4097) == 1);
static_assert(class_of(kLargestClassBytes) == kSizeClassCount - 1);
static_assert(class_of(kLargestClassBytes + 1) == -1 && class_of(0) == -1);

}  // namespace segsim
